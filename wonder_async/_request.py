"""The description of one API call that resources build and the client pipeline sends."""

from __future__ import annotations

import json
from typing import Any

import attrs

__all__ = ["Request", "dump_json"]


# One encoder for every body: json.dumps with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dump_json(payload: Any) -> bytes:
    """Serialize a request body compactly; these exact bytes are signed and sent."""
    return _ENCODER.encode(payload).encode()


@attrs.frozen
class Request:
    """One API call before signing: method, path with query, exact body bytes.

    ``idempotent`` says whether repeating it after an ambiguous failure is safe;
    ``reconcile`` is what to tell the caller when an unsafe call failed ambiguously.
    ``signed`` carries headers signed ahead of time (the blocking client signs in the
    calling thread); they are used for the first attempt only.
    """

    method: str
    uri: str
    # The body may hold a card number and the headers a signature: never in a repr.
    body: bytes = attrs.field(default=b"", repr=lambda b: f"<{len(b)} bytes>")
    idempotent: bool = True
    reconcile: str | None = None
    signed: dict[str, str] | None = attrs.field(
        default=None, repr=lambda h: "<signed>" if h else "None"
    )

    @classmethod
    def json(cls, method: str, uri: str, payload: Any, **kw: Any) -> Request:
        """Build a request whose body is ``payload`` as compact JSON."""
        return cls(method, uri, dump_json(payload), **kw)
