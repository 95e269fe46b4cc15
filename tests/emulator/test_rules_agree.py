"""For each input rule, the SDK refuses before sending and the emulator refuses the same raw
request with a 400 envelope naming the same field (issue 18)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.emulator.conftest import API, RawClient, card_body, customer_body
from wonder_async import Card, ThreeDS, ValidationError, WonderClient
from wonder_async.testing import Emulator

SdkCall = Callable[[WonderClient, str], Awaitable[Any]]
THREE_DS = ThreeDS("https://shop.example/ok", "https://shop.example/fail")
FULL_WIDTH = "４２４２４２４２４２４２４２４２"
GOOD_CARD: dict[str, Any] = {
    "number": "4242424242424242",
    "exp_month": "12",
    "exp_year": "2099",
    "holder_name": "Chan Tai Man",
}


@pytest.fixture
async def sdk(wonder_emulator: Emulator) -> AsyncIterator[WonderClient]:
    assert wonder_emulator.private_key_pem is not None
    async with WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url,
        max_retries=0,
    ) as client:
        yield client


def _bind(**card: Any) -> SdkCall:
    async def call(client: WonderClient, uuid: str) -> Any:
        return await client.payment_tokens.create(uuid, card=Card(**{**GOOD_CARD, **card}),
                                                  three_ds=THREE_DS)  # fmt: skip

    return call


def _upsert(**fields: Any) -> SdkCall:
    async def call(client: WonderClient, _uuid: str) -> Any:
        base = {"reference_number": "agree-1", "name": "Tai Man", "phone": "1"}
        return await client.customers.upsert(**{**base, **fields})

    return call


def _order(**fields: Any) -> SdkCall:
    async def call(client: WonderClient, _uuid: str) -> Any:
        base = {"reference_number": "o-1", "charge_fee": "1.00", "currency": "HKD"}
        return await client.orders.create(**{**base, **fields})

    return call


def _charge(**fields: Any) -> SdkCall:
    async def call(client: WonderClient, _uuid: str) -> Any:
        base = {"token": "t-1", "amount": "1.00", "reference_number": "o-1"}
        return await client.payments.create(**{**base, **fields})

    return call


def _refund(amount: str) -> SdkCall:
    async def call(client: WonderClient, _uuid: str) -> Any:
        return await client.orders.refund(number="n-1", transaction_uuid="t-1", amount=amount)

    return call


def _charge_body(amount: str) -> dict[str, Any]:
    charge = {"amount": amount, "token": "t-1", "consume_mode": "sales", "entry_type": "mit"}
    return {"reference_number": "o-1", "payment": {"payment_token": charge}}


def _refund_body(amount: str) -> dict[str, Any]:
    return {
        "order": {"number": "n-1"},
        "transaction": {"uuid": "t-1"},
        "refund": {"amount": amount},
    }


def _order_body(**fields: Any) -> dict[str, Any]:
    return {"order": {"reference_number": "o-1", "charge_fee": "1.00", "currency": "HKD", **fields}}


def _list_customers(**kw: Any) -> SdkCall:
    async def call(client: WonderClient, _uuid: str) -> Any:
        return [c async for c in client.customers.list(**kw)]

    return call


CASES: list[tuple[str, SdkCall, str, str, Any, str]] = [
    # (id, SDK call, method, path ({uuid} = a customer), raw body, field named by both)
    ("superscript card number", _bind(number="²" * 16), "POST",
     "/customers/{uuid}/payment_tokens", card_body("²" * 16), "card.number"),
    ("arabic-indic card number", _bind(number="٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"), "POST",
     "/customers/{uuid}/payment_tokens", card_body("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"), "card.number"),
    ("full-width card number", _bind(number=FULL_WIDTH), "POST",
     "/customers/{uuid}/payment_tokens", card_body(FULL_WIDTH), "card.number"),
    ("superscript month", _bind(exp_month="²"), "POST", "/customers/{uuid}/payment_tokens",
     card_body("4242424242424242", exp_month="²"), "card.exp_month"),
    ("year 0", _bind(exp_year="0"), "POST", "/customers/{uuid}/payment_tokens",
     card_body("4242424242424242", exp_year="0"), "card.exp_year"),
    ("expired year", _bind(exp_year="2001"), "POST", "/customers/{uuid}/payment_tokens",
     card_body("4242424242424242", exp_year="2001"), "card.exp_year"),
    ("NUL in holder name", _bind(holder_name="Chan\x00"), "POST",
     "/customers/{uuid}/payment_tokens", card_body("4242424242424242", holder_name="Chan\x00"),
     "card.holder_name"),
    ("lone surrogate in holder name", _bind(holder_name="\ud800"), "POST",
     "/customers/{uuid}/payment_tokens", card_body("4242424242424242", holder_name="\ud800"),
     "card.holder_name"),
    ("control character in name", _upsert(name="Tai\x1bMan"), "POST", "/customers",
     customer_body("agree-1", name="Tai\x1bMan"), "customer.name"),
    ("newline in reference", _upsert(reference_number="r\n1"), "POST", "/customers",
     {"customer": {"reference_number": "r\n1", "name": "Tai Man", "phone": "1"}},
     "customer.reference_number"),
    ("long dial code", _upsert(dial_code="+8520000"), "POST", "/customers",
     customer_body("agree-1", dial_code="+8520000"), "customer.dial_code"),
    ("unknown payment method", _upsert(default_payment_method="Cash"), "POST", "/customers",
     customer_body("agree-1", default_payment_method="Cash"), "customer.default_payment_method"),
    ("currency 1e3", _order(currency="1e3"), "POST", "/orders", _order_body(currency="1e3"),
     "order.currency"),
    ("unknown currency", _order(currency="ABC"), "POST", "/orders", _order_body(currency="ABC"),
     "order.currency"),
    ("three decimal places", _order(charge_fee="1.005"), "POST", "/orders",
     _order_body(charge_fee="1.005"), "order.charge_fee"),
    ("full-width amount", _order(charge_fee="１.00"), "POST", "/orders",
     _order_body(charge_fee="１.00"), "order.charge_fee"),
    ("NUL in order reference", _order(reference_number="o\x00"), "POST", "/orders",
     _order_body(reference_number="o\x00"), "order.reference_number"),
    ("charge of 1.005", _charge(amount="1.005"), "POST", "/open_payments",
     _charge_body("1.005"), "payment.payment_token.amount"),
    ("charge in Arabic-Indic digits", _charge(amount="١.00"), "POST", "/open_payments",
     _charge_body("١.00"), "payment.payment_token.amount"),
    ("refund in full-width digits", _refund("１.00"), "POST", "/orders/refund",
     _refund_body("１.00"), "refund.amount"),
    ("refund of 0.001", _refund("0.001"), "POST", "/orders/refund", _refund_body("0.001"),
     "refund.amount"),
    ("unknown filter operator", _list_customers(filters={"name": {"_like": "x"}}), "GET",
     "/customers?filter%5Bname%5D%5B_like%5D=x", None, "filter"),
    ("page size 0", _list_customers(page_size=0), "GET", "/customers?limit=0&offset=0", None,
     ""),
]  # fmt: skip


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("sdk_call", "method", "path", "body", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
async def test_sdk_and_emulator_refuse_the_same_input(
    sdk: WonderClient,
    raw: RawClient,
    wonder_emulator: Emulator,
    sdk_call: SdkCall,
    method: str,
    path: str,
    body: Any,
    field: str,
) -> None:
    uuid = (await raw.ok("POST", f"{API}/customers", customer_body("owner")))["customer"]["uuid"]
    before = wonder_emulator.requests.total()
    with pytest.raises(ValidationError) as refused:
        await sdk_call(sdk, uuid)
    assert wonder_emulator.requests.total() == before, "the SDK sent the request"
    assert refused.value.field.startswith(field) or refused.value.field == "page_size"

    status, doc = await raw.call(method, API + path.format(uuid=uuid), body)
    assert status == 400, doc
    assert doc["code"] == 400
    assert doc["data"] is None
    assert doc["message"].split(":")[0].startswith(field or "limit"), doc
    # Nothing was stored: the customers and orders are as before.
    listed = await raw.ok("GET", f"{API}/customers")
    assert [c["reference_number"] for c in listed["customers"]] == ["owner"]
    assert wonder_emulator.state.orders == {}
