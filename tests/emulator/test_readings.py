"""Every value of every reading, over the wire: the shape each one documents (issue 22).

Also: the exact bodies Wonder's PHP SDK, WooCommerce and OpenCart plugins send are accepted
(wonder-clients.md rows 1.1-1.5, 2.1, 4.1-4.2), malformed values are still refused by name,
a WooCommerce-style webhook handler receives every webhook, and ``wonder emulator``'s
``--reading``/``--readings``/``--list-readings``. Driven by the docs-only client of
conftest.py (signed raw requests); no SDK in the loop.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulator.conftest import API, RawClient, card_body, customer_body
from tests.independent_signing import sign_headers, verify
from wonder_async.testing import READINGS, Emulator, Readings, variants

HOUR = 3600.0


@pytest.fixture
def wonder_readings() -> None:
    """The defaults, unless a test parametrizes this."""
    return


@asynccontextmanager
async def _emu(readings: dict[str, str], **kw: Any) -> AsyncIterator[tuple[Emulator, RawClient]]:
    """An emulator playing ``readings`` and a docs-only client of it."""
    async with Emulator(readings=readings, **kw) as emu, aiohttp.ClientSession() as session:
        yield emu, RawClient(session, emu)


async def _token(raw: RawClient, number: str = "4242424242424242", ref: str = "c-1") -> str:
    customer = (await raw.ok("POST", f"{API}/customers", customer_body(ref)))["customer"]["uuid"]
    made = await raw.ok("POST", f"{API}/customers/{customer}/payment_tokens", card_body(number))
    token: str = made["payment_token"]["token"]
    return token


async def _order(raw: RawClient, ref: str, fee: Any = "10.00", **kw: Any) -> dict[str, Any]:
    body = {"order": {"reference_number": ref, "charge_fee": fee, "currency": "HKD", **kw}}
    order: dict[str, Any] = (await raw.ok("POST", f"{API}/orders", body))["order"]
    return order


def _charge(ref: str, token: str, amount: Any = "10.00", **payment: Any) -> dict[str, Any]:
    charge = {"amount": amount, "token": token, "consume_mode": "sales", "entry_type": "mit"}
    return {"reference_number": ref, "payment": {"payment_token": charge, **payment}}


def _check(ref: str) -> dict[str, Any]:
    return {"order": {"reference_number": ref}}


async def _query(raw: RawClient, ref: str) -> dict[str, Any]:
    order: dict[str, Any] = (await raw.ok("POST", f"{API}/orders/check", _check(ref)))["order"]
    return order


async def _sale(raw: RawClient, ref: str = "o-1", amount: str = "10.00") -> tuple[str, str]:
    """An order of ``amount`` paid in full; returns (token, sale uuid)."""
    token = await _token(raw)
    await _order(raw, ref, amount)
    paid = await raw.ok("POST", f"{API}/open_payments", _charge(ref, token, amount))
    return token, paid["order"]["transactions"][0]["uuid"]


def _refund(ref: str, sale: str, amount: Any) -> dict[str, Any]:
    return {
        "order": {"reference_number": ref},
        "transaction": {"uuid": sale},
        "refund": {"amount": amount},
    }


def test_registry_names_every_value_and_variants_cover_them() -> None:
    """Each non-default value appears alone in variants(); the last set holds them together."""
    sets = variants()
    for reading in READINGS.values():
        for value in reading.names:
            if value != reading.default:
                assert {reading.name: value} in sets
    assert set(sets[-1]) == set(READINGS)
    assert Readings({"charges": "pending"}).non_default() == {"charges": "pending"}
    with pytest.raises(ValueError, match="unknown reading"):
        Emulator(readings={"charge": "pending"})
    with pytest.raises(ValueError, match="choose from immediate, pending"):
        Emulator(readings={"charges": "later"})


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("errors", ["envelope", "http"])
async def test_refusals_per_errors_reading(errors: str) -> None:
    """Business refusals: HTTP 200 + code under envelope, 4xx under http, the same body; not
    found is code 404 "... not found"; authentication failures are 401 under both."""
    async with _emu({"errors": errors}) as (emu, raw):
        http = errors == "http"
        status, doc = await raw.call("POST", f"{API}/orders/check", _check("nope"))
        assert status == (404 if http else 200)
        assert set(doc) == {"code", "message", "error_code", "data"}
        assert (doc["code"], doc["error_code"], doc["data"]) == (404, "EMU_NOT_FOUND", None)
        assert doc["message"].startswith("order not found")
        status, doc = await raw.call("GET", f"{API}/customers/nobody")
        assert (status, doc["code"]) == ((404 if http else 200), 404)
        assert doc["message"].startswith("customer not found")
        status, doc = await raw.call("POST", f"{API}/orders", {"order": {"charge_fee": "1"}})
        assert (status, doc["code"], doc["error_code"]) == (
            (400 if http else 200),
            400,
            "EMU_INVALID",
        )
        assert doc["message"].startswith("order.reference_number: ")
        await _order(raw, "o-1")
        body = {"order": {"reference_number": "o-1", "charge_fee": "1", "currency": "HKD"}}
        status, doc = await raw.call("POST", f"{API}/orders", body)
        assert (status, doc["error_code"]) == ((400 if http else 200), "EMU_DUPLICATE_REFERENCE")
        body["order"].update(reference_number="o-2", currency="XYZ")
        status, doc = await raw.call("POST", f"{API}/orders", body)
        assert (doc["code"], doc["error_code"]) == (400, "EO100102")  # Wonder's own code
        assert "order.currency" in doc["message"]
        # Not a business answer: a bad signature is 401, an unknown URL 404, under both.
        raw.key = (await asyncio.to_thread(_other_key)).decode()
        status, doc = await raw.call("POST", f"{API}/orders/check", _check("o-1"))
        assert (status, doc["code"], doc["error_code"]) == (401, "E000004", "E000004")
        status, doc = await raw.call("GET", f"{API}/no/such/path")
        assert (status, doc["error_code"]) == (404, "EMU_NO_ENDPOINT")
        assert "not found" not in doc["message"]
        assert emu.stats["readings"]["errors"] == errors


def _other_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# --- amounts and refunds -------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("amounts", ["number", "string"])
async def test_amounts_reading_types_every_amount(amounts: str) -> None:
    """Orders, line items, transactions, refunded_amount and webhook bodies use one type."""
    received: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with (
        TestServer(app, host="127.0.0.1") as merchant,
        _emu({"amounts": amounts}) as (emu, raw),
    ):
        token = await _token(raw)
        item = {"purchasable_type": "Charge", "price": "5", "quantity": 2, "total": "10"}
        await _order(raw, "o-1", "10", tips="1.5", line_items=[item],
                         callback_url=str(merchant.make_url("/hook")))  # fmt: skip
        paid = await raw.ok("POST", f"{API}/open_payments", _charge("o-1", token))
        sale = paid["order"]["transactions"][0]["uuid"]
        order = (await raw.ok("POST", f"{API}/orders/refund", _refund("o-1", sale, "2.5")))["order"]
        await emu.wait_for_webhooks()
    want: dict[str, Any] = (
        {"10": 10.0, "1.5": 1.5, "5": 5.0, "0": 0.0, "2.5": 2.5}
        if amounts == "number"
        else {"10": "10.00", "1.5": "1.50", "5": "5.00", "0": "0.00", "2.5": "2.50"}
    )
    for shown in (order, json.loads(received[-1])["data"]["order"]):
        assert (shown["charge_fee"], shown["initial_total"], shown["subtotal"]) == (
            want["10"],
            want["10"],
            want["10"],
        )
        assert (shown["tips"], shown["initial_tips"]) == (want["1.5"], want["1.5"])
        assert (shown["paid_total"], shown["unpaid_total"]) == (want["10"], want["0"])
        assert (shown["line_items"][0]["price"], shown["line_items"][0]["total"]) == (
            want["5"],
            want["10"],
        )
        sale_t, refund_t = shown["transactions"]
        assert (sale_t["amount"], sale_t["refunded_amount"]) == (want["10"], want["2.5"])
        assert refund_t["amount"] == want["2.5"]
        assert "refunded_total" not in shown
    assert f'"paid_total": {json.dumps(want["10"])}' in received[-1].decode()


@pytest.mark.anyio
@pytest.mark.parametrize("refunds", ["linked", "negative_unlinked"])
async def test_refunds_reading_shapes_the_refund_transaction(refunds: str) -> None:
    """linked: positive and pointing at its sale; negative_unlinked: negative, no link. The
    sale's refunded_amount and the refundable rest are the same under both."""
    async with _emu({"refunds": refunds, "amounts": "string"}) as (_, raw):
        _, sale = await _sale(raw)
        order = (await raw.ok("POST", f"{API}/orders/refund", _refund("o-1", sale, "4.00")))[
            "order"
        ]
        original, refund = order["transactions"]
        assert refund["type"] == "Refund"
        if refunds == "linked":
            assert (refund["amount"], refund["original_transaction_uuid"]) == ("4.00", sale)
        else:
            assert (refund["amount"], refund["original_transaction_uuid"]) == ("-4.00", None)
        assert original["refunded_amount"] == "4.00"
        assert order["correspondence_state"] == "partial_paid"
        _, doc = await raw.call("POST", f"{API}/orders/refund", _refund("o-1", sale, "6.01"))
        assert "at most 6.00" in doc["message"]


@pytest.mark.anyio
@pytest.mark.parametrize("duplicate", ["refuse", "allow"])
async def test_duplicate_refund_reading(duplicate: str) -> None:
    """A second same-amount refund of one sale within five minutes: 100701, or taken."""
    async with _emu({"duplicate_refund": duplicate}) as (_, raw):
        _, sale = await _sale(raw)
        await raw.ok("POST", f"{API}/orders/refund", _refund("o-1", sale, "1.00"))
        status, doc = await raw.call("POST", f"{API}/orders/refund", _refund("o-1", sale, "1.00"))
        refunds = [t for t in (await _query(raw, "o-1"))["transactions"] if t["type"] == "Refund"]
        if duplicate == "refuse":
            assert (status, doc["code"], doc["error_code"]) == (200, 100701, "100701")
            assert doc["message"] == (
                "Refunds of the same amount are not allowed within five minutes"
            )
            assert len(refunds) == 1
            # Another amount is a different refund and is taken.
            await raw.ok("POST", f"{API}/orders/refund", _refund("o-1", sale, "2.00"))
        else:
            assert (status, doc["code"]) == (200, 200)
            assert len(refunds) == 2


# --- declines and charges --------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("declines", ["success_false", "http"])
@pytest.mark.parametrize("errors", ["envelope", "http"])
async def test_declines_reading(declines: str, errors: str) -> None:
    """success_false: a 200 answer whose transaction failed with resp_code/resp_msg; http: a
    refusal (shaped by errors) whose data.order holds the same failed transaction."""
    async with _emu({"declines": declines, "errors": errors}) as (_, raw):
        token = await _token(raw, "4000000000009995")
        await _order(raw, "o-1")
        status, doc = await raw.call("POST", f"{API}/open_payments", _charge("o-1", token))
        if declines == "success_false":
            assert (status, doc["code"]) == (200, 200)
        else:
            assert status == (400 if errors == "http" else 200)
            assert (doc["code"], doc["error_code"]) == (400, "EMU_DECLINED")
            assert "Insufficient funds" in doc["message"]
        [failed] = doc["data"]["order"]["transactions"]
        assert (failed["success"], failed["is_pending"]) == (False, False)
        data = failed["payment_data"]
        assert (data["resp_code"], data["resp_msg"]) == ("51", "Insufficient funds")
        assert not {"failure_code", "failure_message"} & set(failed)


@pytest.mark.anyio
async def test_charges_pending_settles_once_after_pending_seconds() -> None:
    """The answer is success:false, is_pending:true; the order stays unpaid until the
    pending time has passed, then Query order, the list and an order.paid webhook show the
    settled charge; the same payment.uuid never makes a second transaction."""
    received: list[tuple[str, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers["X-Action"], json.loads(await request.read())))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app, host="127.0.0.1") as merchant:
        readings = {"charges": "pending", "amounts": "string"}
        async with _emu(readings, pending_seconds=HOUR) as (emu, raw):
            token = await _token(raw)
            declining = await _token(raw, "4000000000009995", "c-2")
            await _order(raw, "o-1", callback_url=str(merchant.make_url("/hook")))
            await _order(raw, "o-2")
            body = _charge("o-1", token, uuid="pay-1")
            [pending] = (await raw.ok("POST", f"{API}/open_payments", body))["order"][
                "transactions"
            ]
            assert (pending["uuid"], pending["success"], pending["is_pending"]) == (
                "pay-1",
                False,
                True,
            )
            assert pending["payment_data"]["transaction_state"] == "pending"
            await raw.ok("POST", f"{API}/open_payments", _charge("o-2", declining))
            again = await raw.ok("POST", f"{API}/open_payments", body)  # same payment.uuid
            assert len(again["order"]["transactions"]) == 1
            order = await _query(raw, "o-1")
            assert (order["correspondence_state"], order["paid_total"]) == ("unpaid", "0.00")
            assert order["transactions"][0]["is_pending"] is True
            await emu.wait_for_webhooks()
            assert [a for a, _ in received] == ["order.created"]
            emu.settle_due(now=time.time() + HOUR + 1)  # pending_seconds have passed
            order = await _query(raw, "o-1")
            [settled] = order["transactions"]
            assert (settled["success"], settled["is_pending"]) == (True, False)
            assert (order["correspondence_state"], order["paid_total"]) == ("paid", "10.00")
            listed = await raw.ok("GET", f"{API}/orders/list?limit=10")
            assert listed["orders"][0]["order"]["transactions"] == [settled]
            declined = (await _query(raw, "o-2"))["transactions"][0]
            assert (declined["success"], declined["is_pending"]) == (False, False)
            assert declined["payment_data"]["resp_code"] == "51"
            again = await raw.ok("POST", f"{API}/open_payments", body)
            assert again["order"]["transactions"] == [settled]
            await emu.wait_for_webhooks()
    assert [a for a, _ in received] == ["order.created", "order.paid"]
    assert received[-1][1]["data"]["order"]["transactions"][0]["success"] is True


@pytest.mark.anyio
async def test_charges_pending_settles_by_itself() -> None:
    """With a short pending_seconds the emulator settles on its own and sends order.paid."""
    paid = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        if request.headers["X-Action"] == "order.paid":
            paid.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with (
        TestServer(app, host="127.0.0.1") as merchant,
        _emu({"charges": "pending"}, pending_seconds=0.05) as (_, raw),
    ):
        token = await _token(raw)
        await _order(raw, "o-1", callback_url=str(merchant.make_url("/hook")))
        await raw.ok("POST", f"{API}/open_payments", _charge("o-1", token))
        await asyncio.wait_for(paid.wait(), 30)
        assert (await _query(raw, "o-1"))["correspondence_state"] == "paid"


# --- voids ---------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("voids", ["marked", "pending"])
async def test_voids_reading(voids: str) -> None:
    """marked: voided_at at once; pending: void_is_pending first, voided_at later. Never an
    invented ``voided`` flag."""
    async with _emu({"voids": voids}, pending_seconds=HOUR) as (emu, raw):
        _, sale = await _sale(raw)
        target = {"order": {"reference_number": "o-1"}, "transaction": {"uuid": sale}}
        [t] = (await raw.ok("POST", f"{API}/orders/void", target))["order"]["transactions"]
        assert "voided" not in t
        assert t["allow_void"] is False
        if voids == "marked":
            assert (t["void_is_pending"], bool(t["voided_at"])) == (False, True)
            assert t["payment_data"]["transaction_state"] == "voided"
        else:
            assert (t["void_is_pending"], t["voided_at"]) == (True, None)
            _, doc = await raw.call("POST", f"{API}/orders/void", target)
            assert doc["error_code"] == "EMU_NOT_ALLOWED"  # one void only
            emu.settle_due(now=time.time() + HOUR + 1)
            [t] = (await _query(raw, "o-1"))["transactions"]
            assert (t["void_is_pending"], bool(t["voided_at"])) == (False, True)
            assert t["payment_data"]["transaction_state"] == "voided"
        assert (await _query(raw, "o-1"))["correspondence_state"] == "voided"


# --- webhooks ------------------------------------------------------------------------------


class WooReceiver:
    """WooCommerce's handle_webhook, reduced to its shape rules (gateway.php:1009-1019): the
    order at the root, or under data.order; no reference_number is a 400."""

    def __init__(self, public_pem: str) -> None:
        key = serialization.load_pem_public_key(public_pem.encode())
        assert isinstance(key, rsa.RSAPublicKey)
        self.key = key
        self.answers: list[int] = []
        self.refs: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(self.key, dict(request.headers), "POST", request.raw_path, body):
            self.answers.append(403)
            return web.Response(status=403)
        data = json.loads(body)
        payload = data
        if isinstance(data.get("data"), dict) and isinstance(data["data"].get("order"), dict):
            payload = data["data"]["order"]
        if not payload.get("reference_number"):
            self.answers.append(400)
            return web.json_response({"error": "Missing reference_number"}, status=400)
        self.answers.append(200)
        self.refs.append(payload["reference_number"])
        return web.json_response({"status": "ok"})


@pytest.mark.anyio
@pytest.mark.parametrize("body", ["envelope", "order", "wrapped"])
async def test_woocommerce_style_handler_reads_envelope_and_order_bodies(body: str) -> None:
    """Every webhook reaches a WooCommerce-style handler with 200 under webhook_body=envelope
    and =order; the emulator's old {"order": ...} (wrapped) is what it answered 400."""
    async with _emu({"webhook_body": body}) as (emu, raw):
        woo = WooReceiver(emu.webhook_public_key_pem)
        app = web.Application()
        app.router.add_post("/wc-api/wonder", woo.handle)
        async with TestServer(app, host="127.0.0.1") as shop:
            token = await _token(raw)
            await _order(raw, "wc-1", callback_url=str(shop.make_url("/wc-api/wonder")))
            paid = await raw.ok("POST", f"{API}/open_payments", _charge("wc-1", token))
            sale = paid["order"]["transactions"][0]["uuid"]
            await raw.ok("POST", f"{API}/orders/refund", _refund("wc-1", sale, "1.00"))
            await emu.wait_for_webhooks()
        sent = [json.loads(e["body"]) for e in emu.webhook_log]
        if body == "envelope":
            assert all(s["code"] == 200 and s["data"]["order"]["number"] for s in sent)
        elif body == "order":
            assert all(s["reference_number"] == "wc-1" for s in sent)
        else:
            assert all(set(s) == {"order"} for s in sent)
        if body == "wrapped":
            assert woo.answers == [400, 400, 400]
        else:
            assert (woo.answers, woo.refs) == ([200, 200, 200], ["wc-1"] * 3)


@pytest.mark.anyio
@pytest.mark.parametrize("resign", ["fresh", "original"])
async def test_webhook_resign_reading(resign: str) -> None:
    """fresh: each retry is signed again; original: retries resend the first attempt's
    headers and body byte for byte."""
    attempts: list[tuple[dict[str, str], bytes]] = []

    async def flaky(request: web.Request) -> web.Response:
        attempts.append((dict(request.headers), await request.read()))
        return web.Response(status=503 if len(attempts) < 3 else 200)

    app = web.Application()
    app.router.add_post("/hook", flaky)
    async with (
        TestServer(app, host="127.0.0.1") as merchant,
        _emu({"webhook_resign": resign}) as (emu, raw),
    ):
        emu.webhook_retry_delays = (0.0, 0.0, 0.0)
        await _order(raw, "o-1", callback_url=str(merchant.make_url("/hook")))
        await emu.wait_for_webhooks()
    assert len(attempts) == 3
    signatures = {h["Signature"] for h, _ in attempts}
    nonces = {h["Nonce"] for h, _ in attempts}
    assert len({b for _, b in attempts}) == 1  # the body never changes
    if resign == "original":
        assert (len(signatures), len(nonces)) == (1, 1)
        assert len({h["Credential"] for h, _ in attempts}) == 1
    else:
        assert (len(signatures), len(nonces)) == (3, 3)


# --- as lenient as the gateway -----------------------------------------------------------


async def _send_bytes(raw: RawClient, uri: str, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = sign_headers(raw.app_id, raw.key, "POST", uri, body)
    headers["Content-Type"] = "application/json"
    async with raw.session.post(raw.base + uri, data=body, headers=headers) as resp:
        return resp.status, json.loads(await resp.text())


@pytest.mark.anyio
async def test_the_bodies_wonders_own_clients_send_are_accepted(raw: RawClient) -> None:
    """PHP SDK, WooCommerce and OpenCart bodies (wonder-clients.md rows 1.1-1.5, 2.1, 4.1,
    4.2), byte for byte as PHP's json_encode writes them; unknown keys are counted in stats."""
    emu_stats = f"{raw.base}/__emulator/stats"
    # PHP verifySignature() / WOO "Test configuration": charge_fee a JSON number, "" URLs,
    # json_encode's escaped slashes (PaymentSDK.php:111-112, :422-423).
    php = (
        b'{"order":{"reference_number":"test_1700000000","charge_fee":100,"currency":"HKD",'
        b'"due_date":"2030-01-08","note":"Test configuration","callback_url":"",'
        b'"redirect_url":""}}'
    )
    status, doc = await _send_bytes(raw, f"{API}/orders?with_payment_link=true", php)
    assert (status, doc["code"]) == (200, 200), doc
    assert doc["data"]["payment_link"]
    assert doc["data"]["order"]["initial_total"] == 100.0
    # WOO checkout (gateway.php:519-556): string charge_fee, order.customer.
    woo = {
        "order": {
            "reference_number": "1234-1-1700000000",
            "charge_fee": "12.30",
            "currency": "HKD",
            "due_date": "2030-01-01",
            "note": "WooCommerce order #1234",
            "callback_url": "https://shop.example/?wc-api=wonder_payments",
            "redirect_url": "https://shop.example/checkout/order-received/1234/",
            "customer": {"name": "Chan Tai Man", "email": "t@m.hk", "phone": "+85212345678"},
        }
    }
    woo_order = (await raw.ok("POST", f"{API}/orders?with_payment_link=true", woo))["order"]
    assert "customer" not in woo_order  # tolerated, not stored
    # OC (catalog controller:874-952): charge_fee "0.00", language, string quantities and a
    # negative coupon line; the order's total is the line items' total.
    oc = {
        "order": {
            "reference_number": "oc-77-1700000000",
            "charge_fee": "0.00",
            "currency": "HKD",
            "language": "en-gb",
            "note": "OpenCart order 77",
            "callback_url": "https://oc.example/index.php?route=extension/payment/wonderpayment/callback",
            "redirect_url": "https://oc.example/index.php?route=checkout/success",
            "line_items": [
                {
                    "purchasable_type": "Listing",
                    "purchase_id": "42",
                    "label": "Mug",
                    "price": "45.00",
                    "quantity": "2",
                    "total": "90.00",
                },
                {
                    "purchasable_type": "Listing",
                    "purchase_id": "coupon",
                    "label": "Coupon",
                    "price": "-10.00",
                    "quantity": "1",
                    "total": "-10.00",
                },
            ],
        }
    }
    oc_order = (await raw.ok("POST", f"{API}/orders?with_payment_link=true", oc))["order"]
    assert (oc_order["initial_total"], oc_order["unpaid_total"]) == (80.0, 80.0)
    assert [i["quantity"] for i in oc_order["line_items"]] == [2, 1]
    # Pay it, then OC's query (library :154-172): both order keys and the transaction.
    token = await _token(raw)
    paid = await raw.ok("POST", f"{API}/open_payments", _charge("oc-77-1700000000", token, 80))
    sale = paid["order"]["transactions"][0]["uuid"]
    both = {"reference_number": "oc-77-1700000000", "number": oc_order["number"]}
    found = await raw.ok("POST", f"{API}/orders/check",
                         {"order": both, "transaction": {"uuid": sale}})  # fmt: skip
    assert found["order"]["number"] == oc_order["number"]
    # WOO refund (gateway.php:764-777): both keys, string amount, currency, reason.
    woo_refund = {
        "order": both,
        "transaction": {"uuid": sale},
        "refund": {"amount": "5.00", "currency": "HKD", "reason": "damaged"},
    }
    await raw.ok("POST", f"{API}/orders/refund", woo_refund)
    # OC refund (library :249-283): a PHP float amount and a note, byte for byte.
    oc_refund = json.dumps(
        {
            "order": {"reference_number": "oc-77-1700000000"},
            "transaction": {"uuid": sale},
            "refund": {"amount": 2.0, "note": "partial"},
        },
        separators=(",", ":"),
    ).encode()
    status, doc = await _send_bytes(raw, f"{API}/orders/refund", oc_refund)
    assert (status, doc["code"]) == (200, 200), doc
    refunded = doc["data"]["order"]["transactions"][0]["refunded_amount"]
    assert refunded == 7.0
    # iOS card charges add payment.allow_over_completion (CardPaymentHandler.swift:21).
    await _order(raw, "ios-1")
    ios = _charge("ios-1", token, "10.0", allow_over_completion=True)
    await raw.ok("POST", f"{API}/open_payments", ios)
    async with raw.session.get(emu_stats) as resp:
        unknown = (await resp.json())["data"]["unknown_keys"]
    assert unknown == {
        "orders.create": {"order.customer": 1, "order.language": 1},
        "orders.refund": {"refund.currency": 1, "refund.reason": 1, "refund.note": 1},
        "payments.create": {"payment.allow_over_completion": 1},
    }


def _create(fee: str = '"1"', extra: str = "") -> bytes:
    """A create-order body with the JSON text ``fee`` as charge_fee (and ``extra`` fields)."""
    text = f'{{"order":{{"reference_number":"r","charge_fee":{fee},"currency":"HKD"{extra}}}}}'
    return text.encode()


_ITEM = '{"purchasable_type":"Listing","price":%s,"quantity":%s,"total":%s}'


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_create("NaN"), "body"),
        (_create("Infinity"), "body"),
        (_create("1e400"), "body"),
        (_create("1.005"), "order.charge_fee"),
        (_create("-1"), "order.charge_fee"),
        (_create("true"), "order.charge_fee"),
        (_create('"\u0661\u0660"'), "order.charge_fee"),  # Arabic-Indic digits
        (_create('"1"').replace(b"HKD", b"HKX"), "order.currency"),
        (_create(extra=',"tips":"0.001"'), "order.tips"),
        (_create(extra=',"line_items":[' + _ITEM % ('"1"', '"1.5"', '"1"') + "]"),
         "order.line_items[0].quantity"),
        (_create('"0"', ',"line_items":[' + _ITEM % ('"-1"', "1", '"-1"') + "]"),
         "order.line_items"),
    ],
)  # fmt: skip
async def test_malformed_values_are_still_refused_by_name(
    raw: RawClient, body: bytes, field: str
) -> None:
    status, doc = await _send_bytes(raw, f"{API}/orders", body)
    assert (status, doc["code"]) == (200, 400), doc
    assert doc["message"].startswith(f"{field}: "), doc


@pytest.mark.anyio
async def test_both_order_keys_must_name_the_same_order(raw: RawClient) -> None:
    """number and reference_number of two different orders: a refusal naming the field;
    a transaction of another order in Query order likewise."""
    first = await _order(raw, "o-1")
    await _order(raw, "o-2")
    mixed = {"order": {"number": first["number"], "reference_number": "o-2"}}
    _, doc = await raw.call("POST", f"{API}/orders/check", mixed)
    assert (doc["code"], doc["error_code"]) == (400, "EMU_INVALID")
    assert doc["message"].startswith("order.reference_number: ")
    missing = {"order": {"number": first["number"], "reference_number": "nope"}}
    _, doc = await raw.call("POST", f"{API}/orders/check", missing)
    assert doc["code"] == 404
    _, sale = await _sale(raw, "o-3")
    other = {"order": {"reference_number": "o-1"}, "transaction": {"uuid": sale}}
    _, doc = await raw.call("POST", f"{API}/orders/check", other)
    assert doc["message"].startswith("transaction.uuid: ")


@pytest.mark.anyio
async def test_charge_fee_zero_totals_the_line_items_and_a_non_zero_fee_wins(
    raw: RawClient,
) -> None:
    """charge_fee 0 with line items: the items' total is the order's; a non-zero charge_fee
    is the total whatever its items say (the SDK refuses a disagreement before sending)."""
    items = [{"purchasable_type": "Listing", "price": "30", "quantity": 3, "total": "90"}]
    assert (await _order(raw, "o-1", 0, line_items=items))["initial_total"] == 90.0
    assert (await _order(raw, "o-2", "0.00", line_items=items))["initial_total"] == 90.0
    assert (await _order(raw, "o-3", "100.00", line_items=items))["initial_total"] == 100.0
    assert (await _order(raw, "o-4", "0.00"))["initial_total"] == 0.0


# --- the CLI --------------------------------------------------------------------------------


def test_wonder_emulator_reading_options(tmp_path: Path) -> None:
    """--list-readings prints the registry; a bad name is refused with exit 2; --readings
    FILE and --reading (which overrides it) set what /__emulator/stats reports; the webhook
    public key is printed and written by --webhook-key-file."""
    wonder = [sys.executable, "-m", "wonder_async.cli", "emulator"]
    listed = subprocess.run([*wonder, "--list-readings"], capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert listed.returncode == 0
    for reading in READINGS.values():
        assert f"{reading.name}: {reading.question}" in listed.stdout
    refused = subprocess.run([*wonder, "--reading", "charges=later"], capture_output=True,
                             text=True, timeout=60, check=False)  # fmt: skip
    assert refused.returncode == 2
    assert "reading charges: unknown value 'later' (choose from immediate, pending)" in (
        refused.stderr
    )
    file = tmp_path / "readings.json"
    file.write_text(json.dumps({"format": "wonder-readings/1",
                                "readings": {"charges": "pending", "errors": "http"}}))  # fmt: skip
    key_file = tmp_path / "webhook.pem"
    proc = subprocess.Popen(
        [*wonder, "--port", "0", "--no-dashboard", "--readings", str(file),
         "--reading", "errors=envelope", "--reading", "amounts=string",
         "--webhook-key-file", str(key_file)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: dict[str, str] = {}
        readings: set[str] = set()
        while "webhook_public_key" not in lines:
            name, _, value = proc.stdout.readline().strip().partition(" ")
            assert name, "the emulator stopped before printing its webhook key"
            if name == "reading":
                readings.add(value.strip())
            lines[name] = value.strip()
        pem = ""
        while "END PUBLIC KEY" not in pem:
            line = proc.stdout.readline()
            assert line, "the PEM ended early"
            pem += line
        with urllib.request.urlopen(lines["base_url"] + "/__emulator/stats", timeout=10) as resp:  # noqa: S310 - loopback
            stats = json.loads(resp.read())["data"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == 0
    assert stats["readings"]["charges"] == "pending"  # from the file
    assert stats["readings"]["errors"] == "envelope"  # --reading overrides the file
    assert stats["readings"]["amounts"] == "string"
    assert readings == {"charges=pending", "amounts=string"}
    assert lines["webhook_key"] == str(key_file)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert key_file.read_text().strip() == pem.strip()
    assert "PRIVATE" not in key_file.read_text()


@pytest.mark.anyio
async def test_voiding_an_order_ends_its_pending_charge() -> None:
    """A charge still pending on an order that is voided never settles into a sale."""
    async with _emu({"charges": "pending"}, pending_seconds=HOUR) as (emu, raw):
        token = await _token(raw)
        await _order(raw, "o-1")
        await raw.ok("POST", f"{API}/open_payments", _charge("o-1", token))
        await raw.ok("POST", f"{API}/orders/void", _check("o-1"))
        emu.settle_due(now=time.time() + HOUR + 1)
        order = await _query(raw, "o-1")
        [t] = order["transactions"]
        assert (t["success"], t["is_pending"], bool(t["voided_at"])) == (False, False, True)
        assert (order["state"], order["paid_total"]) == ("voided", 0.0)


@pytest.mark.anyio
async def test_a_pending_pre_authorisation_settles_too() -> None:
    """A pre-authorisation settles like a sale (without order.paid): voidable, not paid."""
    async with _emu({"charges": "pending"}, pending_seconds=HOUR) as (emu, raw):
        token = await _token(raw)
        await _order(raw, "o-1")
        body = _charge("o-1", token)
        body["payment"]["payment_token"]["consume_mode"] = "pre_authorize"
        await raw.ok("POST", f"{API}/open_payments", body)
        emu.settle_due(now=time.time() + HOUR + 1)
        order = await _query(raw, "o-1")
        [auth] = order["transactions"]
        assert (auth["type"], auth["success"], auth["is_pending"]) == ("Authorization", True, False)
        assert (auth["allow_void"], auth["allow_refund"], auth["captured"]) == (True, False, False)
        assert (order["correspondence_state"], order["paid_total"]) == ("unpaid", 0.0)
