"""Charging saved cards, refunds, voids and order lists against the emulator over sockets.

The exactly-once rules are checked the way a user would notice them: the order's ledger in
the emulator shows one transaction per charge however the network failed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from wonder_async import (
    BadRequestError,
    Card,
    CardDeclinedError,
    NotFoundError,
    OutcomeUnknownError,
    Payment,
    ThreeDS,
    ValidationError,
    WonderClient,
)
from wonder_async.testing import Emulator

YEAR = time.gmtime().tm_year + 2
THREE_DS = ThreeDS("https://shop.example/ok", "https://shop.example/fail")
OK_CARD = "4242424242424242"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"


@pytest.fixture
async def wonder(wonder_emulator: Emulator) -> AsyncIterator[WonderClient]:
    async with WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url,
        timeout=20,
    ) as client:
        yield client


async def _customer_with_card(
    wonder: WonderClient, number: str = OK_CARD, ref: str = "u-1"
) -> tuple[str, str]:
    customer = await wonder.customers.upsert(reference_number=ref, name="Tai Man", phone="1234")
    assert customer.uuid is not None
    card = Card(number=number, exp_month=12, exp_year=YEAR, holder_name="TAI MAN", cvv="123")
    token = await wonder.payment_tokens.create(customer.uuid, card=card, three_ds=THREE_DS)
    assert token.state == "success"
    assert token.token is not None
    return customer.uuid, token.token


async def _order(
    wonder: WonderClient, customer_uuid: str, ref: str = "o-1", fee: str = "21.00"
) -> None:
    await wonder.orders.create(
        reference_number=ref, charge_fee=fee, currency="HKD", customer_uuid=customer_uuid
    )


def _charges(emu: Emulator) -> int:
    return emu.stats["requests"].get("payments.create", 0)


async def _ledger(wonder: WonderClient, ref: str = "o-1") -> list[Any]:
    order = await wonder.orders.get(reference_number=ref)
    return [t for t in order.transactions if t.type != "Refund"]


@pytest.mark.anyio
async def test_charge_a_saved_card_pays_the_order(wonder: WonderClient) -> None:
    """A charge returns the transaction (card's 6 + 4 digits only) and the paid order."""
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    payment = await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
    assert isinstance(payment, Payment)
    assert payment.succeeded
    assert not payment.recovered
    tx = payment.transaction
    assert tx.uuid == payment.payment_uuid
    assert tx.type == "Sales"
    assert Decimal(str(tx.amount)) == Decimal("21.00")
    assert (tx.card_first_6, tx.card_last_4) == ("424242", "4242")
    assert tx.allow_refund
    assert tx.allow_void
    assert OK_CARD not in repr(payment)
    order = payment.order
    assert order.reference_number == "o-1"
    assert order.number
    assert order.correspondence_state == "paid"
    assert order.state == "completed"
    assert Decimal(str(order.paid_total)) == Decimal("21.00")
    assert Decimal(str(order.unpaid_total)) == 0
    # The same order, looked up by the transaction's uuid.
    again = await wonder.orders.get(transaction_uuid=tx.uuid)
    assert again.number == order.number
    assert again.transaction(str(tx.uuid)) is not None


@pytest.mark.anyio
async def test_partial_charge_then_the_rest(wonder: WonderClient) -> None:
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid, fee="30.00")
    first = await wonder.payments.create(reference_number="o-1", token=token, amount="10")
    assert first.order.correspondence_state == "partial_paid"
    second = await wonder.payments.create(
        number=str(first.order.number), token=token, amount=Decimal("20.00")
    )
    assert second.order.correspondence_state == "paid"
    assert len(await _ledger(wonder)) == 2


@pytest.mark.anyio
async def test_direct_payment_creates_and_pays_in_one_call(wonder: WonderClient) -> None:
    customer_uuid, token = await _customer_with_card(wonder)
    payment = await wonder.payments.create_with_order(
        reference_number="o-direct",
        customer_uuid=customer_uuid,
        token=token,
        amount="12.50",
        currency="HKD",
        note="renewal",
    )
    assert payment.succeeded
    assert payment.order.reference_number == "o-direct"
    assert payment.order.correspondence_state == "paid"
    orders = [o async for o in wonder.orders.list(customer_uuid=customer_uuid)]
    assert [o.reference_number for o in orders] == ["o-direct"]


@pytest.mark.anyio
async def test_declined_charge_is_an_error_with_wonders_code_and_is_never_retried(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    """A card that binds fine but is declined at charge time: CardDeclinedError, one request."""
    customer_uuid, token = await _customer_with_card(wonder, INSUFFICIENT_FUNDS_CARD)
    await _order(wonder, customer_uuid)
    before = _charges(wonder_emulator)
    with pytest.raises(CardDeclinedError) as caught:
        await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
    err = caught.value
    assert isinstance(err, BadRequestError)
    assert not err.retryable
    assert err.code
    assert "insufficient" in err.message.lower()
    assert err.payment is not None
    assert err.payment.transaction.success is False
    assert err.payment_uuid == err.payment.transaction.uuid
    assert _charges(wonder_emulator) - before == 1
    order = await wonder.orders.get(reference_number="o-1")
    assert order.correspondence_state == "unpaid"


@pytest.mark.anyio
async def test_same_payment_uuid_never_charges_twice(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    """A worker that crashed and runs again with its own payment_uuid gets the first charge."""
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid, fee="50.00")
    pay_id = f"invoice-{uuid.uuid4()}"
    first = await wonder.payments.create(
        reference_number="o-1", token=token, amount="20.00", payment_uuid=pay_id
    )
    sent = _charges(wonder_emulator)
    second = await wonder.payments.create(
        reference_number="o-1", token=token, amount="20.00", payment_uuid=pay_id
    )
    assert second.recovered
    assert not first.recovered
    assert second.transaction.uuid == first.transaction.uuid == pay_id
    assert _charges(wonder_emulator) == sent  # looked up, not sent again
    assert len(await _ledger(wonder)) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["reset_after", "truncated"])
async def test_lost_answer_after_the_charge_is_recovered_not_repeated(
    wonder: WonderClient, wonder_emulator: Emulator, fault: str
) -> None:
    """The gateway charged but the answer was lost: the SDK finds the charge, sends no more."""
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    wonder_emulator.faults.script("payments.create", [fault])
    payment = await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
    assert payment.recovered
    assert payment.succeeded
    assert len(await _ledger(wonder)) == 1
    assert payment.order.correspondence_state == "paid"


@pytest.mark.anyio
async def test_failure_before_processing_is_resent(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    wonder_emulator.faults.script("payments.create", ["503", "reset"])
    payment = await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
    assert payment.succeeded
    assert not payment.recovered
    assert len(await _ledger(wonder)) == 1


@pytest.mark.anyio
async def test_unknown_outcome_is_reported_and_a_rerun_with_the_id_is_safe(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    """Charge went through, answer lost, look-ups failing too: OutcomeUnknownError names the
    payment_uuid; calling again with it returns the one charge."""
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    wonder_emulator.faults.script("payments.create", ["reset_after"])
    wonder_emulator.faults.script("orders.get", ["503"] * 10)
    impatient = wonder.with_options(max_retries=1)
    with pytest.raises(OutcomeUnknownError) as caught:
        await impatient.payments.create(reference_number="o-1", token=token, amount="21.00")
    pay_id = caught.value.payment_uuid
    assert pay_id
    assert pay_id in str(caught.value)
    wonder_emulator.faults.clear()
    again = await wonder.payments.create(
        reference_number="o-1", token=token, amount="21.00", payment_uuid=pay_id
    )
    assert again.recovered
    assert again.transaction.uuid == pay_id
    assert len(await _ledger(wonder)) == 1


@pytest.mark.anyio
async def test_pre_authorisation_holds_without_paying(wonder: WonderClient) -> None:
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    auth = await wonder.payments.create(
        reference_number="o-1", token=token, amount="21.00", consume_mode="pre_authorize"
    )
    assert auth.transaction.type == "Authorization"
    assert auth.succeeded
    assert auth.transaction.allow_void
    assert not auth.transaction.allow_refund
    order = await wonder.orders.void(reference_number="o-1", transaction_uuid=auth.payment_uuid)
    tx = order.transaction(auth.payment_uuid)
    assert tx is not None
    assert tx.voided


@pytest.mark.anyio
async def test_refund_part_then_the_rest(wonder: WonderClient, wonder_emulator: Emulator) -> None:
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    sale = await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
    part = await wonder.orders.refund(
        reference_number="o-1", transaction_uuid=sale.payment_uuid, amount="5.00"
    )
    assert part.transaction is not None
    assert part.transaction.type == "Refund"
    assert part.transaction.original_transaction_uuid == sale.payment_uuid
    assert part.order.correspondence_state == "partial_paid"
    with pytest.raises(BadRequestError) as caught:  # more than is left of the sale
        await wonder.orders.refund(
            reference_number="o-1", transaction_uuid=sale.payment_uuid, amount="16.01"
        )
    assert "refund.amount" in str(caught.value)
    # The answer of the second refund is lost: found by the look-up, not refunded twice.
    wonder_emulator.faults.script("orders.refund", ["reset_after"])
    rest = await wonder.orders.refund(
        reference_number="o-1", transaction_uuid=sale.payment_uuid, amount="16.00"
    )
    assert rest.recovered
    assert rest.order.correspondence_state == "refunded"
    order = await wonder.orders.get(reference_number="o-1")
    refunds = [t for t in order.transactions if t.type == "Refund"]
    assert sorted(Decimal(str(t.amount)) for t in refunds) == [Decimal("5.00"), Decimal("16.00")]


@pytest.mark.anyio
async def test_void_a_sale_survives_a_lost_answer(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    sale = await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
    wonder_emulator.faults.script("orders.void", ["reset_after"])
    order = await wonder.orders.void(reference_number="o-1", transaction_uuid=sale.payment_uuid)
    assert order.correspondence_state == "voided"
    with pytest.raises(BadRequestError):  # a second, deliberate void is refused
        await wonder.orders.void(reference_number="o-1", transaction_uuid=sale.payment_uuid)


@pytest.mark.anyio
async def test_void_an_unpaid_order(wonder: WonderClient) -> None:
    customer_uuid, _token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    order = await wonder.orders.void(reference_number="o-1")
    assert order.state == "voided"


@pytest.mark.anyio
async def test_orders_list_pages_through_a_customers_orders(wonder: WonderClient) -> None:
    customer_uuid, _token = await _customer_with_card(wonder)
    other_uuid, _ = await _customer_with_card(wonder, ref="u-2")
    for i in range(5):
        await _order(wonder, customer_uuid, ref=f"o-{i}")
    await _order(wonder, other_uuid, ref="o-other")
    mine = [o.reference_number async for o in wonder.orders.list(customer_uuid=customer_uuid,
                                                                   page_size=2)]  # fmt: skip
    assert mine == [f"o-{i}" for i in range(5)]
    everyone = [o.reference_number async for o in wonder.orders.list(page_size=1000)]
    assert len(everyone) == 6


@pytest.mark.anyio
async def test_unknown_order_and_unusable_token_are_refused(wonder: WonderClient) -> None:
    customer_uuid, token = await _customer_with_card(wonder)
    with pytest.raises(NotFoundError):
        await wonder.payments.create(reference_number="nope", token=token, amount="1.00")
    await _order(wonder, customer_uuid)
    await wonder.payment_tokens.delete(customer_uuid, token)
    # A deleted token is refused (as "not found" by today's emulator), never as a decline.
    with pytest.raises((BadRequestError, NotFoundError)) as caught:
        await wonder.payments.create(reference_number="o-1", token=token, amount="1.00")
    assert not isinstance(caught.value, CardDeclinedError)
    assert "token" in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount": 21.0}, "payment.payment_token.amount"),
        ({"amount": "21.005"}, "payment.payment_token.amount"),
        ({"amount": "0"}, "payment.payment_token.amount"),
        ({"amount": "-1"}, "payment.payment_token.amount"),
        ({"amount": "２１"}, "payment.payment_token.amount"),
        ({"consume_mode": "capture"}, "payment.payment_token.consume_mode"),
        ({"token": ""}, "payment.payment_token.token"),
        ({"payment_uuid": " x"}, "payment.uuid"),
        ({"number": "W1"}, "number"),
    ],
)
async def test_bad_charge_input_is_refused_before_sending(
    wonder: WonderClient, wonder_emulator: Emulator, kwargs: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {"reference_number": "o-1", "token": "tok", "amount": "1.00"}
    args.update(kwargs)
    with pytest.raises(ValidationError) as caught:
        await wonder.payments.create(**args)
    assert caught.value.field == field
    assert _charges(wonder_emulator) == 0


@pytest.mark.anyio
async def test_create_many_looks_rows_up_in_batches_and_never_charges_twice(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    """A billing run reads the orders of 100 rows in one list call, charges each new row once
    with no look-up of its own, and a rerun of the same rows charges nothing."""
    customer_uuid, token = await _customer_with_card(wonder)
    rows = [
        {"reference_number": f"bill-{i}", "customer_uuid": customer_uuid, "currency": "HKD",
         "token": token, "amount": "3.00"}
        for i in range(150)
    ]  # fmt: skip
    first = [r async for r in wonder.payments.create_many(rows, concurrency=32)]
    assert all(r.ok for r in first)
    assert not any(r.payment and r.payment.recovered for r in first)
    requests = wonder_emulator.stats["requests"]
    assert requests.get("payments.create") == 150  # one charge per row
    assert requests.get("orders.list") == 2  # one read per batch of 100 rows
    assert requests.get("orders.get", 0) == 0  # no per-row look-up
    again = [r async for r in wonder.payments.create_many(rows, concurrency=16)]
    assert all(r.ok and r.payment and r.payment.recovered for r in again)
    assert wonder_emulator.stats["requests"].get("payments.create") == 150  # nothing charged
    orders = [o async for o in wonder.orders.list(customer_uuid=customer_uuid, page_size=1000)]
    assert sorted(len(o.transactions) for o in orders) == [1] * 150


@pytest.mark.anyio
async def test_create_many_charges_a_repeated_row_once(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    """Two identical rows are one charge (same derived payment_uuid): the second waits for the
    first and finds it, even inside one batch, without relying on the gateway's dedupe."""
    customer_uuid, token = await _customer_with_card(wonder)
    for ref in ("dup-a", "dup-b"):
        await _order(wonder, customer_uuid, ref=ref, fee="4.00")
    row_a = {"reference_number": "dup-a", "token": token, "amount": "4.00"}
    row_b = {"reference_number": "dup-b", "token": token, "amount": "4.00"}
    rows = [row_a, row_b, row_a, row_a]
    results = [r async for r in wonder.payments.create_many(rows, concurrency=8)]
    assert all(r.ok for r in results)
    by_row = sorted((r.index, bool(r.payment and r.payment.recovered)) for r in results)
    assert [recovered for _, recovered in by_row].count(False) == 2  # dup-a once, dup-b once
    assert wonder_emulator.stats["requests"].get("payments.create") == 2
    for ref in ("dup-a", "dup-b"):
        assert len(await _ledger(wonder, ref)) == 1


# --- the readings of the real gateway that Wonder's own code shows (issue #22) ---------------


@pytest.mark.anyio
async def test_an_order_refused_for_disagreeing_line_items_is_never_sent(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    """A non-zero charge_fee that disagrees with the line items is refused before sending,
    naming the fields; charge_fee "0.00" with line items (OpenCart's way) goes out."""
    items = [
        {"purchasable_type": "Listing", "price": "45.00", "quantity": 2, "total": "90.00"},
        {"purchasable_type": "Listing", "price": "-10.00", "quantity": "1", "total": "-10.00"},
    ]
    with pytest.raises(ValidationError) as caught:
        await wonder.orders.create(
            reference_number="li-1", charge_fee="100.00", currency="HKD", line_items=items
        )
    assert caught.value.field == "order.line_items"
    assert "80.00" in str(caught.value)
    assert "charge_fee" in str(caught.value)
    assert wonder_emulator.stats["requests"].get("orders.create", 0) == 0
    agreed = await wonder.orders.create(
        reference_number="li-2", charge_fee="80.00", currency="HKD", line_items=items
    )
    assert agreed.initial_total is not None
    opencart = await wonder.orders.create(
        reference_number="li-3", charge_fee="0.00", currency="HKD", line_items=items
    )
    assert opencart.number


@pytest.mark.anyio
@pytest.mark.parametrize("wonder_readings", [{"charges": "pending"}])
async def test_a_pending_charge_is_not_declined_and_settles(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    """charges=pending: the answer is success false, is_pending true. The SDK says pending
    (not declined), wait() settles it, and charging again with the id charges nothing."""
    wonder_emulator.pending_seconds = 0.3
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    payment = await wonder.payments.create(
        reference_number="o-1", token=token, amount="21.00", payment_uuid="inv-1"
    )
    assert payment.status == "pending"
    assert payment.pending
    assert not payment.succeeded
    settled = await wonder.payments.wait(payment, timeout=10, interval=0.1)
    assert settled.status == "succeeded"
    again = await wonder.payments.create(
        reference_number="o-1", token=token, amount="21.00", payment_uuid="inv-1"
    )
    assert again.recovered
    assert again.succeeded
    assert len(await _ledger(wonder)) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("wonder_readings", [{"charges": "pending"}])
async def test_a_pending_charge_that_settles_declined_raises_then(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    wonder_emulator.pending_seconds = 0.3
    customer_uuid, token = await _customer_with_card(wonder, INSUFFICIENT_FUNDS_CARD)
    await _order(wonder, customer_uuid)
    payment = await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
    assert payment.pending
    with pytest.raises(CardDeclinedError) as caught:
        await wonder.payments.wait(payment, timeout=10, interval=0.1)
    assert caught.value.code == "51"
    assert "Insufficient funds" in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("wonder_readings", [{"errors": "envelope"}, {"errors": "http"}])
async def test_first_direct_payment_with_an_id_goes_out_when_the_order_is_new(
    wonder: WonderClient, wonder_emulator: Emulator, wonder_readings: dict[str, str]
) -> None:
    """The look-up before a caller's payment_uuid finds no order (a 404, or HTTP 200 with code
    404): that means nothing happened, so the charge is sent, once."""
    customer_uuid, token = await _customer_with_card(wonder)
    with pytest.raises(NotFoundError):
        await wonder.orders.get(reference_number="new-1")
    payment = await wonder.payments.create_with_order(
        reference_number="new-1", customer_uuid=customer_uuid, currency="HKD", token=token,
        amount="9.90", payment_uuid="direct-1",
    )  # fmt: skip
    assert payment.succeeded
    assert not payment.recovered
    assert _charges(wonder_emulator) == 1
    assert len(await _ledger(wonder, "new-1")) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("wonder_readings", [{"duplicate_refund": "refuse"}])
async def test_a_deliberate_repeat_refund_says_when_retrying_is_allowed(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    """A second same-amount refund within five minutes is refused (100701); the order shows
    no new refund, so the error says nothing was refunded and from when to retry."""
    customer_uuid, token = await _customer_with_card(wonder)
    await _order(wonder, customer_uuid)
    sale = await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
    await wonder.orders.refund(
        reference_number="o-1", transaction_uuid=sale.payment_uuid, amount="5.00"
    )
    with pytest.raises(BadRequestError) as caught:
        await wonder.orders.refund(
            reference_number="o-1", transaction_uuid=sale.payment_uuid, amount="5.00"
        )
    assert caught.value.code == "100701"
    assert "retrying is allowed from" in str(caught.value)
    assert caught.value.retry_after is not None
    assert 0 < caught.value.retry_after <= 300
    order = await wonder.orders.get(reference_number="o-1")
    assert order.refunded_total == "5.00"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "wonder_readings",
    [{"refunds": "negative_unlinked", "duplicate_refund": "refuse", "amounts": "number"},
     {"refunds": "linked", "duplicate_refund": "refuse", "amounts": "string"}],
)  # fmt: skip
async def test_a_refund_whose_first_attempt_times_out_is_made_once(
    wonder_emulator: Emulator,
) -> None:
    """The first attempt times out while the gateway is slow; the refund is looked up (by
    type and absolute amount, linked or not) and re-sent only if absent; if the first attempt
    landed after all, the re-send is refused as a repeat (100701) and the order shows it.
    Either way: one refund, reported done, never a false failure."""
    async with WonderClient(
        app_id=wonder_emulator.app_id, private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url, timeout=20, attempt_timeout=0.8, max_retries=4,
    ) as wonder:  # fmt: skip
        customer_uuid, token = await _customer_with_card(wonder)
        await _order(wonder, customer_uuid)
        sale = await wonder.payments.create(reference_number="o-1", token=token, amount="21.00")
        wonder_emulator.faults.script("orders.refund", ["latency@1.2s", "latency@0.5s"])
        refund = await wonder.orders.refund(
            reference_number="o-1", transaction_uuid=sale.payment_uuid, amount="6.00"
        )
        assert refund.transaction is not None
        assert refund.transaction.amount_value == Decimal("6.00")
        order = await wonder.orders.get(reference_number="o-1")
    assert len(order.refunds) == 1
    assert order.refunded_total == "6.00"


def test_the_blocking_client_waits_for_a_pending_charge_too() -> None:
    """wonder_sync: the same pending status and the same bounded wait."""
    import wonder_sync

    with (
        Emulator.in_thread(readings={"charges": "pending"}, pending_seconds=0.2) as emu,
        wonder_sync.WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        customer = wonder.customers.upsert(reference_number="u-1", name="Tai Man", phone="1")
        assert customer.uuid is not None
        card = Card(number=OK_CARD, exp_month=12, exp_year=YEAR, holder_name="TAI MAN")
        token = wonder.payment_tokens.create(customer.uuid, card=card, three_ds=THREE_DS)
        assert token.token is not None
        payment = wonder.payments.create_with_order(
            reference_number="s-1", customer_uuid=customer.uuid, currency="HKD",
            token=token.token, amount="4.00",
        )  # fmt: skip
        assert payment.status == "pending"
        assert wonder.payments.wait(payment, timeout=10, interval=0.05).status == "succeeded"
