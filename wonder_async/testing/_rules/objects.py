"""The documented objects: customer fields, a card to bind, an order and its line items, the
key naming an order, a transaction, a charge. Unknown keys of each are refused."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal
from typing import Any, Final

from ..._errors import ValidationError
from ..._models import (
    CONSUME_MODES,
    DEFAULT_PAYMENT_METHODS,
    ENTRY_TYPES,
    MAX_DIAL_CODE_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_TOKEN_LENGTH,
    TRANSACTION_TYPES,
    check_card_number,
    check_email,
)
from .values import (
    ALPHA3,
    amount,
    boolean,
    currency,
    enum,
    obj,
    parse_datetime,
    quantity,
    required_text,
    text,
    type_name,
    unknown_keys,
    url,
)

__all__ = [
    "CUSTOMER_KEYS",
    "card",
    "customer_fields",
    "order",
    "order_key",
    "payment",
    "transaction_uuid",
]

_DIGITS: Final = re.compile(r"[0-9]+\Z")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: Keys of the documented objects (anything else is refused as ``unknown``).
CUSTOMER_KEYS: Final = (
    "reference_number",
    "name",
    "email",
    "dial_code",
    "phone",
    "company_name",
    "default_payment_method",
    "default_payment_token",
)
_CARD_KEYS: Final = frozenset(
    {
        "number",
        "exp_month",
        "exp_year",
        "holder_name",
        "cvv",
        "nickname",
        "billing_address",
        "3ds",
        "transaction_type",
    }
)
_ADDRESS_KEYS: Final = (
    "first_name",
    "last_name",
    "address",
    "city",
    "state",
    "zip_code",
    "country_code",
    "phone_number",
    "email",
)
_ORDER_KEYS: Final = frozenset(
    {
        "reference_number",
        "charge_fee",
        "tips",
        "currency",
        "due_date",
        "note",
        "line_items",
        "callback_url",
        "redirect_url",
        "is_only_pre_auth",
    }
)
_LINE_ITEM_KEYS: Final = frozenset(
    {"uuid", "purchasable_type", "purchase_id", "price", "quantity", "total", "label"}
)
_PURCHASABLE_TYPES: Final = frozenset({"RearTips", "Charge", "Listing", "Rounding", "SurchargeFee"})
_MAX_LINE_ITEMS: Final = 1000


def customer_fields(fields: dict[str, Any], prefix: str, *, upsert: bool) -> dict[str, Any]:
    """The customer fields of an upsert (``customer`` object) or an update (flat body).

    Returns the fields present, ``""`` kept for update's "set to empty" of the defaults.
    """
    allowed = CUSTOMER_KEYS if upsert else ("reference_number", *CUSTOMER_KEYS[1:])
    unknown_keys(fields, allowed, prefix)
    found: dict[str, Any] = {}
    for key in CUSTOMER_KEYS:
        field = prefix + key
        required = upsert and key in {"reference_number", "name", "phone"}
        if key == "email":
            value = text(fields, key, field)
            check_email(field, value)
        elif key == "dial_code":
            value = text(fields, key, field, max_length=MAX_DIAL_CODE_LENGTH)
        elif key == "default_payment_method":
            value = enum(fields, key, field, DEFAULT_PAYMENT_METHODS, required=False)
        elif key == "default_payment_token":
            value = text(fields, key, field, max_length=MAX_TOKEN_LENGTH)
        else:
            value = text(fields, key, field, required=required)
        if key in fields:
            found[key] = "" if value is None and fields[key] == "" else value
    return found


def card(body: dict[str, Any], *, today: dt.date | None = None) -> dict[str, Any]:
    """The ``card`` of a payment-token create, checked as the SDK's ``Card`` checks it.

    Returns ``number`` (digits only; spaces and dashes as printed are dropped), ``exp_month``
    (two digits), ``exp_year`` (four digits), ``holder_name``, ``nickname``, ``cvv``,
    ``billing_address`` (dict), ``success_return_url``, ``fail_return_url`` and
    ``transaction_type``.
    """
    for other in ("alipay", "wechat_pay"):
        if other in body:
            raise ValidationError(other, "unsupported", "the emulator binds cards only")
    unknown_keys(body, ("card",), "")
    c = obj(body, "card", "card")
    assert c is not None
    unknown_keys(c, _CARD_KEYS, "card.")
    raw = required_text(c, "number", "card.number", max_length=32)
    number = raw.replace(" ", "").replace("-", "")  # as printed on the card
    check_card_number(number)
    month = required_text(c, "exp_month", "card.exp_month", max_length=2)
    if not _DIGITS.match(month) or not 1 <= int(month) <= 12:
        raise ValidationError("card.exp_month", "range", "must be a month 1-12")
    year = required_text(c, "exp_year", "card.exp_year", max_length=4)
    if not _DIGITS.match(year) or len(year) not in (2, 4):
        raise ValidationError("card.exp_year", "format", "must be a 2- or 4-digit year")
    year = year if len(year) == 4 else f"20{year}"
    now = today or dt.date(*time.gmtime()[:3])
    if (int(year), int(month)) < (now.year, now.month):
        raise ValidationError("card.exp_year", "expired", f"card expired {int(month):02d}/{year}")
    holder = required_text(c, "holder_name", "card.holder_name")
    cvv = text(c, "cvv", "card.cvv", max_length=4)
    if cvv is not None and (not _DIGITS.match(cvv) or len(cvv) not in (3, 4)):
        raise ValidationError("card.cvv", "format", "must be 3 or 4 digits")
    address = obj(c, "billing_address", "card.billing_address", required=False) or {}
    unknown_keys(address, _ADDRESS_KEYS, "card.billing_address.")
    checked_address: dict[str, str] = {}
    for key in _ADDRESS_KEYS:
        field = f"card.billing_address.{key}"
        value = text(address, key, field)
        if key == "email":
            check_email(field, value)
        if key == "country_code" and value is not None and not ALPHA3.match(value):
            raise ValidationError(field, "alpha3", "must be an ISO 3166 alpha-3 code such as 'HKG'")
        if value is not None:
            checked_address[key] = value
    three_ds = obj(c, "3ds", "card.3ds")
    assert three_ds is not None
    unknown_keys(three_ds, ("success_return_url", "fail_return_url"), "card.3ds.")
    return {
        "number": number,
        "exp_month": f"{int(month):02d}",
        "exp_year": year,
        "holder_name": holder,
        "nickname": text(c, "nickname", "card.nickname"),
        "cvv": cvv,
        "billing_address": checked_address,
        "success_return_url": url(
            three_ds, "success_return_url", "card.3ds.success_return_url", required=True
        ),
        "fail_return_url": url(
            three_ds, "fail_return_url", "card.3ds.fail_return_url", required=True
        ),
        "transaction_type": enum(
            c, "transaction_type", "card.transaction_type", TRANSACTION_TYPES, required=True
        ),
    }


def _line_items(value: Any, field: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValidationError(field, "type", f"must be a list, not a {type_name(value)}")
    if len(value) > _MAX_LINE_ITEMS:
        raise ValidationError(field, "max_items", f"must have at most {_MAX_LINE_ITEMS} items")
    items = []
    for i, item in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(at, "type", f"must be an object, not a {type_name(item)}")
        unknown_keys(item, _LINE_ITEM_KEYS, f"{at}.")
        labels = {key: text(item, key, f"{at}.{key}") for key in ("uuid", "purchase_id", "label")}
        checked: dict[str, Any] = {
            "purchasable_type": enum(
                item,
                "purchasable_type",
                f"{at}.purchasable_type",
                _PURCHASABLE_TYPES,
                required=True,
            ),
            # Negative price/total: OpenCart's coupon and adjustment lines (catalog
            # controller:894-938).
            "price": amount(item, "price", f"{at}.price", required=True, signed=True),
            "quantity": quantity(item, "quantity", f"{at}.quantity", high=1_000_000),
            "total": amount(item, "total", f"{at}.total", required=True, signed=True),
        }
        checked.update({k: v for k, v in labels.items() if v is not None})
        items.append(checked)
    return items


def order(value: dict[str, Any], prefix: str = "order.") -> dict[str, Any]:
    """A new order's fields (create order, or ``order`` of a direct payment), only those given.

    ``charge_fee``, ``currency`` and ``reference_number`` are required.
    """
    unknown_keys(value, _ORDER_KEYS, prefix)
    checked: dict[str, Any] = {
        "reference_number": required_text(value, "reference_number", prefix + "reference_number"),
        "charge_fee": amount(value, "charge_fee", prefix + "charge_fee", required=True),
        "currency": currency(value, "currency", prefix + "currency", required=True),
    }
    optional: dict[str, Any] = {
        "tips": amount(value, "tips", prefix + "tips", required=False),
        "note": text(value, "note", prefix + "note", max_length=MAX_NOTE_LENGTH, multiline=True),
        "due_date": text(value, "due_date", prefix + "due_date", max_length=32),
        "callback_url": url(value, "callback_url", prefix + "callback_url", required=False),
        "redirect_url": url(value, "redirect_url", prefix + "redirect_url", required=False),
        "is_only_pre_auth": boolean(value, "is_only_pre_auth", prefix + "is_only_pre_auth"),
    }
    due = optional["due_date"]
    if due is not None and not _valid_date(due):
        raise ValidationError(prefix + "due_date", "date", "must be a date like 2024-01-01")
    if value.get("line_items") is not None:
        items = _line_items(value["line_items"], prefix + "line_items")
        if sum(Decimal(i["total"]) for i in items) < 0:
            raise ValidationError(
                prefix + "line_items", "total", "their totals add up to less than 0"
            )
        optional["line_items"] = items
    checked.update({k: v for k, v in optional.items() if v is not None})
    return checked


def _valid_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        dt.date(int(value[:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return value[10:] == "" or parse_datetime(value) is not None


def order_key(body: dict[str, Any], key: str = "order") -> dict[str, str]:
    """``{"number": ..., "reference_number": ...}`` naming one order: one of the two, or both
    (WooCommerce and OpenCart send both, gateway.php:765-768, OC library :154-172; the
    caller checks that they name the same order)."""
    value = obj(body, key, key)
    assert value is not None
    unknown_keys(value, ("number", "reference_number"), f"{key}.")
    number = text(value, "number", f"{key}.number")
    ref = text(value, "reference_number", f"{key}.reference_number")
    if number is None and ref is None:
        raise ValidationError(
            f"{key}.number", "one_of", "give number or reference_number (or both, of one order)"
        )
    found = {"number": number, "reference_number": ref}
    return {k: v for k, v in found.items() if v is not None}


def transaction_uuid(body: dict[str, Any], *, required: bool) -> str | None:
    """``transaction.uuid`` of a query, void or refund."""
    value = obj(body, "transaction", "transaction", required=required)
    if value is None:
        return None
    unknown_keys(value, ("uuid",), "transaction.")
    return text(value, "uuid", "transaction.uuid", required=True, max_length=MAX_TOKEN_LENGTH)


def payment(body: dict[str, Any]) -> dict[str, Any]:
    """``payment`` of ``open_payments``: ``uuid`` and the ``payment_token`` charge."""
    value = obj(body, "payment", "payment")
    assert value is not None
    unknown_keys(value, ("uuid", "payment_token"), "payment.")
    charge = obj(value, "payment_token", "payment.payment_token")
    assert charge is not None
    prefix = "payment.payment_token."
    unknown_keys(charge, ("amount", "token", "consume_mode", "entry_type"), prefix)
    return {
        "uuid": text(value, "uuid", "payment.uuid", max_length=MAX_TOKEN_LENGTH),
        "amount": amount(charge, "amount", prefix + "amount", required=True),
        "token": text(
            charge, "token", prefix + "token", required=True, max_length=MAX_TOKEN_LENGTH
        ),
        "consume_mode": enum(
            charge, "consume_mode", prefix + "consume_mode", CONSUME_MODES, required=True
        ),
        "entry_type": enum(charge, "entry_type", prefix + "entry_type", ENTRY_TYPES, required=True),
    }
