"""The webhook listener of ``wonder conformance``: records every delivery, and answers the
first delivery of one webhook of this run with 503 so the gateway retries it, which shows
whether a retry is signed again (``webhook_resign``)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import attrs
from aiohttp import web

from ._calls import CallLog, fingerprint, redact, redact_headers

__all__ = ["Delivery", "Listener"]


@attrs.define
class Delivery:
    """One webhook POST as it arrived."""

    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any
    answered: int
    at: float

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    @property
    def action(self) -> str | None:
        return self.header("X-Action")

    def signed_as(self) -> tuple[str | None, str | None, str | None]:
        return self.header("Credential"), self.header("Nonce"), self.header("Signature")

    def record(self) -> dict[str, Any]:
        return {
            "kind": "webhook",
            "path": self.path,
            "headers": redact_headers(self.headers),
            "signature": fingerprint(self.header("Signature") or ""),
            "body": redact(self.body),
            "answered": self.answered,
        }


class Listener:
    """An aiohttp server on ``host:port`` taking webhooks on any path.

    :param marker: text every reference number of this run holds; only a webhook whose body
        holds it gets the one 503 (a late retry of an earlier run is just recorded).
    """

    def __init__(self, host: str, port: int, marker: str, log: CallLog) -> None:
        self.host, self.port, self.marker, self.log = host, port, marker, log
        self.deliveries: list[Delivery] = []
        #: The delivery answered 503, and the retry of it once it came.
        self.refused: Delivery | None = None
        self.retry: Delivery | None = None
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/wonder-conformance"

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _same_webhook(self, a: Delivery, b: Delivery) -> bool:
        if a.raw == b.raw:
            return True
        return a.action == b.action and _order_id(a.body) == _order_id(b.body) is not None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw.decode()) if raw else None
        except ValueError:
            body = None
        delivery = Delivery(request.path_qs, dict(request.headers), raw, body, 200, time.time())
        if self.refused is None and self.marker.encode() in raw:
            delivery.answered = 503
            self.refused = delivery
        elif (
            self.refused is not None
            and self.retry is None
            and self._same_webhook(self.refused, delivery)
        ):
            self.retry = delivery
        self.deliveries.append(delivery)
        self.log.write(delivery.record())
        self._changed.set()
        return web.json_response({"received": True}, status=delivery.answered)

    async def wait(self, timeout: float) -> None:
        """Wait until the refused webhook's retry came, or ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.retry is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                return


def _order_id(body: Any) -> str | None:
    """The order number or reference a webhook body names, wherever its shape puts it."""
    if not isinstance(body, dict):
        return None
    data = body.get("data")
    nested = data.get("order") if isinstance(data, dict) else None
    for candidate in (body, body.get("order"), nested):
        if isinstance(candidate, dict):
            for key in ("number", "reference_number"):
                if isinstance(candidate.get(key), str):
                    return str(candidate[key])
    return None


def order_reference(body: Any) -> str | None:
    """The ``reference_number`` of the order a webhook body carries, in any of its shapes."""
    if not isinstance(body, dict):
        return None
    data = body.get("data")
    nested = data.get("order") if isinstance(data, dict) else None
    for candidate in (nested, body.get("order"), body):
        if isinstance(candidate, dict) and isinstance(candidate.get("reference_number"), str):
            return str(candidate["reference_number"])
    return None
