"""The async client against the emulator over real sockets: the flows a user runs."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from wonder_async import (
    AuthenticationError,
    BadRequestError,
    Card,
    NotFoundError,
    ThreeDS,
    ValidationError,
    WonderClient,
)

YEAR = dt.datetime.now(dt.timezone.utc).year + 2
THREE_DS = ThreeDS("https://shop.example/ok", "https://shop.example/fail")


def card(number: str = "4242424242424242") -> Card:
    return Card(number=number, exp_month=12, exp_year=YEAR, holder_name="TAI MAN", cvv="123")


@pytest.fixture
async def wonder(wonder_emulator: Any) -> AsyncIterator[WonderClient]:
    async with WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url,
    ) as client:
        yield client


async def _upsert(wonder: WonderClient, ref: str = "u-1", **kw: Any) -> Any:
    kw.setdefault("name", "Tai Man")
    kw.setdefault("phone", "12345678")
    return await wonder.customers.upsert(reference_number=ref, **kw)


@pytest.mark.anyio
async def test_upsert_is_idempotent_by_reference(wonder: WonderClient) -> None:
    """Upserting twice with one reference_number gives one uuid and the newest fields."""
    first = await _upsert(wonder, email="a@example.com")
    second = await _upsert(wonder, email="b@example.com", dial_code="+852")
    assert first.uuid == second.uuid
    assert second.email == "b@example.com"
    by_uuid = await wonder.customers.get(first.uuid)
    by_ref = await wonder.customers.get_by_reference("u-1")
    assert by_uuid.uuid == by_ref.uuid == first.uuid
    assert by_ref.dial_code == "+852"


@pytest.mark.anyio
async def test_update_changes_fields_but_not_reference(wonder: WonderClient) -> None:
    """update() changes the given fields only; reference_number can't be changed client-side."""
    customer = await _upsert(wonder, email="a@example.com")
    updated = await wonder.customers.update(customer.uuid, company_name="Universal Group")
    assert (updated.company_name, updated.email) == ("Universal Group", "a@example.com")
    with pytest.raises(TypeError):
        await wonder.customers.update(customer.uuid, reference_number="x")  # type: ignore[call-arg]


@pytest.mark.anyio
async def test_reference_with_slash_and_unicode_round_trips(wonder: WonderClient) -> None:
    """A reference_number with '/', spaces and non-ASCII is found again by reference."""
    customer = await _upsert(wonder, ref="shop/42 ü")
    assert (await wonder.customers.get_by_reference("shop/42 ü")).uuid == customer.uuid


@pytest.mark.anyio
async def test_list_paginates_through_everything(wonder: WonderClient) -> None:
    """list() walks all pages with limit/offset and yields each customer once."""
    refs = {f"p-{i}" for i in range(23)}
    await asyncio.gather(*(_upsert(wonder, ref) for ref in refs))
    seen = [c.reference_number async for c in wonder.customers.list(page_size=5)]
    assert sorted(seen) == sorted(refs)


@pytest.mark.anyio
async def test_frictionless_card_binds_at_once(wonder: WonderClient) -> None:
    """4242... binds with state success; list, check, get_by_token and delete work."""
    customer = await _upsert(wonder)
    token = await wonder.payment_tokens.create(customer.uuid, card=card(), three_ds=THREE_DS)
    assert token.is_usable
    assert token.credit_card is not None
    assert token.credit_card.number is not None
    assert "4242424242424242" not in token.credit_card.number
    assert (await wonder.customers.get_by_token(token.token or "")).uuid == customer.uuid
    listed = await wonder.payment_tokens.list(customer.uuid, token_type="CreditCard")
    assert [t.token for t in listed] == [token.token]
    checked = await wonder.payment_tokens.check(customer.uuid, token.token or "")
    assert checked.state == "success"
    await wonder.payment_tokens.delete(customer.uuid, token.token or "")
    assert await wonder.payment_tokens.list(customer.uuid) == []
    with pytest.raises(NotFoundError):
        await wonder.payment_tokens.check(customer.uuid, token.token or "")


@pytest.mark.anyio
@pytest.mark.parametrize(("result", "state"), [("success", "success"), ("failed", "failed")])
async def test_three_ds_challenge_through_the_page(
    wonder: WonderClient, result: str, state: str
) -> None:
    """4000...3220 is pending until the verify_url page is answered; wait() sees the outcome."""
    customer = await _upsert(wonder)
    token = await wonder.payment_tokens.create(
        customer.uuid, card=card("4000000000003220"), three_ds=THREE_DS
    )
    assert token.is_pending
    assert token.verify_url
    async with aiohttp.ClientSession() as browser:
        async with browser.get(token.verify_url) as page:
            html = await page.text()
        assert "Approve" in html
        assert "Decline" in html
        async with browser.post(
            token.verify_url, data={"result": result}, allow_redirects=False
        ) as answer:
            assert answer.status == 303
            expected = (
                THREE_DS.success_return_url if result == "success" else THREE_DS.fail_return_url
            )
            assert answer.headers["Location"].startswith(expected)
    final = await wonder.payment_tokens.wait(customer.uuid, token, timeout=5, interval=0.05)
    assert final.state == state


@pytest.mark.anyio
async def test_declined_card_fails_with_reason(wonder: WonderClient) -> None:
    """4000000000000002 fails with error_code and error_msg."""
    customer = await _upsert(wonder)
    token = await wonder.payment_tokens.create(
        customer.uuid, card=card("4000000000000002"), three_ds=THREE_DS
    )
    assert token.state == "failed"
    assert token.error_code
    assert token.error_msg


@pytest.mark.anyio
async def test_order_for_customer_with_payment_link(wonder: WonderClient) -> None:
    """orders.create ties the order to customer_uuid and returns a payment link; get finds it."""
    customer = await _upsert(wonder)
    order = await wonder.orders.create(
        reference_number="o-1",
        charge_fee="21.00",
        currency="HKD",
        customer_uuid=customer.uuid,
        with_payment_link=True,
    )
    assert order.number
    assert order.payment_link
    assert order.customer_uuid == customer.uuid
    found = await wonder.orders.get(reference_number="o-1")
    assert found.number == order.number
    with pytest.raises(BadRequestError):
        await wonder.orders.create(reference_number="o-1", charge_fee="1.00", currency="HKD")


@pytest.mark.anyio
async def test_echo_and_wrong_key_is_rejected(wonder: WonderClient, wonder_emulator: Any) -> None:
    """echo() round-trips; a client with another key gets AuthenticationError, not a retry."""
    assert await wonder.echo("hi there") == "hi there"
    from tests.conftest import make_key_pair

    stranger = make_key_pair()
    async with WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=stranger.private_pem,
        base_url=wonder_emulator.base_url,
    ) as bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.echo()
    assert info.value.status in (401, 403)
    assert info.value.attempts == 1


@pytest.mark.anyio
async def test_server_side_validation_names_the_field(wonder: WonderClient) -> None:
    """Server-side 400s surface as BadRequestError with the gateway's message."""
    with pytest.raises(NotFoundError):
        await wonder.customers.get("00000000-0000-4000-8000-000000000000")
    with pytest.raises(ValidationError, match=r"customer\.name"):
        await wonder.customers.upsert(reference_number="r", name="", phone="1")


@pytest.mark.anyio
async def test_upsert_many_streams_and_reports_bad_rows(wonder: WonderClient) -> None:
    """upsert_many upserts good rows, reports bad ones by index, and dedups by reference."""

    async def rows() -> AsyncIterator[dict[str, str]]:
        for i in range(40):
            yield {"reference_number": f"b-{i % 30}", "name": f"N{i}", "phone": "1"}
        yield {"reference_number": "bad", "name": "x", "phone": "1", "email": "nope"}
        yield {"reference_number": "bad2", "name": "x"}

    results = [r async for r in wonder.customers.upsert_many(rows(), concurrency=8)]
    assert len(results) == 42
    bad = {r.index: r.error for r in results if not r.ok}
    assert set(bad) == {40, 41}
    assert isinstance(bad[40], ValidationError)
    assert bad[40].field == "customer.email"
    uuids: dict[str, set[str]] = {}
    for r in results:
        if r.ok and r.customer is not None:
            uuids.setdefault(r.reference_number or "", set()).add(r.customer.uuid or "")
    assert len(uuids) == 30
    assert all(len(v) == 1 for v in uuids.values())
