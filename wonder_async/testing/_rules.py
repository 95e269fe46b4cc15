"""The emulator's input rules: what a signed request may contain, decided in one place.

Every endpoint parses its body with :func:`parse_body` and reads its fields through the
checkers here before anything is stored, so nothing stored can break a later read. A refusal
is the SDK's own :class:`~wonder_async.ValidationError` (``"card.number: must contain only
digits"``), which the server answers as a 400 envelope; the limits (lengths, enums, currency
codes, amount format) are the SDK's, imported rather than repeated, so the SDK refuses before
sending whatever the emulator would refuse.

Rules (wonder-api.md §3, issue 18):

* bodies: UTF-8 JSON objects only (no byte-order mark, no UTF-16/32), at most
  :data:`MAX_BODY_BYTES`, nested at most :data:`MAX_DEPTH` deep, no ``NaN``/``Infinity``
  (nor numbers that overflow to it), no duplicate keys, no lone surrogates in any string;
* types exact: a string where a string is documented (``12345`` is not ``"12345"``), objects
  where objects, lists where lists, booleans where booleans; unknown keys of the documented
  objects are refused (a typo must not pass silently);
* ASCII digits ``[0-9]`` only in card numbers, expiry, CVV, amounts, quantities and paging
  (``str.isdigit`` also accepts ``"²"`` and ``"٣"``);
* amounts are decimal strings with at most two places (``"21.00"``), currencies ISO 4217
  alphabetic codes from :data:`~wonder_async._models.CURRENCIES`;
* names, references and other single-line text: no NUL or control characters.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final

from .._errors import ValidationError
from .._models import (
    CONSUME_MODES,
    CURRENCIES,
    DEFAULT_PAYMENT_METHODS,
    ENTRY_TYPES,
    MAX_DIAL_CODE_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TOKEN_LENGTH,
    MAX_URL_LENGTH,
    TRANSACTION_TYPES,
    check_card_number,
    check_email,
    check_text,
)

__all__ = [
    "CUSTOMER_KEYS",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "amount",
    "boolean",
    "card",
    "currency",
    "customer_fields",
    "enum",
    "integer",
    "obj",
    "only_keys",
    "order",
    "order_key",
    "parse_body",
    "parse_datetime",
    "path_param",
    "payment",
    "text",
    "transaction_uuid",
    "unknown_keys",
    "url",
]

#: Largest body accepted (the server's own ``client_max_size`` is the same).
MAX_BODY_BYTES: Final = 1 << 20
#: Deepest nesting of objects and lists accepted in a body.
MAX_DEPTH: Final = 32

_BOMS: Final = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_DIGITS: Final = re.compile(r"[0-9]+\Z")
_AMOUNT: Final = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?\Z")
_URL: Final = re.compile(r"https?://[^\s/]+", re.IGNORECASE)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ALPHA3: Final = re.compile(r"[A-Z]{3}\Z")

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


class _Refused(Exception):
    """Raised from inside ``json.loads`` hooks; turned into a ValidationError."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


# --- bodies -------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise _Refused("json", f"{name} is not JSON (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("json", f"number {text[:20]} is out of range")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _Refused("duplicate", f"key {_show(dup)} appears twice")
    return result


def _show(key: str) -> str:
    return repr(_SURROGATE.sub("\ufffd", key[:40]))


def _walk(value: Any, path: str, depth: int) -> None:
    """Refuse nesting deeper than MAX_DEPTH and lone surrogates in keys and strings."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise ValidationError(path or "body", "surrogate", "contains a lone surrogate")
        return
    if not isinstance(value, dict | list):
        return
    if depth > MAX_DEPTH:
        top = re.split(r"[.\[]", path, maxsplit=1)[0]  # the whole path would be 32 levels long
        raise ValidationError(top or "body", "depth", f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                raise ValidationError(path or "body", "surrogate", "has a lone surrogate in a key")
            _walk(item, f"{path}.{key}" if path else key, depth + 1)
    else:
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", depth + 1)


def parse_body(body: bytes) -> dict[str, Any]:
    """Parse a request body: UTF-8 JSON object, bounded, finite numbers, no duplicate keys.

    An empty body is an empty object (GET and DELETE without a body).

    :raises ValidationError: with field ``body`` (or the path of the offending value).
    """
    if not body:
        return {}
    if len(body) > MAX_BODY_BYTES:
        raise ValidationError("body", "size", f"must be at most {MAX_BODY_BYTES} bytes")
    if body.startswith(_BOMS) or b"\x00" in body:
        # UTF-16/32 JSON of ASCII text always has NUL bytes; raw NUL is never valid UTF-8 JSON.
        raise ValidationError("body", "encoding", "must be UTF-8 JSON without a byte-order mark")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("body", "encoding", "must be valid UTF-8") from None
    try:
        payload = json.loads(
            text,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            object_pairs_hook=_no_duplicates,
        )
    except _Refused as exc:
        raise ValidationError("body", exc.rule, exc.detail) from None
    except RecursionError:
        raise ValidationError("body", "depth", f"nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # JSONDecodeError, and int() of a number with too many digits
        raise ValidationError("body", "json", "is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValidationError("body", "type", "must be a JSON object")
    _walk(payload, "", 1)
    return payload


# --- single values ------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number"}
    return names.get(type(value), "number" if isinstance(value, float) else type(value).__name__)


def unknown_keys(value: Mapping[str, Any], allowed: Collection[str], prefix: str) -> None:
    """Refuse keys of a documented object that the docs do not list."""
    for key in value:
        if key not in allowed:
            shown = _SURROGATE.sub("?", key)[:60] or '""'
            raise ValidationError(f"{prefix}{shown}", "unknown",
                                  "is not a known field")  # fmt: skip


def obj(
    parent: Mapping[str, Any], key: str, field: str, *, required: bool = True
) -> dict[str, Any] | None:
    """The object at ``parent[key]``; ``None`` when absent and optional."""
    value = parent.get(key)
    if value is None:
        if required:
            raise ValidationError(field, "required", "is required")
        return None
    if not isinstance(value, dict):
        raise ValidationError(field, "type", f"must be an object, not a {_type_name(value)}")
    return value


def text(
    parent: Mapping[str, Any],
    key: str,
    field: str,
    *,
    required: bool = False,
    max_length: int = MAX_TEXT_LENGTH,
    multiline: bool = False,
) -> str | None:
    """A string (never a number standing in for one) within the SDK's length; ``""`` is absent."""
    value = parent.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError(field, "type", f"must be a string, not a {_type_name(value)}")
    check_text(field, value, required=required, max_length=max_length, multiline=multiline)
    return value or None


def _required_text(parent: Mapping[str, Any], key: str, field: str, **kw: Any) -> str:
    value = text(parent, key, field, required=True, **kw)
    assert value is not None
    return value


def enum(
    parent: Mapping[str, Any], key: str, field: str, allowed: Collection[str], *, required: bool
) -> str | None:
    """One of ``allowed``, as a string (a list or object is a type error, not a crash)."""
    value = text(parent, key, field, required=required)
    if value is not None and value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise ValidationError(field, "enum", f"must be one of: {choices}")
    return value


def url(parent: Mapping[str, Any], key: str, field: str, *, required: bool) -> str | None:
    """An http(s) URL of at most the SDK's URL length."""
    value = text(parent, key, field, required=required, max_length=MAX_URL_LENGTH)
    if value is not None and not _URL.match(value):
        raise ValidationError(field, "url", "must be an http(s) URL")
    return value


def boolean(parent: Mapping[str, Any], key: str, field: str) -> bool | None:
    """A JSON ``true``/``false`` (not ``1``, not ``"true"``); ``None`` when absent."""
    value = parent.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValidationError(field, "type", f"must be true or false, not a {_type_name(value)}")
    return value


def amount(parent: Mapping[str, Any], key: str, field: str, *, required: bool) -> str | None:
    """A decimal string of ASCII digits with at most two places (``"21.00"``), not negative."""
    value = text(parent, key, field, required=required, max_length=32)
    if value is not None and not _AMOUNT.match(value):
        raise ValidationError(
            field, "amount", "must be a decimal string of ASCII digits with at most 2 places"
        )
    return value


def integer(
    parent: Mapping[str, Any], key: str, field: str, *, required: bool, low: int, high: int
) -> int | None:
    """A JSON integer (not a boolean, not a float, not a string) within ``low..high``."""
    value = parent.get(key)
    if value is None:
        if required:
            raise ValidationError(field, "required", "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, "type", f"must be an integer, not a {_type_name(value)}")
    if not low <= value <= high:
        raise ValidationError(field, "range", f"must be between {low} and {high}")
    return value


def currency(parent: Mapping[str, Any], key: str, field: str, *, required: bool) -> str | None:
    """An ISO 4217 alphabetic code in use (``HKD``): uppercase ASCII, a known currency."""
    value = text(parent, key, field, required=required, max_length=3)
    if value is not None and (not _ALPHA3.match(value) or value not in CURRENCIES):
        raise ValidationError(field, "iso4217", "must be an ISO 4217 code like 'HKD'")
    return value


def path_param(field: str, value: str) -> str:
    """A percent-decoded path segment: bounded text without control characters."""
    check_text(field, value, required=True, max_length=MAX_TEXT_LENGTH)
    return value


# --- documented objects -------------------------------------------------------------------


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
    raw = _required_text(c, "number", "card.number", max_length=32)
    number = raw.replace(" ", "").replace("-", "")  # as printed on the card
    check_card_number(number)
    month = _required_text(c, "exp_month", "card.exp_month", max_length=2)
    if not _DIGITS.match(month) or not 1 <= int(month) <= 12:
        raise ValidationError("card.exp_month", "range", "must be a month 1-12")
    year = _required_text(c, "exp_year", "card.exp_year", max_length=4)
    if not _DIGITS.match(year) or len(year) not in (2, 4):
        raise ValidationError("card.exp_year", "format", "must be a 2- or 4-digit year")
    year = year if len(year) == 4 else f"20{year}"
    now = today or dt.date(*time.gmtime()[:3])
    if (int(year), int(month)) < (now.year, now.month):
        raise ValidationError("card.exp_year", "expired", f"card expired {int(month):02d}/{year}")
    holder = _required_text(c, "holder_name", "card.holder_name")
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
        if key == "country_code" and value is not None and not _ALPHA3.match(value):
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
        raise ValidationError(field, "type", f"must be a list, not a {_type_name(value)}")
    if len(value) > _MAX_LINE_ITEMS:
        raise ValidationError(field, "max_items", f"must have at most {_MAX_LINE_ITEMS} items")
    items = []
    for i, item in enumerate(value):
        at = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise ValidationError(at, "type", f"must be an object, not a {_type_name(item)}")
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
            "price": amount(item, "price", f"{at}.price", required=True),
            "quantity": integer(
                item, "quantity", f"{at}.quantity", required=True, low=1, high=1_000_000
            ),
            "total": amount(item, "total", f"{at}.total", required=True),
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
        "reference_number": _required_text(value, "reference_number", prefix + "reference_number"),
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
        optional["line_items"] = _line_items(value["line_items"], prefix + "line_items")
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


def parse_datetime(value: str) -> dt.datetime | None:
    """An RFC 3339 / ISO 8601 time (``Z`` allowed, as on Python 3.10), or ``None``."""
    if not value.isascii():
        return None
    try:
        return dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None


def order_key(body: dict[str, Any], key: str = "order") -> dict[str, str]:
    """``{"number"|"reference_number": ...}`` naming one order: exactly one of the two."""
    value = obj(body, key, key)
    assert value is not None
    unknown_keys(value, ("number", "reference_number"), f"{key}.")
    number = text(value, "number", f"{key}.number")
    ref = text(value, "reference_number", f"{key}.reference_number")
    if (number is None) == (ref is None):
        raise ValidationError(
            f"{key}.number", "one_of", "give exactly one of number or reference_number"
        )
    return {"number": number} if number is not None else {"reference_number": ref or ""}


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


def only_keys(body: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    """Refuse keys an endpoint does not document (at the top level, or under ``prefix``)."""
    unknown_keys(body, frozenset(allowed), prefix)
