"""Full flows at DEBUG: nothing logged, raised or repr'd contains a card number, CVV or key."""

from __future__ import annotations

import datetime as dt
import logging
import re
import traceback
from typing import Any

import pytest

from wonder_async import Card, ThreeDS, WonderClient, WonderError

CARDS = ["4242424242424242", "4000000000003220", "4000000000000002"]
SECRETS = list(CARDS)
CVV = "9182"
_NOISE = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}|[0-9A-Za-z+/=]{16,}|\b\d{14}\b")


def _leaks(text: str, key_pem: str) -> list[str]:
    found = [c for c in SECRETS if c in text]
    key_body = "".join(key_pem.splitlines()[1:-1])
    if "PRIVATE KEY" in text or any(key_body[i : i + 40] in text for i in range(0, 400, 40)):
        found.append("private key")
    if CVV in _NOISE.sub("", text):
        found.append("cvv")
    return found


@pytest.mark.anyio
async def test_no_secret_in_logs_exceptions_or_reprs(
    wonder_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Binding, failures, retries and validation errors never expose card data or the key."""
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    key = wonder_emulator.private_key_pem
    year = dt.datetime.now(dt.timezone.utc).year + 2
    three_ds = ThreeDS("https://shop.example/ok", "https://shop.example/fail")
    wonder_emulator.faults.script("payment_tokens.create", ["500", "ok", "reset_after"])
    async with WonderClient(
        app_id=wonder_emulator.app_id, private_key=key, base_url=wonder_emulator.base_url
    ) as wonder:
        texts.append(repr(wonder))
        customer = await wonder.customers.upsert(reference_number="r-1", name="N", phone="1")
        assert customer.uuid is not None
        for number in CARDS * 2:
            card = Card(number=number, exp_month=1, exp_year=year, holder_name="T", cvv=CVV)
            texts += [repr(card), str(card)]
            try:
                token = await wonder.payment_tokens.create(
                    customer.uuid, card=card, three_ds=three_ds
                )
                texts.append(repr(token))
            except WonderError as exc:
                texts.append("".join(traceback.format_exception(exc)))
        for bad in ("4242424242424241", "4242-4242-4242-424x"):
            with pytest.raises(WonderError) as info:
                Card(number=bad, exp_month=1, exp_year=year, holder_name="T", cvv=CVV)
            texts.append("".join(traceback.format_exception(info.value)))
            SECRETS.append(bad.replace("-", ""))
        texts.append(repr(await wonder.payment_tokens.list(customer.uuid)))
    texts += [r.getMessage() for r in caplog.records]
    texts += [
        "".join(traceback.format_exception(*r.exc_info)) for r in caplog.records if r.exc_info
    ]
    joined = "".join(texts)
    assert "may have reached the gateway" in joined  # the failures really were exercised
    assert "424242******4242" in joined  # masked forms are what shows
    assert len(caplog.records) >= 8
    leaks = {leak for text in texts for leak in _leaks(text, key)}
    assert leaks == set()


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 500, 200])
async def test_no_secret_when_the_gateway_echoes_card_data(
    key_pair: Any, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    """A gateway whose error envelopes echo the request (the card number and CVV of
    payment_tokens.create, spaced and dashed too) and whose answers carry an unmasked
    credit_card.number: neither shows in any error, error body, log record or repr (#23)."""
    from aiohttp import web

    from tests.hostile_server import HostileGateway

    caplog.set_level(logging.DEBUG)
    card = CARDS[0]
    spaced = " ".join(card[i : i + 4] for i in range(0, 16, 4))

    async def behave(request: web.Request, route: str, body: dict[str, Any], n: int) -> Any:
        raw = (await request.read()).decode()
        if status != 200:
            message = f"invalid card {raw} ({spaced}, {card.replace('4242', '4242-', 3)})"
            envelope = {"code": "E1", "message": message, "error_message": message,
                        "data": {"request": body}}  # fmt: skip
            return web.json_response(envelope, status=status)
        credit_card = {"number": card, "cvv": CVV, "holder_name": f"T {card}"}
        token = {"token": "t-1", "state": "success", "credit_card": credit_card}
        data = {"payment_token": token, "payment_tokens": [token, token]}
        return web.json_response({"code": 200, "message": "success", "data": data})

    texts: list[str] = []
    year = dt.datetime.now(dt.timezone.utc).year + 2
    with HostileGateway() as gateway:
        gateway.set(behave)
        async with WonderClient(
            app_id="a", private_key=key_pair.private_pem, base_url=gateway.url, max_retries=1
        ) as wonder:
            c = Card(number=card, exp_month=1, exp_year=year, holder_name="T", cvv=CVV)
            three_ds = ThreeDS("https://shop.example/ok", "https://shop.example/fail")
            for call in (
                lambda: wonder.payment_tokens.create("c-1", card=c, three_ds=three_ds),
                lambda: wonder.payment_tokens.list("c-1"),
                lambda: wonder.payment_tokens.check("c-1", "t-1"),
            ):
                try:
                    texts.append(repr(await call()))
                except WonderError as exc:
                    texts += ["".join(traceback.format_exception(exc)), repr(exc), repr(exc.body)]
    texts += [r.getMessage() for r in caplog.records]
    joined = "".join(texts)
    assert "424242******4242" in joined  # the echo was there, masked
    assert not [t for t in texts if card in t.replace(" ", "").replace("-", "")]
    assert {leak for text in texts for leak in _leaks(text, key_pair.private_pem)} == set()
