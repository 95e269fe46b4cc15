"""Charges of saved tokens, query, void, refund and order lists (wonder-api.md §2.7, §3.14a).

Driven by the docs-only client of tests/emulator/conftest.py: signed raw requests, real
sockets, the real envelope.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.emulator.conftest import API, RawClient, card_body, customer_body
from tests.independent_signing import sign_headers
from wonder_async.testing import ROUTES, Emulator
from wonder_async.webhooks import WebhookVerifier


@pytest.fixture
def wonder_readings() -> dict[str, str]:
    """Statuses and two-place amount strings; test_readings.py covers the other values."""
    return {"errors": "http", "amounts": "string"}


TRANSACTION_KEYS = {
    "uuid",
    "type",
    "currency",
    "amount",
    "success",
    "is_pending",
    "captured",
    "allow_void",
    "allow_refund",
    "void_is_pending",
    "voided_at",
    "refunded_amount",
    "payment_method",
    "note",
    "original_transaction_uuid",
    "created_at",
    "payment_data",
}
PAYMENT_DATA_KEYS = {
    "first_6_digits",
    "last_4_digits",
    "credit_card_type",
    "auth_code",
    "rrn",
    "transaction_state",
    "resp_code",
    "resp_msg",
    "token",
}
ORDER_KEYS = {
    "number",
    "reference_number",
    "customer_uuid",
    "currency",
    "charge_fee",
    "tips",
    "initial_total",
    "paid_total",
    "unpaid_total",
    "subtotal",
    "initial_tips",
    "state",
    "correspondence_state",
    "created_at",
    "updated_at",
    "transactions",
}


async def _customer(raw: RawClient, ref: str = "c-1") -> str:
    uuid: str = (await raw.ok("POST", f"{API}/customers", customer_body(ref)))["customer"]["uuid"]
    return uuid


async def _token(raw: RawClient, customer: str, number: str = "4242424242424242") -> str:
    data = await raw.ok("POST", f"{API}/customers/{customer}/payment_tokens", card_body(number))
    token: str = data["payment_token"]["token"]
    return token


async def _order(raw: RawClient, ref: str, fee: str = "21.00", **kw: Any) -> dict[str, Any]:
    customer = kw.pop("customer_uuid", None)
    body: dict[str, Any] = {
        "order": {"reference_number": ref, "charge_fee": fee, "currency": "HKD", **kw}
    }
    if customer is not None:
        body["customer_uuid"] = customer
    order: dict[str, Any] = (await raw.ok("POST", f"{API}/orders", body))["order"]
    return order


def _pay_body(ref: str, token: str, amount: str = "21.00", **kw: Any) -> dict[str, Any]:
    payment: dict[str, Any] = {
        "payment_token": {
            "amount": amount,
            "token": token,
            "consume_mode": kw.pop("consume_mode", "sales"),
            "entry_type": "mit",
        }
    }
    if "uuid" in kw:
        payment["uuid"] = kw.pop("uuid")
    return {"reference_number": ref, "payment": payment, **kw}


async def _pay(
    raw: RawClient, ref: str, token: str, amount: str = "21.00", **kw: Any
) -> dict[str, Any]:
    order: dict[str, Any] = (
        await raw.ok("POST", f"{API}/open_payments", _pay_body(ref, token, amount, **kw))
    )["order"]
    return order


async def _rejected(raw: RawClient, path: str, body: Any, status: int = 400) -> str:
    """Send a request that must fail with ``status``; return the envelope's message."""
    got, doc = await raw.call("POST", f"{API}/{path}", body)
    assert got == status, (got, doc)
    assert isinstance(doc, dict)
    message: str = doc["message"]
    return message


def _states(order: dict[str, Any]) -> tuple[str, str]:
    return order["state"], order["correspondence_state"]


@pytest.fixture
async def payer(raw: RawClient) -> tuple[str, str]:
    """A customer with a bound 4242 token: ``(customer_uuid, token)``."""
    customer = await _customer(raw)
    return customer, await _token(raw, customer)


@pytest.mark.anyio
async def test_charge_pays_the_order_with_a_full_transaction(
    raw: RawClient, payer: tuple[str, str]
) -> None:
    """A sale of the whole amount: order completed/paid, the transaction shows only 6+4 digits."""
    customer, token = payer
    await _order(raw, "o-1", customer_uuid=customer)
    order = await _pay(raw, "o-1", token)
    assert set(order) >= ORDER_KEYS
    assert _states(order) == ("completed", "paid")
    assert (order["initial_total"], order["paid_total"], order["unpaid_total"]) == (
        "21.00",
        "21.00",
        "0.00",
    )
    assert "refunded_total" not in order  # no Wonder code shows one
    [transaction] = order["transactions"]
    assert transaction["refunded_amount"] == "0.00"
    assert set(transaction) == TRANSACTION_KEYS
    assert set(transaction["payment_data"]) == PAYMENT_DATA_KEYS
    assert transaction["type"] == "Sales"
    assert (transaction["amount"], transaction["currency"]) == ("21.00", "HKD")
    assert transaction["success"] is True
    assert transaction["captured"] is True
    assert (transaction["allow_void"], transaction["allow_refund"]) == (True, True)
    assert (transaction["voided_at"], transaction["void_is_pending"]) == (None, False)
    assert transaction["payment_method"] == "payment_token"
    data = transaction["payment_data"]
    assert (data["first_6_digits"], data["last_4_digits"], data["credit_card_type"]) == (
        "424242",
        "4242",
        "visa",
    )
    assert (data["transaction_state"], data["token"]) == ("success", token)
    assert "4242424242424242" not in json.dumps(order)
    uuidlib.UUID(transaction["uuid"])  # a new uuid4 when no payment.uuid was sent


@pytest.mark.anyio
async def test_partial_and_over_payment_states(raw: RawClient, payer: tuple[str, str]) -> None:
    """paid vs initial_total: partial_paid (in_completed), then paid, then over_paid."""
    _, token = payer
    await _order(raw, "o-1", "10.00")
    order = await _pay(raw, "o-1", token, "4.00")
    assert _states(order) == ("in_completed", "partial_paid")
    assert (order["paid_total"], order["unpaid_total"]) == ("4.00", "6.00")
    assert _states(await _pay(raw, "o-1", token, "6.00")) == ("completed", "paid")
    order = await _pay(raw, "o-1", token, "0.50")
    assert _states(order) == ("completed", "over_paid")
    assert (order["paid_total"], order["unpaid_total"]) == ("10.50", "0.00")


@pytest.mark.anyio
async def test_direct_payment_and_payment_by_number(raw: RawClient, payer: tuple[str, str]) -> None:
    """The order can be created and paid in one call, or named by Wonder's number."""
    customer, token = payer
    body = _pay_body("unused", token, "5.00")
    del body["reference_number"]
    body.update(
        customer_uuid=customer,
        order={
            "reference_number": "direct-1",
            "charge_fee": "5.00",
            "currency": "HKD",
            "note": "n",
        },
    )
    order = (await raw.ok("POST", f"{API}/open_payments", body))["order"]
    assert (order["reference_number"], order["customer_uuid"], order["note"]) == (
        "direct-1",
        customer,
        "n",
    )
    assert _states(order) == ("completed", "paid")
    created = await _order(raw, "o-2", "3.00")
    body = _pay_body("unused", token, "3.00")
    del body["reference_number"]
    body["number"] = created["number"]
    assert _states((await raw.ok("POST", f"{API}/open_payments", body))["order"]) == (
        "completed",
        "paid",
    )
    assert await _rejected(raw, "open_payments", body | {"number": "nope"}, 404)
    assert "one of" in await _rejected(raw, "open_payments", body | {"reference_number": "o-2"})


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("payment",), None, "payment"),
        (("payment", "payment_token"), "x", "payment.payment_token"),
        (("payment", "payment_token", "amount"), None, "payment.payment_token.amount"),
        (("payment", "payment_token", "amount"), True, "payment.payment_token.amount"),
        (("payment", "payment_token", "amount"), 21.005, "payment.payment_token.amount"),
        (("payment", "payment_token", "amount"), "0.00", "payment.payment_token.amount"),
        (("payment", "payment_token", "amount"), "1.005", "payment.payment_token.amount"),
        (("payment", "payment_token", "amount"), "-1", "payment.payment_token.amount"),
        (("payment", "payment_token", "token"), None, "payment.payment_token.token"),
        (("payment", "payment_token", "token"), ["t"], "payment.payment_token.token"),
        (
            ("payment", "payment_token", "consume_mode"),
            "capture",
            "payment.payment_token.consume_mode",
        ),
        (("payment", "payment_token", "consume_mode"), [], "payment.payment_token.consume_mode"),
        (
            ("payment", "payment_token", "consume_mode"),
            {"a": 1},
            "payment.payment_token.consume_mode",
        ),
        (("payment", "payment_token", "entry_type"), None, "payment.payment_token.entry_type"),
        (("payment", "payment_token", "entry_type"), ["mit"], "payment.payment_token.entry_type"),
        (("payment", "uuid"), 7, "payment.uuid"),
    ],
)
async def test_charge_validation_names_the_field(
    raw: RawClient, payer: tuple[str, str], path: tuple[str, ...], value: Any, field: str
) -> None:
    """Each missing or malformed field is a 400 envelope naming it; nothing is charged."""
    _, token = payer
    await _order(raw, "o-1")
    body = _pay_body("o-1", token)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    message = await _rejected(raw, "open_payments", body)
    assert message.startswith(field), message
    check = await raw.ok("POST", f"{API}/orders/check", {"order": {"reference_number": "o-1"}})
    assert check["order"]["transactions"] == []


@pytest.mark.anyio
async def test_only_bound_tokens_of_the_orders_customer_pay(raw: RawClient) -> None:
    """Pending, failed, deleted, unknown and another customer's tokens are refused by name."""
    customer = await _customer(raw)
    other = await _customer(raw, "c-2")
    await _order(raw, "o-1", customer_uuid=customer)
    pending = await _token(raw, customer, "4000000000003220")
    failed = await _token(raw, customer, "4000000000000002")
    deleted = await _token(raw, customer)
    await raw.ok("DELETE", f"{API}/customers/{customer}/payment_tokens", {"token": deleted})
    foreign = await _token(raw, other)
    for token, hint in [
        (pending, "pending"),
        (failed, "failed"),
        (deleted, "deleted"),
        ("no-such-token", "deleted"),
        (foreign, "another customer"),
    ]:
        message = await _rejected(raw, "open_payments", _pay_body("o-1", token))
        assert message.startswith("payment.payment_token.token"), message
        assert hint in message
    await _rejected(raw, "open_payments", _pay_body("nope", foreign), 404)
    # An order without a customer takes any bound token.
    await _order(raw, "o-2")
    assert _states(await _pay(raw, "o-2", foreign)) == ("completed", "paid")


@pytest.mark.anyio
async def test_payment_uuid_charges_once(raw: RawClient, payer: tuple[str, str]) -> None:
    """A repeated payment.uuid answers 200 with the first transaction and charges nothing."""
    _, token = payer
    await _order(raw, "o-1", "10.00")
    pay_id = str(uuidlib.uuid4())
    first = await _pay(raw, "o-1", token, "4.00", uuid=pay_id)
    again = await _pay(raw, "o-1", token, "9.00", uuid=pay_id)
    assert again["transactions"] == first["transactions"]
    assert [t["uuid"] for t in again["transactions"]] == [pay_id]
    assert again["paid_total"] == "4.00"
    found = await raw.ok("POST", f"{API}/orders/check", {"transaction": {"uuid": pay_id}})
    assert found["order"]["number"] == first["number"]


@pytest.mark.anyio
async def test_without_charge_dedupe_a_repeated_payment_uuid_charges_again(
    raw: RawClient, payer: tuple[str, str], wonder_emulator: Emulator
) -> None:
    """dedupe_charges=False: the gateway that ignores payment.uuid, so a resend shows twice."""
    wonder_emulator.dedupe_charges = False
    _, token = payer
    await _order(raw, "o-1", "10.00")
    pay_id = str(uuidlib.uuid4())
    await _pay(raw, "o-1", token, "4.00", uuid=pay_id)
    again = await _pay(raw, "o-1", token, "4.00", uuid=pay_id)
    assert [t["uuid"] for t in again["transactions"]] == [pay_id, pay_id]
    assert again["paid_total"] == "8.00"


@pytest.mark.anyio
async def test_pre_authorisation_is_not_paid_and_can_be_voided(
    raw: RawClient, payer: tuple[str, str]
) -> None:
    """pre_authorize: an uncaptured Authorization outside paid_total; voiding it voids the order."""
    _, token = payer
    await _order(raw, "o-1")
    order = await _pay(raw, "o-1", token, consume_mode="pre_authorize")
    [auth] = order["transactions"]
    assert (auth["type"], auth["captured"], auth["allow_void"], auth["allow_refund"]) == (
        "Authorization",
        False,
        True,
        False,
    )
    assert _states(order) == ("invoiced", "unpaid")
    assert order["paid_total"] == "0.00"
    refund = {
        "order": {"reference_number": "o-1"},
        "transaction": {"uuid": auth["uuid"]},
        "refund": {"amount": "1.00"},
    }
    assert "cannot be refunded" in await _rejected(raw, "orders/refund", refund)
    void = {"order": {"reference_number": "o-1"}, "transaction": {"uuid": auth["uuid"]}}
    voided = (await raw.ok("POST", f"{API}/orders/void", void))["order"]
    assert _states(voided) == ("completed", "voided")
    assert voided["transactions"][0]["payment_data"]["transaction_state"] == "voided"
    assert voided["transactions"][0]["voided_at"] is not None


@pytest.mark.anyio
async def test_decline_card_binds_but_every_charge_is_declined(raw: RawClient) -> None:
    """4000000000009995: token success; a charge answers 200 with the transaction
    success:false and the reason in payment_data.resp_code/resp_msg (declines=success_false)."""
    customer = await _customer(raw)
    data = await raw.ok(
        "POST", f"{API}/customers/{customer}/payment_tokens", card_body("4000000000009995")
    )
    token = data["payment_token"]
    assert token["state"] == "success"
    assert "charge_decline" not in token
    await _order(raw, "o-1", customer_uuid=customer)
    for mode in ("sales", "pre_authorize"):
        body = _pay_body("o-1", token["token"], consume_mode=mode)
        failed = (await raw.ok("POST", f"{API}/open_payments", body))["order"]["transactions"][-1]
        assert (failed["success"], failed["is_pending"]) == (False, False)
        assert "failure_code" not in failed
        data = failed["payment_data"]
        assert (data["resp_code"], data["resp_msg"]) == ("51", "Insufficient funds")
        assert data["transaction_state"] == "failed"
        assert (failed["allow_void"], failed["allow_refund"]) == (False, False)
    order = (await raw.ok("POST", f"{API}/orders/check", {"order": {"reference_number": "o-1"}}))[
        "order"
    ]
    assert len(order["transactions"]) == 2
    assert _states(order) == ("invoiced", "unpaid")
    assert order["paid_total"] == "0.00"


@pytest.mark.anyio
async def test_order_check_by_transaction_uuid(raw: RawClient, payer: tuple[str, str]) -> None:
    """orders/check finds the order holding a transaction; an unknown uuid is 404."""
    _, token = payer
    await _order(raw, "o-1")
    paid = await _pay(raw, "o-1", token)
    uuid = paid["transactions"][0]["uuid"]
    assert (await raw.ok("POST", f"{API}/orders/check", {"transaction": {"uuid": uuid}}))[
        "order"
    ] == paid
    await _rejected(raw, "orders/check", {"transaction": {"uuid": "nope"}}, 404)
    assert "transaction.uuid" in await _rejected(raw, "orders/check", {"transaction": {"uuid": []}})
    assert "transaction" in await _rejected(raw, "orders/check", {"transaction": "x"})


@pytest.mark.anyio
async def test_void_rules(raw: RawClient, payer: tuple[str, str]) -> None:
    """Void a sale once; refunded sales and paid orders cannot be voided; unpaid orders can."""
    _, token = payer
    await _order(raw, "o-1", "10.00")
    sale_a = (await _pay(raw, "o-1", token, "4.00"))["transactions"][0]["uuid"]
    sale_b = (await _pay(raw, "o-1", token, "6.00"))["transactions"][1]["uuid"]
    void_a = {"order": {"reference_number": "o-1"}, "transaction": {"uuid": sale_a}}
    order = (await raw.ok("POST", f"{API}/orders/void", void_a))["order"]
    assert _states(order) == ("in_completed", "partial_paid")  # one of two voided
    assert order["paid_total"] == "6.00"
    assert "already voided" in await _rejected(raw, "orders/void", void_a)
    refund = {
        "order": {"reference_number": "o-1"},
        "transaction": {"uuid": sale_b},
        "refund": {"amount": "1.00"},
    }
    await raw.ok("POST", f"{API}/orders/refund", refund)
    void_b = {"order": {"reference_number": "o-1"}, "transaction": {"uuid": sale_b}}
    assert "cannot be voided" in await _rejected(raw, "orders/void", void_b)
    assert "only an unpaid order" in await _rejected(
        raw, "orders/void", {"order": {"reference_number": "o-1"}}
    )
    await _rejected(
        raw,
        "orders/void",
        {"order": {"reference_number": "o-1"}, "transaction": {"uuid": "x"}},
        404,
    )
    await _rejected(raw, "orders/void", {"order": {"reference_number": "nope"}}, 404)

    unpaid = await _order(raw, "o-2")
    voided = (await raw.ok("POST", f"{API}/orders/void", {"order": {"number": unpaid["number"]}}))[
        "order"
    ]
    assert _states(voided) == ("voided", "voided")
    assert "already voided" in await _rejected(
        raw, "orders/void", {"order": {"number": unpaid["number"]}}
    )
    assert "voided" in await _rejected(raw, "open_payments", _pay_body("o-2", token))


@pytest.mark.anyio
async def test_sale_voided_fully(raw: RawClient, payer: tuple[str, str]) -> None:
    """Voiding the only sale: completed/voided, nothing paid."""
    _, token = payer
    await _order(raw, "o-1")
    sale = (await _pay(raw, "o-1", token))["transactions"][0]["uuid"]
    order = (
        await raw.ok(
            "POST",
            f"{API}/orders/void",
            {"order": {"reference_number": "o-1"}, "transaction": {"uuid": sale}},
        )
    )["order"]
    assert _states(order) == ("completed", "voided")
    assert (order["paid_total"], order["unpaid_total"]) == ("0.00", "21.00")


@pytest.mark.anyio
async def test_refund_rules(raw: RawClient, payer: tuple[str, str]) -> None:
    """Partial then full refund; never more than refundable; a refunded order cannot be paid."""
    _, token = payer
    await _order(raw, "o-1")
    sale = (await _pay(raw, "o-1", token))["transactions"][0]["uuid"]

    def refund(amount: Any) -> dict[str, Any]:
        return {
            "order": {"reference_number": "o-1"},
            "transaction": {"uuid": sale},
            "refund": {"amount": amount},
        }

    order = (await raw.ok("POST", f"{API}/orders/refund", refund("5.00")))["order"]
    assert _states(order) == ("in_completed", "partial_paid")
    original, first = order["transactions"]
    assert original["refunded_amount"] == "5.00"
    assert (original["allow_void"], original["allow_refund"]) == (False, True)
    assert (first["type"], first["amount"], first["original_transaction_uuid"]) == (
        "Refund",
        "5.00",
        sale,
    )
    assert first["uuid"] != sale
    for bad_amount in ("16.01", "0", "1.001", 1.001, -5, True, None, []):
        message = await _rejected(raw, "orders/refund", refund(bad_amount))
        assert message.startswith("refund.amount"), message
    assert "16.00" in await _rejected(raw, "orders/refund", refund("16.01"))
    assert "refund" in await _rejected(raw, "orders/refund", {**refund("1.00"), "refund": "1.00"})
    order = (await raw.ok("POST", f"{API}/orders/refund", refund("16.00")))["order"]
    assert _states(order) == ("completed", "refunded")
    assert order["transactions"][0]["allow_refund"] is False
    assert (order["paid_total"], order["transactions"][0]["refunded_amount"]) == ("21.00", "21.00")
    assert "16.01" not in await _rejected(raw, "orders/refund", refund("0.01"))
    assert "refunded" in await _rejected(raw, "open_payments", _pay_body("o-1", token))
    refund_uuid = order["transactions"][1]["uuid"]
    assert "cannot be refunded" in await _rejected(
        raw, "orders/refund", {**refund("1.00"), "transaction": {"uuid": refund_uuid}}
    )
    assert "cannot be voided" in await _rejected(
        raw,
        "orders/void",
        {"order": {"reference_number": "o-1"}, "transaction": {"uuid": refund_uuid}},
    )


@pytest.mark.anyio
async def test_orders_list_pages_in_creation_order(raw: RawClient, payer: tuple[str, str]) -> None:
    """offset/limit pages, total, customer_uuid filter, payment_link per order, limit rules."""
    customer, token = payer
    for i in range(5):
        await _order(raw, f"l-{i}", customer_uuid=customer if i % 2 == 0 else None)
    linked = await raw.ok(
        "POST",
        f"{API}/orders?with_payment_link=true",
        {"order": {"reference_number": "l-5", "charge_fee": "1.00", "currency": "HKD"}},
    )
    await _pay(raw, "l-0", token)
    seen = []
    for offset in (0, 4):
        data = await raw.ok("GET", f"{API}/orders/list?offset={offset}&limit=4")
        assert data["total"] == 6
        seen += data["orders"]
    assert [o["order"]["reference_number"] for o in seen] == [f"l-{i}" for i in range(6)]
    assert seen[0]["order"]["correspondence_state"] == "paid"
    assert seen[0]["order"]["transactions"][0]["type"] == "Sales"
    assert [o["payment_link"] for o in seen[:5]] == [None] * 5
    assert seen[5]["payment_link"] == linked["payment_link"]
    mine = await raw.ok("GET", f"{API}/orders/list?customer_uuid={customer}")
    assert [o["order"]["reference_number"] for o in mine["orders"]] == ["l-0", "l-2", "l-4"]
    assert mine["total"] == 3
    for query in ("limit=0", "limit=1001", "offset=-1", "limit=x"):
        status, doc = await raw.call("GET", f"{API}/orders/list?{query}")
        assert status == 400, query
        assert doc["message"].startswith(query.split("=")[0] + ": ")


@pytest.mark.anyio
async def test_new_routes_take_faults(
    raw: RawClient, wonder_emulator: Emulator, payer: tuple[str, str]
) -> None:
    """payments.create and the new order routes are fault-injectable and counted."""
    assert {"payments.create", "orders.void", "orders.refund", "orders.list"} <= set(ROUTES)
    _, token = payer
    await _order(raw, "o-1")
    wonder_emulator.faults.script("payments.create", ["503"])
    status, _ = await raw.call("POST", f"{API}/open_payments", _pay_body("o-1", token))
    assert status == 503
    wonder_emulator.faults.script("payments.create", ["reset_after"])
    with pytest.raises(aiohttp.ClientError):
        await raw.call("POST", f"{API}/open_payments", _pay_body("o-1", token, uuid="p-1"))
    # The charge went through although its answer was lost; the retry with the same uuid
    # answers it without charging again.
    order = await _pay(raw, "o-1", token, uuid="p-1")
    assert [t["uuid"] for t in order["transactions"]] == ["p-1"]
    await raw.ok("GET", f"{API}/orders/list")
    assert wonder_emulator.stats["requests"]["payments.create"] == 3
    assert wonder_emulator.stats["requests"]["orders.list"] == 1


@pytest.mark.anyio
async def test_hostile_bodies_get_400_envelopes(raw: RawClient) -> None:
    """A too-deep body and lists where enum strings belong are 400 envelopes, never 500."""
    for path, key in [
        ("open_payments", "payment"),
        ("orders/void", "order"),
        ("orders/refund", "refund"),
        ("customers", "customer"),
    ]:
        deep = (f'{{"{key}": ' + "[" * 50_000 + "]" * 50_000 + "}").encode()
        uri = f"{API}/{path}"
        headers = sign_headers(raw.app_id, raw.key, "POST", uri, deep)
        headers["Content-Type"] = "application/json"
        status, doc = await raw.call(
            "POST", uri, headers=headers, tamper=lambda u, _b, d=deep: (u, d)
        )
        assert status == 400, (path, status, doc)
        assert doc["message"] == "body: nests deeper than 32 levels"
    customer = await _customer(raw)
    status, doc = await raw.call(
        "POST",
        f"{API}/customers/{customer}/payment_tokens",
        card_body("4242424242424242", transaction_type=[]),
    )
    assert status == 400
    assert doc["message"].startswith("card.transaction_type")


@pytest.mark.anyio
async def test_db_keeps_transactions_and_payment_uuids(tmp_path: Path) -> None:
    """With --db the transactions, the uuid index and charge de-duplication survive a restart."""
    db = tmp_path / "emu.db"
    readings = {"errors": "http", "amounts": "string"}
    async with Emulator(db=db, readings=readings) as emu, aiohttp.ClientSession() as session:
        raw = RawClient(session, emu)
        customer = await _customer(raw)
        token = await _token(raw, customer)
        await _order(raw, "o-1", "10.00")
        first = await _pay(raw, "o-1", token, "4.00", uuid="pay-1")
        key = emu.private_key_pem
    restarted = Emulator(db=db, private_key=key, readings=readings)
    async with restarted as emu, aiohttp.ClientSession() as session:
        raw = RawClient(session, emu)
        again = await _pay(raw, "o-1", token, "4.00", uuid="pay-1")
        assert again["transactions"] == first["transactions"]
        assert again["paid_total"] == "4.00"
        found = await raw.ok("POST", f"{API}/orders/check", {"transaction": {"uuid": "pay-1"}})
        assert found["order"]["number"] == first["number"]


@pytest.mark.anyio
async def test_webhooks_for_each_state_change_keep_the_callback_url(
    raw: RawClient, wonder_emulator: Emulator
) -> None:
    """order.created/paid/payment_failure/refunded/voided and transaction.voided arrive signed
    at the callback URL exactly as written (a %2F in its query stays %2F)."""
    received: list[tuple[str, str, bytes, dict[str, str]]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        received.append(
            (request.headers["X-Action"], request.raw_path, body, dict(request.headers))
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hooks/wonder", hook)
    async with TestServer(app, host="127.0.0.1") as merchant:
        callback = str(merchant.make_url("/hooks/wonder")) + "?next=a%2Fb&x=1"
        customer = await _customer(raw)
        token = await _token(raw, customer)
        declined = await _token(raw, customer, "4000000000009995")
        await _order(raw, "w-1", "10.00", callback_url=callback)
        await raw.call("POST", f"{API}/open_payments", _pay_body("w-1", declined))
        sale = (await _pay(raw, "w-1", token, "10.00"))["transactions"][-1]["uuid"]
        target = {"order": {"reference_number": "w-1"}, "transaction": {"uuid": sale}}
        await raw.ok("POST", f"{API}/orders/refund", {**target, "refund": {"amount": "3.00"}})
        await _order(raw, "w-2", "5.00", callback_url=callback)
        auth = (await _pay(raw, "w-2", token, "5.00", consume_mode="pre_authorize"))[
            "transactions"
        ][0]["uuid"]
        await raw.ok(
            "POST",
            f"{API}/orders/void",
            {"order": {"reference_number": "w-2"}, "transaction": {"uuid": auth}},
        )
        await _order(raw, "w-3", "5.00", callback_url=callback)
        await raw.ok("POST", f"{API}/orders/void", {"order": {"reference_number": "w-3"}})
        await wonder_emulator.wait_for_webhooks()
    verifier = WebhookVerifier(
        wonder_emulator.webhook_public_key_pem, app_id=wonder_emulator.app_id
    )
    events = []
    for action, uri, body, headers in received:
        assert uri == "/hooks/wonder?next=a%2Fb&x=1"
        events.append(verifier.verify(body, headers, uri))
        assert events[-1].action == action
        # webhook_body=envelope: the Query order answer (WooCommerce reads data.order).
        assert json.loads(body)["data"]["order"]["callback_url"] == callback
    assert [(e.action, e.order.reference_number, e.correspondence_state) for e in events] == [
        ("order.created", "w-1", "unpaid"),
        ("order.payment_failure", "w-1", "unpaid"),
        ("order.paid", "w-1", "paid"),
        ("order.refunded", "w-1", "partial_paid"),
        ("order.created", "w-2", "unpaid"),
        ("transaction.voided", "w-2", "voided"),
        ("order.created", "w-3", "unpaid"),
        ("order.voided", "w-3", "voided"),
    ]
    assert all(entry["status"] == 200 for entry in wonder_emulator.webhook_log)


@pytest.mark.anyio
async def test_voiding_an_unpaid_order_releases_its_pre_authorisation(
    raw: RawClient, payer: tuple[str, str]
) -> None:
    """An order holding only an Authorization is unpaid; voiding it voids the hold too."""
    _, token = payer
    await _order(raw, "o-1")
    await _pay(raw, "o-1", token, consume_mode="pre_authorize")
    order = (await raw.ok("POST", f"{API}/orders/void", {"order": {"reference_number": "o-1"}}))[
        "order"
    ]
    assert _states(order) == ("voided", "voided")
    [auth] = order["transactions"]
    assert (bool(auth["voided_at"]), auth["allow_void"]) == (True, False)
    assert auth["payment_data"]["transaction_state"] == "voided"


@pytest.mark.anyio
async def test_payment_link_records_a_sale(raw: RawClient) -> None:
    """Paying through the payment link leaves a Sales transaction and a paid order."""
    data = await raw.ok(
        "POST",
        f"{API}/orders?with_payment_link=true",
        {"order": {"reference_number": "o-1", "charge_fee": "7.50", "currency": "HKD"}},
    )
    async with raw.session.post(data["payment_link"]) as resp:
        assert resp.status == 200
    order = (await raw.ok("POST", f"{API}/orders/check", {"order": {"reference_number": "o-1"}}))[
        "order"
    ]
    assert _states(order) == ("completed", "paid")
    [sale] = order["transactions"]
    assert (sale["type"], sale["amount"], sale["payment_method"]) == (
        "Sales",
        "7.50",
        "credit_card",
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("order", "field"),
    [
        ({"line_items": [{"label": [[["deep"]]]}]}, "order.line_items[0].label"),
        ({"line_items": ["x"]}, "order.line_items[0]"),
        ({"line_items": {"a": 1}}, "order.line_items"),
        ({"tips": 1.001}, "order.tips"),
        ({"tips": True}, "order.tips"),
        ({"charge_fee": "1.234"}, "order.charge_fee"),
        ({"charge_fee": "١٢"}, "order.charge_fee"),
        ({"note": {"a": 1}}, "order.note"),
        ({"is_only_pre_auth": "yes"}, "order.is_only_pre_auth"),
    ],
)
async def test_order_fields_are_type_checked(
    raw: RawClient, order: dict[str, Any], field: str
) -> None:
    """Order fields of the wrong type are 400s naming them, on both create paths."""
    body = {"order": {"reference_number": "o-1", "charge_fee": "1.00", "currency": "HKD", **order}}
    assert (await _rejected(raw, "orders", body)).startswith(field)
    customer = await _customer(raw)
    token = await _token(raw, customer)
    direct = {**body, "payment": _pay_body("-", token)["payment"]}
    assert (await _rejected(raw, "open_payments", direct)).startswith(field)
    assert (await raw.ok("GET", f"{API}/orders/list"))["total"] == 0
