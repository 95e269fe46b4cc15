"""Raw, bounded, logged calls for ``wonder conformance``.

Every call is signed with the SDK's :class:`~wonder_async._signing.Signer` and sent through
its :class:`~wonder_async._transport.Transport`, so the conformance run sees what the
gateway answered exactly (status, headers, body) instead of what the SDK made of it. A run
has a budget: a deadline per call, a cap on the number of calls and on the total time.
Every request and answer goes to a JSONL log with card numbers, CVVs, keys and signatures
removed (:func:`redact`).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import quote

import attrs

from .._errors import WonderError
from .._signing import Signer
from .._transport import Transport
from .._wire import SUCCESS_CODE, path_segment

__all__ = ["Budget", "BudgetExhausted", "Call", "CallLog", "Caller", "redact", "redact_text"]

# --- redaction ----------------------------------------------------------------------------

_SECRET_KEYS: Final = frozenset({"cvv", "cvc", "cvv2", "security_code", "private_key"})
_SIGNATURE_HEADERS: Final = frozenset({"signature"})
#: 12 to 19 digits, alone or grouped by spaces/dashes as printed: a card number candidate.
_PAN: Final = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
_PEM: Final = re.compile(r"-----BEGIN [A-Z ]*-----[^-]*-----END [A-Z ]*-----", re.S)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def redact_text(text: str) -> str:
    """``text`` with every Luhn-valid card number and every PEM block replaced."""

    def pan(match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group(0))
        return "[card number]" if 12 <= len(digits) <= 19 and _luhn(digits) else match.group(0)

    if "-----BEGIN" in text:
        text = _PEM.sub("[key]", text)
    return _PAN.sub(pan, text)


def redact(value: Any, *, key: str | None = None, parent: str | None = None) -> Any:
    """A copy of a JSON value with secrets removed: CVVs and keys by name, the ``number`` of a
    ``card`` object, and any string holding a card number or a PEM block."""
    if isinstance(value, dict):
        return {k: redact(v, key=str(k), parent=key) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key=key, parent=parent) for v in value]
    if key is not None and key.lower() in _SECRET_KEYS and value is not None:
        return "[redacted]"
    if key == "number" and parent == "card" and value is not None:
        return "[card number]"
    if isinstance(value, str):
        return redact_text(value)
    return value


def fingerprint(value: str) -> str:
    """A short digest that tells two values apart without showing them (signatures)."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as logged: ``Signature`` as a fingerprint, the AppID out of ``Credential``."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _SIGNATURE_HEADERS:
            out[name] = fingerprint(value)
        elif lower == "credential":
            parts = value.split("/")
            out[name] = "/".join(["<app_id>", *parts[1:]]) if len(parts) == 3 else "[redacted]"
        elif lower in {"authorization", "cookie", "set-cookie"}:
            out[name] = "[redacted]"
        else:
            out[name] = redact_text(value)
    return out


# --- one call -------------------------------------------------------------------------------


@attrs.define
class Call:
    """One request of the run and what came back."""

    step: str
    method: str
    uri: str
    request: Any
    request_id: str
    status: int | None = None
    headers: dict[str, str] = attrs.field(factory=dict)
    body: Any = None
    #: The answer's text when it was not JSON (cut to 500 characters).
    text: str | None = None
    #: Why no answer came (a timeout, a refused connection).
    error: str | None = None
    elapsed: float = 0.0

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def code(self) -> Any:
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def error_code(self) -> Any:
        return self.body.get("error_code") if isinstance(self.body, dict) else None

    @property
    def message(self) -> str:
        if not isinstance(self.body, dict):
            return ""
        for key in ("message", "error_message", "error"):
            value = self.body.get(key)
            if value:
                return str(value)
        return ""

    @property
    def ok(self) -> bool:
        """HTTP 2xx with a success envelope (``code`` 200, or absent), no ``error_code``."""
        if self.status is None or not 200 <= self.status < 300:
            return False
        if not isinstance(self.body, dict):
            return False
        code = self.body.get("code")
        return code in (None, SUCCESS_CODE, str(SUCCESS_CODE), 0) and not self.error_code

    @property
    def refused(self) -> bool:
        """Answered, but not a success: HTTP >= 400 or a non-200 ``code``/an ``error_code``."""
        return self.answered and not self.ok

    @property
    def data(self) -> dict[str, Any]:
        data = self.body.get("data") if isinstance(self.body, dict) else None
        return data if isinstance(data, dict) else {}

    @property
    def order(self) -> dict[str, Any] | None:
        order = self.data.get("order")
        return order if isinstance(order, dict) else None

    def summary(self) -> str:
        """``HTTP 200 code 100701 "message"`` (secrets removed), for evidence lines."""
        if self.status is None:
            return f"no answer ({self.error})"
        parts = [f"HTTP {self.status}"]
        if isinstance(self.body, dict):
            if "code" in self.body:
                parts.append(f"code {json.dumps(self.body['code'])}")
            if self.error_code:
                parts.append(f"error_code {json.dumps(self.error_code)}")
            if self.message and not self.ok:
                parts.append(json.dumps(redact_text(self.message[:120])))
        elif self.text is not None:
            parts.append("(not JSON)")
        return " ".join(parts)

    def record(self) -> dict[str, Any]:
        """The log line of this call, secrets removed."""
        return {
            "kind": "call",
            "step": self.step,
            "method": self.method,
            "uri": redact_text(self.uri),
            "request_id": self.request_id,
            "request": redact(self.request),
            "status": self.status,
            "response_headers": redact_headers(self.headers),
            "response": redact(self.body) if self.text is None else None,
            "response_text": None if self.text is None else redact_text(self.text),
            "error": self.error,
            "elapsed_s": round(self.elapsed, 3),
        }


class CallLog:
    """The JSONL log of a run: one line per call or webhook, written as it happens (so an
    interrupted run leaves what it did), every line passed through :func:`redact`."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: IO[str] | None = path.open("a", encoding="utf-8") if path else None

    def write(self, record: Mapping[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(redact(dict(record)), ensure_ascii=False) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class BudgetExhausted(Exception):
    """The run used its calls or its time; the flow stops and cleans up what it can."""


@attrs.define
class Budget:
    """The run's bounds: a deadline per call, at most ``max_calls`` calls and ``max_seconds``."""

    call_timeout: float = 20.0
    max_calls: int = 150
    max_seconds: float = 900.0
    started: float = attrs.field(factory=time.monotonic)
    calls: int = 0
    #: Calls kept back for cleanup once the flow has used the rest.
    reserve: int = 12

    def remaining(self) -> float:
        return self.max_seconds - (time.monotonic() - self.started)

    def take(self, *, cleanup: bool = False) -> float:
        """Count one call; return its deadline. :raises BudgetExhausted: when used up."""
        limit = self.max_calls if cleanup else self.max_calls - self.reserve
        if self.calls >= limit:
            raise BudgetExhausted(f"the cap of {self.max_calls} calls was reached")
        left = self.remaining() + (60.0 if cleanup else 0.0)
        if left <= 0:
            raise BudgetExhausted(f"the cap of {self.max_seconds:g} s was reached")
        self.calls += 1
        return min(self.call_timeout, left)


def _query_string(query: Sequence[tuple[str, str]]) -> str:
    """``k=v&...`` percent-encoded as sent and signed (``[]`` of the filter DSL kept)."""
    return "&".join(f"{quote(k, safe='[]')}={path_segment(v)}" for k, v in query)


class Caller:
    """Signs, sends and logs the run's calls to one base URL within a :class:`Budget`."""

    def __init__(self, base_url: str, signer: Signer, budget: Budget, log: CallLog) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.budget = budget
        self.log = log
        self.transport = Transport(self.base_url, connect_timeout=10.0, pool_size=4)
        self.calls: list[Call] = []

    async def close(self) -> None:
        await self.transport.close()

    async def call(
        self,
        step: str,
        method: str,
        path: str,
        body: Any = None,
        query: Sequence[tuple[str, str]] = (),
        *,
        cleanup: bool = False,
    ) -> Call:
        """Send one signed request; a transport failure is recorded, not raised.

        :raises BudgetExhausted: when the run's calls or time are used up.
        """
        timeout = self.budget.take(cleanup=cleanup)
        uri = path + ("?" + _query_string(query) if query else "")
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        headers = self.signer.sign(method, uri, raw)
        call = Call(step, method, uri, body, headers["X-Request-ID"])
        started = time.monotonic()
        try:
            status, data, resp_headers = await self.transport.send(
                method, uri, raw, headers, timeout
            )
        except WonderError as exc:
            call.error = f"{type(exc).__name__}: {exc}"
        else:
            call.status = status
            call.headers = dict(resp_headers)
            try:
                call.body = json.loads(data.decode()) if data else None
            except ValueError:
                call.text = data.decode(errors="replace")[:500]
        call.elapsed = time.monotonic() - started
        self.calls.append(call)
        self.log.write(call.record())
        return call
