"""The customers list honours the Query DSL over the wire, as the SDK sends it (issue 18)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.emulator.conftest import API, RawClient, customer_body
from wonder_async import ValidationError, WonderClient
from wonder_async.testing import Emulator


@pytest.fixture
async def sdk(wonder_emulator: Emulator) -> AsyncIterator[WonderClient]:
    assert wonder_emulator.private_key_pem is not None
    async with WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url,
        max_retries=0,
    ) as client:
        for ref, name, email in [
            ("r1", "Tai Man Chan", "a@x.hk"),
            ("r2", "Siu Ming", None),
            ("r3", "CHAN & Co, Ltd", "c@x.hk"),
        ]:
            await client.customers.upsert(reference_number=ref, name=name, phone="1", email=email)
        yield client


async def refs(sdk: WonderClient, **kw: object) -> list[str | None]:
    return [c.reference_number async for c in sdk.customers.list(**kw)]  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_sdk_filters_change_what_the_emulator_returns(sdk: WonderClient) -> None:
    assert await refs(sdk) == ["r1", "r2", "r3"]
    assert await refs(sdk, filters={"name": {"_eq": "NoSuchName"}}) == []
    assert await refs(sdk, filters={"name": {"_contains": "chan"}}) == ["r1", "r3"]
    assert await refs(sdk, filters={"name": {"_eq": "CHAN & Co, Ltd"}}) == ["r3"]
    assert await refs(sdk, filters={"reference_number": {"_in": ["r2", "r3"]}}) == ["r2", "r3"]
    assert await refs(sdk, filters={"email": {"_null": True}}) == ["r2"]
    assert await refs(sdk, filters={"email": {"_null": False}, "name": {"_neq": "Siu Ming"}}) == [
        "r1",
        "r3",
    ]
    # Paging applies after filtering: 1 per page still walks every match.
    assert await refs(sdk, page_size=1, filters={"name": {"_contains": "chan"}}) == ["r1", "r3"]


@pytest.mark.anyio
async def test_sdk_refuses_an_unknown_operator_before_sending(
    sdk: WonderClient, wonder_emulator: Emulator
) -> None:
    before = wonder_emulator.requests.total()
    with pytest.raises(ValidationError) as info:
        await refs(sdk, filters={"name": {"_like": "Chan"}})
    assert info.value.field == "filters.name"
    assert wonder_emulator.requests.total() == before


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=%2B5", "limit"),
        ("limit=%205%20", "limit"),
        ("limit=1_0", "limit"),
        ("limit=%EF%BC%95", "limit"),
        ("limit=1001", "limit"),
        ("offset=-1", "offset"),
        ("offset=99999999999999999999", "offset"),
        ("filter%5Bpassword%5D%5B_eq%5D=x", "filter[password][_eq]"),
        ("filter%5Bname%5D%5B_like%5D=x", "filter[name][_like]"),
        ("filter%5Bname%5D=x", "filter[name]"),
        ("linked_source_type=Robot", "linked_source_type"),
        ("sort=name", "sort"),
    ],
)
async def test_bad_list_queries_are_400(raw: RawClient, query: str, field: str) -> None:
    status, doc = await raw.call("GET", f"{API}/customers?{query}")
    assert status == 400, doc
    assert doc["message"].startswith(f"{field}: "), doc


@pytest.mark.anyio
async def test_a_huge_offset_is_an_empty_page(raw: RawClient) -> None:
    await raw.ok("POST", f"{API}/customers", customer_body("r1"))
    page = await raw.ok("GET", f"{API}/customers?offset=9223372036854775807")
    assert page == {"customers": []}
    page = await raw.ok("GET", f"{API}/customers?limit=1000&offset=0&linked_source_type=User")
    assert [c["reference_number"] for c in page["customers"]] == ["r1"]


@pytest.mark.anyio
async def test_order_filters_change_what_the_emulator_returns(sdk: WonderClient) -> None:
    for ref, fee in [("o-1", "5.00"), ("o-2", "100.00"), ("o-3", "250.50")]:
        await sdk.orders.create(reference_number=ref, charge_fee=fee, currency="HKD")

    async def orders(**filters: dict[str, object]) -> list[str | None]:
        return [o.reference_number async for o in sdk.orders.list(filters=filters)]

    assert await orders() == ["o-1", "o-2", "o-3"]
    assert await orders(initial_total={"_gte": "100"}) == ["o-2", "o-3"]
    assert await orders(charge_fee={"_lt": "100.00"}, correspondence_state={"_eq": "unpaid"}) == [
        "o-1"
    ]
    assert await orders(reference_number={"_not_in": ["o-1", "o-3"]}) == ["o-2"]
    assert await orders(correspondence_state={"_eq": "paid"}) == []
    no_transactions = await orders(**{"transactions.type": {"_null": True}})
    assert no_transactions == ["o-1", "o-2", "o-3"]
    assert await orders(created_at={"_gt": "2000-01-01T00:00:00Z"}) == ["o-1", "o-2", "o-3"]


@pytest.mark.anyio
async def test_unknown_order_fields_are_400(raw: RawClient) -> None:
    status, doc = await raw.call("GET", f"{API}/orders/list?filter%5Bsecret%5D%5B_eq%5D=1")
    assert status == 400
    assert doc["message"].startswith("filter[secret][_eq]: ")


@pytest.mark.anyio
async def test_orders_list_counts_matches_and_pages_after_filtering(raw: RawClient) -> None:
    for i, fee in enumerate(["1.00", "50.00", "60.00", "70.00"]):
        order = {"reference_number": f"p-{i}", "charge_fee": fee, "currency": "HKD"}
        await raw.ok("POST", f"{API}/orders", {"order": order})
    big = "filter%5Bcharge_fee%5D%5B_gt%5D=10"
    page = await raw.ok("GET", f"{API}/orders/list?{big}&limit=1&offset=1")
    assert page["total"] == 3
    assert [o["order"]["reference_number"] for o in page["orders"]] == ["p-2"]
    far = await raw.ok("GET", f"{API}/orders/list?{big}&offset=9223372036854775807")
    assert (far["orders"], far["total"]) == ([], 3)
