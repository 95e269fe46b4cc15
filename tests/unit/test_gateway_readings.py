"""How the SDK reads answers under each plausible reading of the real gateway (wonder-clients.md):
pending is not declined, refunds by type and absolute amount, voids from real signals, refunded
totals computed. These are the pure rules; tests/e2e runs them against the emulator's readings."""

from __future__ import annotations

from typing import Any

import pytest

from wonder_async import CardDeclinedError, Order, PaymentStatus, ValidationError
from wonder_async._converter import structure
from wonder_async._models import CustomerFields
from wonder_async.resources.orders import _void_done, amount_matches, refund_from, refund_uuids
from wonder_async.resources.payments import payment_from

SALE = "sale-1"


def _order(*transactions: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "order": {"number": "W1", "initial_total": 30, **fields, "transactions": list(transactions)}
    }


@pytest.mark.parametrize(
    ("flags", "status"),
    [
        ({"success": True, "is_pending": False}, PaymentStatus.SUCCEEDED),
        ({"success": True}, PaymentStatus.SUCCEEDED),
        ({"success": False, "is_pending": True}, PaymentStatus.PENDING),
        ({"success": False}, PaymentStatus.PENDING),  # iOS: a missing is_pending is pending
        ({}, PaymentStatus.PENDING),
    ],
)
def test_a_pending_charge_is_neither_paid_nor_declined(flags: dict[str, Any], status: str) -> None:
    payment = payment_from(_order({"uuid": "p1", "type": "Sales", **flags}), "p1")
    assert payment.status == status
    assert payment.pending == (status == PaymentStatus.PENDING)
    assert payment.succeeded == (status == PaymentStatus.SUCCEEDED)


def test_only_a_final_failure_is_a_decline_with_wonders_reason() -> None:
    data = _order(
        {
            "uuid": "p1",
            "type": "Sales",
            "success": False,
            "is_pending": False,
            "payment_data": {"resp_code": "51", "resp_msg": "Insufficient funds"},
        }
    )
    with pytest.raises(CardDeclinedError) as caught:
        payment_from(data, "p1")
    assert caught.value.code == "51"
    assert "Insufficient funds" in str(caught.value)
    assert caught.value.payment is not None
    assert caught.value.payment.status == PaymentStatus.DECLINED


def test_failure_code_is_read_when_resp_code_is_absent() -> None:
    data = _order(
        {"uuid": "p1", "success": False, "is_pending": False, "failure_code": "E1",
         "failure_message": "declined by issuer"}
    )  # fmt: skip
    with pytest.raises(CardDeclinedError) as caught:
        payment_from(data, "p1")
    assert (caught.value.code, caught.value.message) == ("E1", "declined by issuer")


@pytest.mark.parametrize(
    "refund",
    [
        {"uuid": "r1", "type": "Refund", "amount": "10.00", "original_transaction_uuid": SALE},
        {"uuid": "r1", "type": "refund", "amount": -10.0},  # negative, unlinked, any case
        {"uuid": "r1", "type": "REFUND", "amount": "-10.00", "original_transaction_uuid": None},
    ],
)
def test_refunds_are_recognised_as_wonders_code_does(refund: dict[str, Any]) -> None:
    sale = {"uuid": SALE, "type": "Sales", "amount": 30, "success": True}
    before = refund_uuids(_order(sale), SALE)
    result = refund_from(_order(sale, {**refund, "success": True}), SALE, before, "10.00")
    assert result.transaction is not None
    assert result.transaction.uuid == "r1"
    assert amount_matches(refund["amount"], "10.00")
    assert structure(_order(sale, refund)["order"], Order).refunded_total == "10.00"


def test_a_refund_of_another_sale_is_not_ours() -> None:
    other = {"uuid": "r9", "type": "Refund", "amount": "10.00", "original_transaction_uuid": "x"}
    result = refund_from(_order({"uuid": SALE}, other), SALE, frozenset(), "10.00")
    assert result.transaction is None


def test_refunded_total_is_computed_never_read() -> None:
    order = structure(
        _order({"uuid": SALE, "type": "Sales", "amount": 30, "refunded_amount": 12})["order"]
        | {"refunded_total": "99.00"},
        Order,
    )
    assert order.refunded_total == "12.00"  # the sale's refunded_amount, not the invented key
    assert order.transactions[0].refunded_amount == "12.00"


@pytest.mark.parametrize(
    ("after", "done"),
    [
        ({"allow_void": False, "voided_at": "2026-01-01T00:00:00Z"}, True),
        ({"allow_void": False, "void_is_pending": True}, True),
        ({"allow_void": False, "payment_data": {"transaction_state": "Voided"}}, True),
        ({"allow_void": False}, True),  # allow_void turned false, nothing else happened
        ({"allow_void": True}, False),
        ({"allow_void": True, "voided": True}, False),  # the emulator's old invented key
    ],
)
def test_void_is_read_from_signals_the_gateway_sends(after: dict[str, Any], done: bool) -> None:
    before = _order({"uuid": SALE, "allow_void": True})
    assert _void_done(_order({"uuid": SALE, **after}), SALE, before) is done


def test_void_signals_on_the_order() -> None:
    assert _void_done(_order({"uuid": SALE}, correspondence_state="voided"), SALE, None)
    assert _void_done(_order(state="voided"), None, None)
    assert not _void_done(_order(state="completed"), None, None)


def test_allow_void_false_after_a_refund_is_not_a_void() -> None:
    before = _order({"uuid": SALE, "allow_void": True})
    after = _order({"uuid": SALE, "allow_void": False}, {"uuid": "r1", "type": "Refund"})
    assert not _void_done(after, SALE, before)


def test_amounts_sent_as_json_numbers_read_as_two_place_text() -> None:
    """iOS decodes amounts as Double: the SDK reads numbers as the text its models document."""
    order = structure(
        _order(
            {"uuid": SALE, "type": "Sales", "amount": 21.5, "refunded_amount": 0}, paid_total=21.5
        )["order"],
        Order,
    )
    assert (order.initial_total, order.paid_total) == ("30.00", "21.50")
    assert (order.transactions[0].amount, order.transactions[0].refunded_amount) == (
        "21.50",
        "0.00",
    )
    assert order.number == "W1"


@pytest.mark.parametrize(
    "method", ["credit_card", "apple_pay", "alipay_hk", "wechat_pay", "Credit Card"]
)
def test_default_payment_methods_wonders_app_writes_are_accepted(method: str) -> None:
    """A customer whose default was set by Wonder's app reads back e.g. credit_card; sending it
    again is not refused before it leaves (an unknown value still is)."""
    fields = CustomerFields(
        reference_number="u-1", name="A", phone="1", default_payment_method=method
    )
    fields.validate(prefix="customer.", for_upsert=True)
    assert fields.to_wire()["default_payment_method"] == method
    with pytest.raises(ValidationError):
        CustomerFields(default_payment_method="carrier_pigeon").validate(
            prefix="customer.", for_upsert=False
        )
