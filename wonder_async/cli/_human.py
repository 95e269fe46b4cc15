"""What a command prints without ``--json``: short, aligned lines a person can read.

One function per kind of result; anything else falls back to ``key=value`` pairs with nested
objects summarised, never a Python ``repr``. ``--json`` output is :func:`._common.jsonable`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from .._models import Customer, Order, Payment, PaymentToken, Refund, Transaction

__all__ = ["human_lines", "plural"]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 row``, ``2 rows``; ``nouns`` for an irregular plural."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def human_lines(value: Any) -> list[str]:
    """The lines printed for one result (a list's items each get their own)."""
    if isinstance(value, Payment):
        return _payment(value)
    if isinstance(value, Refund):
        return _refund(value)
    if isinstance(value, Order):
        return [_order_row(value), *(f"  {_transaction_row(t)}" for t in value.transactions)]
    if isinstance(value, Customer):
        return [_customer_row(value)]
    if isinstance(value, PaymentToken):
        return [_token_row(value)]
    if isinstance(value, dict):
        return [_pairs(value.items())]
    if attrs.has(type(value)):
        return [_pairs((f.name, getattr(value, f.name)) for f in attrs.fields(type(value)))]
    return [str(value)]


def _join(*parts: str | None) -> str:
    return "  ".join(p for p in parts if p)


def _pairs(items: Iterable[tuple[str, Any]]) -> str:
    return "  ".join(f"{k}={_brief(v)}" for k, v in items if v is not None and k != "extra")


def _brief(value: Any) -> str:
    """A nested value in one word or two: a model by its id, a list by its length."""
    if isinstance(value, PaymentToken):
        return value.token or "?"
    if isinstance(value, Transaction):
        return value.uuid or "?"
    if isinstance(value, list | tuple):
        return plural(len(value), "item")
    if isinstance(value, dict) or attrs.has(type(value)):
        return "{...}"
    return str(value)


def _money(currency: str | None, amount: str | None) -> str | None:
    return f"{currency} {amount}" if currency and amount is not None else amount


def _order_row(order: Order) -> str:
    return _join(
        f"order {order.number}",
        f"reference {order.reference_number}" if order.reference_number else None,
        f"{order.state} / {order.correspondence_state}",
        _money(order.currency, order.initial_total or order.charge_fee),
        f"paid {order.paid_total}" if order.paid_total is not None else None,
        f"unpaid {order.unpaid_total}" if order.unpaid_total is not None else None,
        f"refunded {order.refunded_total}" if _nonzero(order.refunded_total) else None,
        plural(len(order.transactions), "transaction"),
    )


def _nonzero(amount: str | None) -> bool:
    return amount is not None and amount.strip("0.") != ""


def _card(transaction: Transaction) -> str | None:
    first, last = transaction.card_first_6, transaction.card_last_4
    return f"card {first or ''}******{last or ''}" if first or last else None


def _transaction_row(transaction: Transaction) -> str:
    outcome = "success" if transaction.success else "failed"
    if transaction.is_pending:
        outcome = "pending"
    if transaction.voided:
        outcome += ", voided"
    return _join(
        f"{transaction.type or '?':<6}",
        _money(transaction.currency, transaction.amount),
        outcome,
        transaction.uuid,
        f"of {transaction.original_transaction_uuid}"
        if transaction.original_transaction_uuid
        else None,
        _card(transaction),
        f"{transaction.failure_code}: {transaction.failure_message}"
        if transaction.failure_code
        else None,
    )


def _payment(payment: Payment) -> list[str]:
    txn, order = payment.transaction, payment.order
    verb = "charged" if txn.success else "declined"
    if txn.type == "Authorization":
        verb = "authorised" if txn.success else "declined"
    head = " ".join(
        p
        for p in (
            f"{verb} {_money(txn.currency or order.currency, txn.amount)}",
            f"on order {order.number}",
            f"(reference {order.reference_number})" if order.reference_number else None,
        )
        if p
    )
    lines = [head, f"  transaction   {_transaction_row(txn)}", f"  {_order_row(order)}"]
    note = " (an earlier charge with this id was found: not charged again)"
    lines.append(f"  payment_uuid  {payment.payment_uuid}{note if payment.recovered else ''}")
    return lines


def _refund(refund: Refund) -> list[str]:
    txn, order = refund.transaction, refund.order
    if txn is None:
        head = f"refund of order {order.number} done"
        lines = [head]
    else:
        head = f"refunded {_money(txn.currency or order.currency, txn.amount)}"
        if txn.original_transaction_uuid:
            head += f" of sale {txn.original_transaction_uuid}"
        lines = [head, f"  transaction   {_transaction_row(txn)}"]
    if refund.recovered:
        lines.append("  (an earlier refund was found: not refunded again)")
    lines.append(f"  {_order_row(order)}")
    return lines


def _customer_row(customer: Customer) -> str:
    token = customer.default_payment_token
    return _join(
        f"customer {customer.uuid}",
        f"reference {customer.reference_number}" if customer.reference_number else None,
        customer.name,
        f"phone {customer.dial_code or ''}{customer.phone}" if customer.phone else None,
        customer.email,
        customer.company_name,
        f"default token {token.token}" if token is not None and token.token else None,
    )


def _token_row(token: PaymentToken) -> str:
    card = token.credit_card
    return _join(
        f"token {token.token}",
        token.token_type,
        token.state,
        _join(card.number, f"{card.exp_month}/{card.exp_year}", card.brand) if card else None,
        "default" if token.default else None,
        f"verify at {token.verify_url}" if token.verify_url else None,
        f"{token.error_code}: {token.error_msg}" if token.error_code else None,
    )
