"""Every endpoint of wonder-api.md §3 on the emulator, driven by a docs-only client."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.emulator.conftest import API, RawClient, card_body, customer_body
from tests.independent_signing import sign_headers
from wonder_async.testing import Emulator

CUSTOMER_KEYS = {
    "name",
    "email",
    "dial_code",
    "phone",
    "company_name",
    "reference_number",
    "default_payment_method",
    "uuid",
    "default_payment_token",
}
TOKEN_KEYS = {
    "token_type",
    "token",
    "state",
    "default",
    "credit_card",
    "verify_url",
    "verify_uuid",
    "error_code",
    "error_msg",
}


async def _new_customer(raw: RawClient, ref: str = "c-1") -> str:
    data = await raw.ok("POST", f"{API}/customers", customer_body(ref))
    uuid: str = data["customer"]["uuid"]
    return uuid


async def _new_token(raw: RawClient, uuid: str, number: str) -> dict[str, Any]:
    data = await raw.ok("POST", f"{API}/customers/{uuid}/payment_tokens", card_body(number))
    token: dict[str, Any] = data["payment_token"]
    return token


@pytest.mark.anyio
async def test_every_customer_endpoint(raw: RawClient) -> None:
    """Upsert, get by uuid/reference/token, edit and list answer with full Customer objects."""
    data = await raw.ok("POST", f"{API}/customers", customer_body("a/b c", email="t@m.hk"))
    customer = data["customer"]
    assert set(customer) == CUSTOMER_KEYS
    assert customer["default_payment_token"] is None
    assert customer["company_name"] is None
    uuid = customer["uuid"]
    assert (await raw.ok("GET", f"{API}/customers/{uuid}"))["customer"] == customer
    by_ref = await raw.ok("GET", f"{API}/customers/ref/{quote('a/b c', safe='')}")
    assert by_ref["customer"] == customer
    edited = await raw.ok(
        "PUT", f"{API}/customers/{uuid}", {"company_name": "Wonder", "dial_code": "+852"}
    )
    assert edited["customer"]["company_name"] == "Wonder"
    assert edited["customer"]["name"] == "Tai Man"  # fields not sent stay as they were
    assert edited["customer"]["email"] == "t@m.hk"
    token = (await _new_token(raw, uuid, "4242424242424242"))["token"]
    by_token = await raw.ok("POST", f"{API}/customers/by/token", {"token": token})
    assert by_token["customer"]["uuid"] == uuid
    assert by_token["customer"]["default_payment_token"]["token"] == token
    listed = await raw.ok("GET", f"{API}/customers?limit=5&offset=0")
    assert [c["uuid"] for c in listed["customers"]] == [uuid]
    status, doc = await raw.call("POST", f"{API}/customers/by/token", {"token": "nope"})
    assert status == 404
    assert doc["data"] is None
    status, _ = await raw.call("GET", f"{API}/customers/00000000-0000-4000-8000-000000000000")
    assert status == 404


@pytest.mark.anyio
async def test_payment_token_lifecycle(raw: RawClient) -> None:
    """Create, check, list (with token_type filter) and delete a card token."""
    uuid = await _new_customer(raw)
    base = f"{API}/customers/{uuid}/payment_tokens"
    token = (await raw.ok("POST", base, card_body("4242 4242 4242 4242")))["payment_token"]
    assert set(token) == TOKEN_KEYS
    assert token["token_type"] == "CreditCard"
    assert token["state"] == "success"
    assert token["default"] is True  # the customer's first successful token
    card = token["credit_card"]
    assert card["number"] == "424242******4242"
    assert (card["exp_month"], card["exp_year"], card["brand"]) == ("12", "2099", "visa")
    assert card["holder_name"] == "Chan Tai Man"
    assert card["billing_currency"]
    second = (await raw.ok("POST", base, card_body("4242424242424242")))["payment_token"]
    assert second["default"] is False
    check = {"payment_token": {"token": token["token"], "verify_uuid": token["verify_uuid"]}}
    assert (await raw.ok("POST", f"{base}/check", check))["payment_token"] == token
    check_no_verify = {"payment_token": {"token": second["token"]}}
    assert (await raw.ok("POST", f"{base}/check", check_no_verify))["payment_token"]["state"] == (
        "success"
    )
    listed = (await raw.ok("GET", base))["payment_tokens"]
    assert [t["token"] for t in listed] == [token["token"], second["token"]]
    gateway = (await raw.ok("GET", f"{base}?token_type=Gateway,WechatPayAutoDebit"))[
        "payment_tokens"
    ]
    assert len(gateway) == 2
    assert (await raw.ok("GET", f"{base}?token_type=AlipayAutoDebit"))["payment_tokens"] == []
    assert (await raw.ok("DELETE", base, {"token": token["token"]})) == {"success": True}
    listed = (await raw.ok("GET", base))["payment_tokens"]
    assert [t["token"] for t in listed] == [second["token"]]
    status, _ = await raw.call("POST", f"{base}/check", check)
    assert status == 404
    status, _ = await raw.call("DELETE", base, {"token": token["token"]})
    assert status == 404
    customer = (await raw.ok("GET", f"{API}/customers/{uuid}"))["customer"]
    assert customer["default_payment_token"] is None  # the deleted default is gone


@pytest.mark.anyio
async def test_token_of_another_customer_is_not_found(raw: RawClient) -> None:
    """A token is checked, deleted and made default only through its own customer."""
    owner = await _new_customer(raw, "owner")
    other = await _new_customer(raw, "other")
    token = (await _new_token(raw, owner, "4242424242424242"))["token"]
    check = {"payment_token": {"token": token}}
    status, _ = await raw.call("POST", f"{API}/customers/{other}/payment_tokens/check", check)
    assert status == 404
    status, doc = await raw.call(
        "PUT", f"{API}/customers/{other}", {"default_payment_token": token}
    )
    assert status == 400
    assert "default_payment_token" in doc["message"]


@pytest.mark.anyio
async def test_3ds_challenge_approved_through_the_pages(raw: RawClient) -> None:
    """A 3DS card is pending; approving on the verify page redirects 303 and binds it."""
    uuid = await _new_customer(raw)
    base = f"{API}/customers/{uuid}/payment_tokens"
    token = (await raw.ok("POST", base, card_body("4000000000003220")))["payment_token"]
    assert token["state"] == "pending"
    assert token["default"] is False
    assert token["verify_url"].startswith(raw.base + "/3ds/")
    async with raw.session.get(token["verify_url"]) as resp:
        page = await resp.text()
        assert resp.status == 200
        assert resp.content_type == "text/html"
    assert "Approve" in page
    assert "Decline" in page
    assert "4000000000003220" not in page
    async with raw.session.post(
        token["verify_url"], data={"result": "success"}, allow_redirects=False
    ) as resp:
        assert resp.status == 303
        assert resp.headers["Location"] == "https://shop.example/3ds/ok"
    check = {"payment_token": {"token": token["token"], "verify_uuid": token["verify_uuid"]}}
    after = (await raw.ok("POST", f"{base}/check", check))["payment_token"]
    assert after["state"] == "success"
    assert after["default"] is True


@pytest.mark.anyio
async def test_3ds_challenge_declined_through_the_pages(raw: RawClient) -> None:
    """Any other Luhn-valid card is pending; declining redirects to the fail URL, state failed."""
    uuid = await _new_customer(raw)
    base = f"{API}/customers/{uuid}/payment_tokens"
    token = (await raw.ok("POST", base, card_body("5555555555554444")))["payment_token"]
    assert (token["state"], token["credit_card"]["brand"]) == ("pending", "mastercard")
    async with raw.session.post(
        token["verify_url"], data={"result": "failed"}, allow_redirects=False
    ) as resp:
        assert resp.status == 303
        assert resp.headers["Location"] == "https://shop.example/3ds/fail"
    after = (await raw.ok("POST", f"{base}/check", {"payment_token": {"token": token["token"]}}))[
        "payment_token"
    ]
    assert after["state"] == "failed"
    assert after["error_code"]
    assert after["error_msg"]
    assert after["default"] is False
    async with raw.session.post(token["verify_url"], data={"result": "maybe"}) as resp:
        assert resp.status == 400
    async with raw.session.get(raw.base + "/3ds/unknown") as resp:
        assert resp.status == 404


@pytest.mark.anyio
async def test_declined_test_card_fails_at_once(raw: RawClient) -> None:
    """4000000000000002 is declined: state failed with error_code and error_msg, no verify_url."""
    uuid = await _new_customer(raw)
    token = await _new_token(raw, uuid, "4000000000000002")
    assert token["state"] == "failed"
    assert token["error_code"]
    assert token["error_msg"]
    assert token["verify_url"] is None
    assert token["default"] is False


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("card", "field"),
    [
        ({"number": "4242424242424241"}, "card.number"),
        ({"number": "42424242abcd"}, "card.number"),
        ({"number": None}, "card.number"),
        ({"holder_name": ""}, "card.holder_name"),
        ({"exp_month": "13"}, "card.exp_month"),
        ({"3ds": None}, "card.3ds"),
        ({"3ds": {"success_return_url": "https://a/s"}}, "card.3ds.fail_return_url"),
        ({"transaction_type": "whenever"}, "card.transaction_type"),
    ],
    ids=["luhn", "digits", "missing", "holder", "month", "3ds", "fail-url", "transaction-type"],
)
async def test_card_validation_names_the_field(
    raw: RawClient, card: dict[str, Any], field: str
) -> None:
    """Bad card input is 400 with the field named and never echoes the card number."""
    uuid = await _new_customer(raw)
    body = card_body("4242424242424242")
    body["card"].update(card)
    status, doc = await raw.call("POST", f"{API}/customers/{uuid}/payment_tokens", body)
    assert status == 400
    assert field in doc["message"]
    assert "424242424242424" not in json.dumps(doc)


@pytest.mark.anyio
async def test_full_card_number_appears_in_no_response(raw: RawClient) -> None:
    """Create, check, list, customer views and the 3DS page only ever show the masked number."""
    uuid = await _new_customer(raw)
    base = f"{API}/customers/{uuid}/payment_tokens"
    texts = []
    for number in ("4242424242424242", "4000000000003220", "4000000000000002"):
        data = await raw.ok("POST", base, card_body(number))
        texts.append(json.dumps(data))
        token = data["payment_token"]
        check = {"payment_token": {"token": token["token"]}}
        texts.append(json.dumps(await raw.ok("POST", f"{base}/check", check)))
        texts.append(
            json.dumps(await raw.ok("POST", f"{API}/customers/by/token", check["payment_token"]))
        )
        if token["verify_url"]:
            async with raw.session.get(token["verify_url"]) as resp:
                texts.append(await resp.text())
    texts.append(json.dumps(await raw.ok("GET", base)))
    texts.append(json.dumps(await raw.ok("GET", f"{API}/customers/{uuid}")))
    texts.append(json.dumps(await raw.ok("GET", f"{API}/customers?limit=10")))
    joined = "\n".join(texts)
    for number in ("4242424242424242", "4000000000003220", "4000000000000002"):
        assert number not in joined
        assert f"{number[:6]}******{number[-4:]}" in joined
    assert "7319" not in joined
    assert "cvv" not in joined


@pytest.mark.anyio
async def test_orders_create_and_check(raw: RawClient, wonder_emulator: Emulator) -> None:
    """Orders are invoiced/unpaid, findable by number or reference, with an emulator pay link."""
    uuid = await _new_customer(raw)
    body = {
        "customer_uuid": uuid,
        "order": {
            "reference_number": "o-1",
            "charge_fee": "21.00",
            "currency": "HKD",
            "note": "two coffees",
        },
    }
    data = await raw.ok("POST", f"{API}/orders?with_payment_link=true", body)
    order = data["order"]
    assert order["state"] == "invoiced"
    assert order["correspondence_state"] == "unpaid"
    assert (order["reference_number"], order["charge_fee"], order["currency"]) == (
        "o-1",
        21.0,  # amounts=number, the default
        "HKD",
    )
    assert order["customer_uuid"] == uuid
    assert order["number"]
    assert data["payment_link"].startswith(wonder_emulator.base_url + "/")
    async with raw.session.get(data["payment_link"]) as resp:
        assert resp.status == 200
    by_number = await raw.ok("POST", f"{API}/orders/check", {"order": {"number": order["number"]}})
    by_ref = await raw.ok("POST", f"{API}/orders/check", {"order": {"reference_number": "o-1"}})
    assert by_number["order"] == by_ref["order"] == order
    plain = await raw.ok(
        "POST",
        f"{API}/orders",
        {"order": {"reference_number": "o-2", "charge_fee": "1", "currency": "HKD"}},
    )
    assert "payment_link" not in plain
    assert plain["order"]["customer_uuid"] is None


@pytest.mark.anyio
async def test_order_errors(raw: RawClient) -> None:
    """Unknown customer is 404, a duplicate reference 400 naming it, an unknown order 404."""
    order = {"reference_number": "o-1", "charge_fee": "21.00", "currency": "HKD"}
    status, _ = await raw.call(
        "POST",
        f"{API}/orders",
        {"customer_uuid": "00000000-0000-4000-8000-000000000000", "order": order},
    )
    assert status == 404
    await raw.ok("POST", f"{API}/orders", {"order": order})
    status, doc = await raw.call("POST", f"{API}/orders", {"order": order})
    assert status == 400
    assert "order.reference_number" in doc["message"]
    status, doc = await raw.call("POST", f"{API}/orders", {"order": {**order, "currency": None}})
    assert status == 400
    assert "order.currency" in doc["message"]
    status, _ = await raw.call("POST", f"{API}/orders/check", {"order": {"number": "nope"}})
    assert status == 404
    status, doc = await raw.call("POST", f"{API}/orders/check", {"order": {}})
    assert status == 400
    assert "order.number" in doc["message"]


@pytest.mark.anyio
async def test_customer_list_pagination(raw: RawClient) -> None:
    """limit/offset page through customers in creation order; updates do not reorder them."""
    refs = [f"p-{i}" for i in range(7)]
    for ref in refs:
        await raw.ok("POST", f"{API}/customers", customer_body(ref))
    await raw.ok("POST", f"{API}/customers", customer_body("p-0", name="Renamed"))
    pages = []
    for offset in (0, 3, 6, 9):
        data = await raw.ok("GET", f"{API}/customers?limit=3&offset={offset}")
        pages.append([c["reference_number"] for c in data["customers"]])
    assert pages == [refs[0:3], refs[3:6], refs[6:7], []]
    data = await raw.ok("GET", f"{API}/customers?limit=1000")
    assert len(data["customers"]) == 7
    for query in ("limit=0", "limit=1001", "limit=x", "offset=-1"):
        status, doc = await raw.call("GET", f"{API}/customers?{query}")
        assert status == 400, query
        assert query.split("=")[0] in doc["message"]


@pytest.mark.anyio
async def test_customer_validation(raw: RawClient) -> None:
    """Max lengths, types and every documented default_payment_method are checked."""
    for method in (
        "Credit Card",
        "Alipay",
        "Wechat Pay",
        "Google Pay",
        "FPS",
        "Octopus Business",
        "Union Pay",
        "Payment Token",
    ):
        await raw.ok("POST", f"{API}/customers", customer_body("v", default_payment_method=method))
    cases = [
        (customer_body("v", name="n" * 256), "customer.name"),
        (customer_body("v", email="e" * 256), "customer.email"),
        (customer_body("v", phone=12345), "customer.phone"),
        ({"customer": "v"}, "customer"),
        ([1, 2], "body"),
    ]
    for payload, field in cases:
        status, doc = await raw.call("POST", f"{API}/customers", payload)
        assert status == 400
        assert field in doc["message"]
    assert await raw.ok("POST", f"{API}/customers", customer_body("v", name="n" * 255))
    uuid = (await raw.ok("GET", f"{API}/customers/ref/v"))["customer"]["uuid"]
    status, doc = await raw.call("PUT", f"{API}/customers/{uuid}", {"dial_code": "1234567"})
    assert status == 400
    assert "dial_code" in doc["message"]
    same_ref = await raw.ok("PUT", f"{API}/customers/{uuid}", {"reference_number": "v"})
    assert same_ref["customer"]["reference_number"] == "v"


@pytest.mark.anyio
async def test_reset_and_stats_endpoints_need_no_signature(
    raw: RawClient, wonder_emulator: Emulator
) -> None:
    """POST /__emulator/reset empties the data; GET /__emulator/stats counts requests."""
    await _new_customer(raw, "gone")
    async with raw.session.get(raw.base + "/__emulator/stats") as resp:
        stats = (await resp.json())["data"]
    assert stats["requests"] == {"customers.upsert": 1}
    async with raw.session.post(raw.base + "/__emulator/reset") as resp:
        assert resp.status == 200
    status, _ = await raw.call("GET", f"{API}/customers/ref/gone")
    assert status == 404
    assert wonder_emulator.state.customers == {}
    assert wonder_emulator.stats["requests"] == {"customers.get_by_reference": 1}


@pytest.mark.anyio
async def test_body_that_is_not_json_is_400(raw: RawClient) -> None:
    """A correctly signed body that is not JSON is a 400 naming the body; no body is {}."""
    doc = await raw.ok("POST", f"{API}/echo")
    assert doc == {"message": None}
    garbage = b"{not json"
    headers = sign_headers(raw.app_id, raw.key, "POST", f"{API}/echo", garbage)
    async with raw.session.post(raw.base + f"{API}/echo", data=garbage, headers=headers) as resp:
        assert resp.status == 400
        assert "body" in (await resp.json())["message"]
