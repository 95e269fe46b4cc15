"""The description of one API call that resources build and the client pipeline sends."""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

import attrs

if TYPE_CHECKING:
    from ._client import WonderClient

#: Looks up whether an unsafe call already took effect: given the client and the call's
#: deadline (``time.monotonic()``), returns the envelope ``data`` to answer with, or ``None``
#: when it did not happen (so sending again is safe).
Recover = Callable[["WonderClient", float], Awaitable["dict[str, Any] | None"]]
#: Checks the answer's ``data`` inside the pipeline (raising ResponseValidationError), so a
#: wrong type is handled like any unreadable answer: looked up after a charge, never resent.
Expect = Callable[["dict[str, Any]"], object]

__all__ = ["Request", "dump_json"]


# One encoder for every body: json.dumps with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# ... and JSONEncoder.encode builds a new C encoder per call: build it once (same output; no
# circular-reference bookkeeping, payloads are built by the SDK). Pure-Python json: the above.
_make_c_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODER: Final[Any] = (
    None
    if _make_c_encoder is None
    else _make_c_encoder(
        None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
)


def dump_json(payload: Any) -> bytes:
    """Serialize a request body compactly; these exact bytes are signed and sent."""
    if _C_ENCODER is None:
        return _ENCODER.encode(payload).encode()
    return "".join(_C_ENCODER(payload, 0)).encode()


@attrs.frozen
class Request:
    """One API call before signing: method, path with query, exact body bytes.

    ``idempotent`` says whether repeating it after an ambiguous failure is safe;
    ``reconcile`` is what to tell the caller when an unsafe call failed ambiguously.
    ``signed`` carries headers signed ahead of time (the blocking client signs in the
    calling thread); they are used for the first attempt only. ``operation`` names the SDK
    method (``customers.upsert``) for spans, metrics and log records.

    ``recover`` makes an unsafe call (a charge, refund or void) safe to retry: after every
    failure that may have reached the gateway the pipeline calls it, returns what it found,
    and re-sends only when it found nothing. ``recover_first`` also calls it before the first
    attempt (the caller's own id may have been used by an earlier, crashed run).
    ``expect`` checks the answer's ``data`` before the pipeline accepts it.
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
    recover: Recover | None = attrs.field(default=None, repr=False)
    recover_first: bool = False
    operation: str = ""
    expect: Expect | None = attrs.field(default=None, repr=False)

    @classmethod
    def json(cls, method: str, uri: str, payload: Any, **kw: Any) -> Request:
        """Build a request whose body is ``payload`` as compact JSON."""
        return cls(method, uri, dump_json(payload), **kw)

    def with_signature(self, headers: dict[str, str]) -> Request:
        """This request with ``signed`` set (``attrs.evolve`` costs twice as much)."""
        values = {name: getattr(self, name) for name in _FIELD_NAMES}
        values["signed"] = headers
        return type(self)(**values)  # operation and every other field copied


_FIELD_NAMES: Final = tuple(a.name for a in attrs.fields(Request))
