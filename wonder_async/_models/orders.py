"""The models of orders and the money that moves on them: transactions, payments, refunds."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Final

import attrs

__all__ = [
    "CONSUME_MODES",
    "ConsumeMode",
    "Order",
    "Payment",
    "PaymentData",
    "PaymentStatus",
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


class PaymentStatus:
    """Where a charge stands (:attr:`Payment.status`, :attr:`Transaction.status`)."""

    #: ``success`` true: the charge (or authorisation) went through.
    SUCCEEDED: Final = "succeeded"
    #: Not final yet: ``success`` false or absent while ``is_pending`` is true or absent
    #: (Wonder's iOS SDK treats a missing ``is_pending`` as pending). Neither paid nor
    #: declined: wait (``payments.wait``) or look it up later; never charge it again.
    PENDING: Final = "pending"
    #: ``success`` false and ``is_pending`` false: final, the issuer or gateway refused it.
    DECLINED: Final = "declined"


def to_decimal(value: Any) -> Decimal | None:
    """An amount from an answer (text or JSON number) as a Decimal; ``None`` if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


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
    #: Wonder's reason for a failed transaction (``resp_code``, ``resp_msg``; iOS
    #: DefaultPaymentDelegate.swift:32-41).
    resp_code: str | None = None
    resp_msg: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class Transaction:
    """One money movement on an order: a sale, an authorisation, a capture or a refund.

    ``uuid`` is the transaction's id (for charges made by this SDK, the ``payment_uuid`` sent);
    ``success`` says whether it went through and ``is_pending`` whether that is final yet
    (:attr:`status` reads both); ``allow_void`` / ``allow_refund`` what may follow;
    ``original_transaction_uuid`` links a refund to its sale when the gateway sends it;
    ``refunded_amount`` is what has been refunded of a sale. A declined attempt's reason is
    in ``payment_data.resp_code`` / ``resp_msg`` (``failure_code`` / ``failure_message``
    when sent instead): :attr:`decline_code`, :attr:`decline_message`.
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
    voided_at: str | None = None
    refunded_amount: str | None = None
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

    @property
    def is_refund(self) -> bool:
        """A refund: ``type`` "Refund" in any case (as Wonder's WooCommerce plugin reads it)."""
        return isinstance(self.type, str) and self.type.strip().lower() == "refund"

    @property
    def status(self) -> str:
        """:class:`PaymentStatus`: ``succeeded``, ``pending`` or ``declined``. Only ``success``
        false with ``is_pending`` explicitly false is a decline."""
        if self.success is True and self.is_pending is not True:
            return PaymentStatus.SUCCEEDED
        if self.success is False and self.is_pending is False:
            return PaymentStatus.DECLINED
        return PaymentStatus.PENDING

    @property
    def voided(self) -> bool:
        """The gateway shows this transaction voided: ``voided_at`` set, or its
        ``payment_data.transaction_state`` (or ``state``) is ``voided``. A void still being
        processed is :attr:`void_is_pending`."""
        if self.voided_at:
            return True
        state = self.payment_data.transaction_state if self.payment_data else None
        state = state or self.extra.get("state")
        return isinstance(state, str) and state.strip().lower() == "voided"

    @property
    def decline_code(self) -> str | None:
        """Wonder's reason code of a failed transaction (``payment_data.resp_code``, else
        ``failure_code``)."""
        code = self.payment_data.resp_code if self.payment_data else None
        return code or self.failure_code

    @property
    def decline_message(self) -> str | None:
        """Wonder's reason text of a failed transaction (``payment_data.resp_msg``, else
        ``failure_message``)."""
        message = self.payment_data.resp_msg if self.payment_data else None
        return message or self.failure_message

    @property
    def amount_value(self) -> Decimal | None:
        """``amount`` as a Decimal, its sign dropped (refunds may come negative); ``None``
        when absent or unreadable."""
        value = to_decimal(self.amount)
        return None if value is None else abs(value)


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

    @property
    def refunds(self) -> tuple[Transaction, ...]:
        """The order's refund transactions (``type`` "Refund" in any case), oldest first."""
        return tuple(t for t in self.transactions if t.is_refund)

    @property
    def refunded_total(self) -> str:
        """What has been refunded on this order, computed from its transactions (the gateway
        sends no order total for it): the absolute amounts of its refund transactions that did
        not fail, or the sales' ``refunded_amount`` when that is larger and plausible (not
        above the order's total), as ``"0.00"`` text."""
        from_refunds = sum(
            (t.amount_value or Decimal(0) for t in self.refunds if t.success is not False),
            Decimal(0),
        )
        from_sales = sum(
            (
                abs(to_decimal(t.refunded_amount) or Decimal(0))
                for t in self.transactions
                if not t.is_refund
            ),
            Decimal(0),
        )
        ceiling = to_decimal(self.initial_total)
        if from_sales > from_refunds and (ceiling is None or from_sales <= ceiling):
            from_refunds = from_sales
        return f"{from_refunds:.2f}"


@attrs.frozen
class Payment:
    """The outcome of :meth:`Payments.create`: the charge's transaction and its order.

    ``status`` is ``"succeeded"`` or ``"pending"`` (:class:`PaymentStatus`); a pending charge
    is neither paid nor declined yet: ``payments.wait(payment)`` polls the order until it
    settles.

    ``payment_uuid`` is the id the charge was sent with (keep it: a later call with the same
    one can never charge twice). ``recovered`` is ``True`` when a retry found the charge had
    already gone through and returned it instead of charging again.
    """

    payment_uuid: str
    transaction: Transaction
    order: Order
    recovered: bool = False

    @property
    def status(self) -> str:
        """:class:`PaymentStatus` ``succeeded`` or ``pending`` (a declined charge raises
        :class:`~wonder_async.CardDeclinedError` instead of returning)."""
        return self.transaction.status

    @property
    def succeeded(self) -> bool:
        """The charge (or authorisation) went through."""
        return self.transaction.status == PaymentStatus.SUCCEEDED

    @property
    def pending(self) -> bool:
        """The charge is not final yet: wait for it (``payments.wait``), never charge again."""
        return self.transaction.status == PaymentStatus.PENDING


@attrs.frozen
class Refund:
    """The outcome of :meth:`Orders.refund`: the new refund ``transaction`` and the ``order``.

    ``transaction`` is ``None`` only if the gateway's answer did not show the refund itself.
    ``recovered`` is ``True`` when a retry found the refund had already been made.
    """

    transaction: Transaction | None
    order: Order
    recovered: bool = False
