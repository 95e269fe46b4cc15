"""The models of orders and the money that moves on them: transactions, payments, refunds."""

from __future__ import annotations

from typing import Any, Final

import attrs

__all__ = [
    "CONSUME_MODES",
    "ConsumeMode",
    "Order",
    "Payment",
    "PaymentData",
    "Refund",
    "Transaction",
    "TransactionType",
]


class TransactionType:
    """Known transaction ``type`` values (§3.14a); others are kept as plain strings."""

    SALES: Final = "Sales"
    AUTHORIZATION: Final = "Authorization"
    REFUND: Final = "Refund"
    CAPTURE: Final = "Capture"


class ConsumeMode:
    """How a charge of a saved token consumes it: a sale, or a pre-authorisation."""

    SALES: Final = "sales"
    PRE_AUTHORIZE: Final = "pre_authorize"


#: ``payment.payment_token.consume_mode`` values (§3.14a).
CONSUME_MODES: Final = frozenset({ConsumeMode.SALES, ConsumeMode.PRE_AUTHORIZE})


@attrs.frozen
class PaymentData:
    """What the gateway tells of the card behind a transaction: never more than 6 + 4 digits."""

    first_6_digits: str | None = None
    last_4_digits: str | None = None
    credit_card_type: str | None = None
    auth_code: str | None = None
    rrn: str | None = None
    transaction_state: str | None = None
    token: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class Transaction:
    """One money movement on an order: a sale, an authorisation, a capture or a refund.

    ``uuid`` is the transaction's id (for charges made by this SDK, the ``payment_uuid`` sent);
    ``success`` says whether it went through; ``allow_void`` / ``allow_refund`` what may follow;
    ``original_transaction_uuid`` links a refund to its sale. ``failure_code`` and
    ``failure_message`` explain a declined attempt.
    """

    uuid: str | None = None
    type: str | None = None
    currency: str | None = None
    amount: str | None = None
    success: bool | None = None
    is_pending: bool | None = None
    captured: bool | None = None
    allow_void: bool | None = None
    allow_refund: bool | None = None
    void_is_pending: bool | None = None
    voided: bool | None = None
    payment_method: str | None = None
    note: str | None = None
    original_transaction_uuid: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    created_at: str | None = None
    payment_data: PaymentData | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def card_first_6(self) -> str | None:
        """The card's first six digits (BIN), when the gateway gave them."""
        return self.payment_data.first_6_digits if self.payment_data else None

    @property
    def card_last_4(self) -> str | None:
        """The card's last four digits, when the gateway gave them."""
        return self.payment_data.last_4_digits if self.payment_data else None


@attrs.frozen
class Order:
    """An order with its totals, states and transactions.

    Amounts are decimal strings (``"21.00"``). ``correspondence_state`` is the payment state
    (``unpaid``, ``partial_paid``, ``paid``, ``over_paid``, ``refunded``, ``voided``);
    ``payment_link`` is set when the order was created ``with_payment_link``.
    """

    number: str | None = None
    reference_number: str | None = None
    state: str | None = None
    correspondence_state: str | None = None
    charge_fee: str | None = None
    tips: str | None = None
    currency: str | None = None
    customer_uuid: str | None = None
    initial_total: str | None = None
    paid_total: str | None = None
    unpaid_total: str | None = None
    refunded_total: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    payment_link: str | None = None
    transactions: tuple[Transaction, ...] = ()
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def transaction(self, uuid: str) -> Transaction | None:
        """Find one of the order's transactions.

        :param uuid: the transaction's ``uuid`` (for a charge by this SDK, its payment uuid).
        :returns: the transaction with this ``uuid``, or ``None``.
        """
        return next((t for t in self.transactions if t.uuid == uuid), None)


@attrs.frozen
class Payment:
    """The outcome of :meth:`Payments.create`: the charge's transaction and its order.

    ``payment_uuid`` is the id the charge was sent with (keep it: a later call with the same
    one can never charge twice). ``recovered`` is ``True`` when a retry found the charge had
    already gone through and returned it instead of charging again.
    """

    payment_uuid: str
    transaction: Transaction
    order: Order
    recovered: bool = False

    @property
    def succeeded(self) -> bool:
        """The charge (or authorisation) went through."""
        return bool(self.transaction.success)


@attrs.frozen
class Refund:
    """The outcome of :meth:`Orders.refund`: the new refund ``transaction`` and the ``order``.

    ``transaction`` is ``None`` only if the gateway's answer did not show the refund itself.
    ``recovered`` is ``True`` when a retry found the refund had already been made.
    """

    transaction: Transaction | None
    order: Order
    recovered: bool = False
