"""What a request about an order carries: amounts, the key naming an order, a new order's
fields. Checked before sending, shared by ``wonder.orders`` and ``wonder.payments``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .._errors import ValidationError
from .._models import CURRENCIES, MAX_NOTE_LENGTH, MAX_TOKEN_LENGTH, check_text

__all__ = ["amount_text", "check_line_items", "order_fields", "order_key"]


def amount_text(field: str, value: str | Decimal | None, *, required: bool) -> str | None:
    """Validate an amount (``str`` or ``Decimal``, at most 2 places, not negative) and return
    it as the gateway's ``"21.00"`` text.

    :raises ValidationError: naming ``field``.
    """
    if value is None:
        if required:
            raise ValidationError(field, "required", "is required")
        return None
    if isinstance(value, float):
        raise ValidationError(field, "type", "must be a str or Decimal, never a float")
    if isinstance(value, str) and not value.isascii():
        raise ValidationError(field, "amount", "must use ASCII digits, like '21.00'")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(
            field, "amount", f"must be a decimal amount (got {value!r})"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(field, "amount", "must be a non-negative amount")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValidationError(field, "amount", "must have at most 2 decimal places")
    return f"{amount:.2f}"


def order_key(number: str | None, reference_number: str | None) -> dict[str, str]:
    """The ``{"number"|"reference_number": ...}`` object naming one order.

    :raises ValidationError: unless exactly one is given.
    """
    if (number is None) == (reference_number is None):
        raise ValidationError("number", "one_of", "give exactly one of number or reference_number")
    if number is not None:
        check_text("order.number", number, required=True, max_length=255)
        return {"number": number}
    check_text("order.reference_number", reference_number, required=True, max_length=255)
    assert reference_number is not None
    return {"reference_number": reference_number}


def order_fields(
    reference_number: str,
    charge_fee: str | Decimal,
    currency: str,
    customer_uuid: str | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """Validate a new order's fields; return ``{"order": {...}[, "customer_uuid"]}``.

    :raises ValidationError: naming the first field that breaks a rule.
    """
    check_text("order.reference_number", reference_number, required=True, max_length=255)
    check_text("order.currency", currency, required=True, max_length=3)
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise ValidationError("order.currency", "iso4217", "must be a code like 'HKD'")
    if not currency.isupper() or currency not in CURRENCIES:
        raise ValidationError("order.currency", "iso4217", "must be a code like 'HKD'")
    order: dict[str, Any] = {
        "reference_number": reference_number,
        "charge_fee": amount_text("order.charge_fee", charge_fee, required=True),
        "currency": currency,
    }
    extra = dict(extra)
    check_line_items(order["charge_fee"], extra.get("line_items"))
    tips = amount_text("order.tips", extra.pop("tips", None), required=False)
    if tips is not None:
        order["tips"] = tips
    note = extra.pop("note", None)
    check_text("order.note", note, required=False, max_length=MAX_NOTE_LENGTH, multiline=True)
    for key, value in (("note", note), *extra.items()):
        if value is not None:
            order[key] = value
    payload: dict[str, Any] = {"order": order}
    if customer_uuid is not None:
        check_text("customer_uuid", customer_uuid, required=True, max_length=MAX_TOKEN_LENGTH)
        payload["customer_uuid"] = customer_uuid
    return payload


def _line_amount(field: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValidationError(field, "amount", "must be an amount, like '21.00'")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, "amount", f"must be an amount (got {value!r})") from None
    if not amount.is_finite():
        raise ValidationError(field, "amount", "must be a finite amount")
    return amount


def check_line_items(charge_fee: str | None, line_items: Any) -> None:
    """Refuse an order whose non-zero ``charge_fee`` disagrees with its line items' total.

    Wonder's OpenCart plugin sends ``charge_fee "0.00"`` with line items that carry the amount,
    so the gateway evidently totals line items; whether it then charges ``charge_fee``, the
    line items, or both is unknown. With ``charge_fee "0.00"`` (or no line items) nothing is
    checked; otherwise the line items' ``total`` (else ``price`` x ``quantity``; discounts may
    be negative) must add up to ``charge_fee``.

    :raises ValidationError: naming ``order.line_items`` and ``order.charge_fee`` and both sums.
    """
    if not line_items or charge_fee is None or Decimal(charge_fee) == 0:
        return
    total = Decimal(0)
    for i, item in enumerate(line_items):
        field = f"order.line_items[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(field, "type", "must be an object")
        if item.get("total") is not None:
            total += _line_amount(f"{field}.total", item["total"])
        elif item.get("price") is not None and item.get("quantity") is not None:
            price = _line_amount(f"{field}.price", item["price"])
            total += price * _line_amount(f"{field}.quantity", item["quantity"])
        else:
            raise ValidationError(
                f"{field}.total", "required", "is required to check the order's charge_fee"
            )
    if total != Decimal(charge_fee):
        raise ValidationError(
            "order.line_items",
            "total",
            f"add up to {total:.2f} but order.charge_fee is {charge_fee}; nobody knows which the "
            f"gateway would charge: make them agree, or send charge_fee '0.00' with the line "
            f"items carrying the amount",
        )
