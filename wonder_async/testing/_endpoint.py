"""The emulator's request pipeline: what every signed API request goes through.

:meth:`EndpointMixin._endpoint` wraps a route's handler: it counts the request, draws and
injects the route's faults (:mod:`._faults`; before processing, or after it for
``reset_after`` and ``truncated``), checks the signature (:mod:`._auth`), settles what is due
(:mod:`._settle`), applies the input rules (:mod:`._rules`; a refusal names the field and the
rule), counts tolerated unknown keys and writes the envelope -- a business refusal as the
``errors`` reading says, an authentication failure always as HTTP 401/403. A path under the
API prefix that no route matches gets a 404 envelope. The route table itself is in
:mod:`._server`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from .._errors import ValidationError
from .._wire import ok_envelope
from . import _rules as rules
from ._auth import AuthMixin
from ._common import FAULT, INVALID, INVALID_CURRENCY, NO_ENDPOINT, Handler, Reject, bad, error_body
from ._payments import PaymentsMixin
from ._rules import parse_body, path_param

__all__ = ["EndpointMixin"]

#: Fault kinds that let the request be processed and spoil only the answer.
_AFTER_FAULTS: Final = frozenset({"reset_after", "truncated"})
#: Distinct unknown fields counted per route (``emu.stats["unknown_keys"]``).
_MAX_UNKNOWN_FIELDS: Final = 200


class EndpointMixin(AuthMixin, PaymentsMixin):
    """The wrapper around every API handler (faults, signature, rules, envelope) and the
    404 envelope of an unknown API path."""

    def _endpoint(
        self, name: str, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def endpoint(request: web.Request) -> web.StreamResponse:
            self.requests[name] += 1
            latency, fault = self.faults.draw(name)
            if latency:
                await asyncio.sleep(latency)
            after = None
            if fault is not None:
                if fault.kind not in _AFTER_FAULTS:
                    return self._early_fault(request, fault.kind, fault.param)
                after = fault.kind
            body = await request.read()
            status = 200
            try:
                self._authenticate(request, body)
                self.settle_due()  # pending charges and voids whose time has come
                unknown: Counter[str] = Counter()
                try:  # the input rules (_rules/): a refusal names the field and the rule
                    with rules.collect_unknown_keys(unknown):
                        payload = parse_body(body)
                        for param, value in request.match_info.items():
                            path_param(param, value)
                        data, status = await handler(request, payload)
                except ValidationError as exc:
                    raise _refusal(exc) from None
                finally:
                    if unknown:
                        self._count_unknown(name, unknown)
                envelope = ok_envelope(data)
            except Reject as exc:
                # errors=envelope: a business refusal is HTTP 200 with a non-200 code, as
                # Wonder's clients read it; authentication failures keep 401/403 always.
                http = exc.auth or self.readings.is_("errors", "http")
                status, envelope = (exc.status if http else 200), exc.envelope()
            # Faults after processing spoil any answer, success or error, as a proxy would.
            if after == "reset_after":
                return _reset(request)
            text = json.dumps(envelope)
            if after == "truncated":
                text = text[: len(text) // 2]
            return web.Response(text=text, status=status, content_type="application/json")

        return endpoint

    def _count_unknown(self, route: str, unknown: Counter[str]) -> None:
        seen = self.unknown_keys.setdefault(route, Counter())
        for field, count in unknown.items():
            if field in seen or len(seen) < _MAX_UNKNOWN_FIELDS:  # bounded against junk keys
                seen[field] += count

    def _early_fault(self, request: web.Request, kind: str, param: float | None) -> web.Response:
        if kind == "reset":
            return _reset(request)
        if kind == "nonjson":
            return web.Response(
                text="<html><body>Bad gateway</body></html>", content_type="text/html"
            )
        status = int(kind)
        headers = {"Retry-After": f"{param if param is not None else 1:g}"} if status == 429 else {}
        envelope = error_body(status, "injected fault", FAULT)
        return web.json_response(envelope, status=status, headers=headers)

    async def _no_such_endpoint(self, request: web.Request) -> web.Response:
        # A wrong URL, not a business refusal: HTTP 404 under every reading, and its message
        # does not say "not found", so no client reads it as "that order does not exist".
        message = f"no such endpoint: {request.method} {request.raw_path}"[:300]
        return web.json_response(error_body(404, message, NO_ENDPOINT), status=404)


def _refusal(exc: ValidationError) -> Reject:
    """A field that broke an input rule; an unknown currency carries the code Wonder's
    OpenCart plugin reads for it (``EO100102``, catalog controller:851-853)."""
    return bad(str(exc), error_code=INVALID_CURRENCY if exc.rule == "iso4217" else INVALID)


def _reset(request: web.Request) -> web.Response:
    """Abort the connection with a TCP RST, as a crashed proxy would."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    return web.Response(status=500)
