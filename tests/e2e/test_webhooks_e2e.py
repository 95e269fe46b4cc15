"""The emulator sends signed order webhooks to callback_url, retrying on 5xx like the gateway."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.independent_signing import verify
from wonder_async import WonderClient
from wonder_async.webhooks import WebhookVerifier


@pytest.mark.anyio
async def test_order_webhooks_are_signed_and_retried(wonder_emulator: Any) -> None:
    """order.created and order.paid arrive signed with the webhook key; a 503 is retried."""
    received: list[dict[str, Any]] = []
    answers = [503]  # the merchant's first answer fails; the gateway must retry

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        received.append(
            {"action": request.headers["X-Action"], "body": body, "uri": request.raw_path,
             "headers": dict(request.headers)}
        )  # fmt: skip
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hooks/wonder", hook)
    key = serialization.load_pem_public_key(wonder_emulator.webhook_public_key_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    async with TestServer(app, host="127.0.0.1") as merchant:
        callback = str(merchant.make_url("/hooks/wonder?shop=1"))
        async with WonderClient(
            app_id=wonder_emulator.app_id,
            private_key=wonder_emulator.private_key_pem,
            base_url=wonder_emulator.base_url,
        ) as wonder:
            order = await wonder.orders.create(
                reference_number="wh-1", charge_fee="9.90", currency="HKD", callback_url=callback
            )
            await wonder_emulator.wait_for_webhooks()
            await wonder_emulator.pay_order(order.number)
            await wonder_emulator.wait_for_webhooks()
    assert [r["action"] for r in received] == ["order.created", "order.created", "order.paid"]
    for r in received:
        assert r["uri"] == "/hooks/wonder?shop=1"
        assert verify(key, r["headers"], "POST", r["uri"], r["body"])
        assert not verify(key, r["headers"], "POST", "/hooks/wonder", r["body"])
    assert [e["status"] for e in wonder_emulator.webhook_log] == [503, 200, 200]
    verifier = WebhookVerifier(
        wonder_emulator.webhook_public_key_pem, app_id=wonder_emulator.app_id
    )
    events = [verifier.verify(r["body"], r["headers"], r["uri"]) for r in received]
    assert [e.action for e in events] == ["order.created", "order.created", "order.paid"]
    assert events[-1].correspondence_state == "paid"
    assert events[-1].order.number == order.number
    assert b'"correspondence_state": "paid"' in received[-1]["body"]
