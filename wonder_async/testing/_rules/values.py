"""Single values: each checker reads one field of a parsed body, exactly typed, within the
SDK's limits, and raises :class:`~wonder_async.ValidationError` naming the field."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, Final

from ..._errors import ValidationError
from ..._models import CURRENCIES, MAX_TEXT_LENGTH, MAX_URL_LENGTH, check_text
from .body import SURROGATE

__all__ = [
    "ALPHA3",
    "amount",
    "boolean",
    "collect_unknown_keys",
    "currency",
    "enum",
    "integer",
    "obj",
    "only_keys",
    "parse_datetime",
    "path_param",
    "quantity",
    "required_text",
    "text",
    "type_name",
    "unknown_keys",
    "url",
]

_AMOUNT: Final = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?\Z")
_SIGNED_AMOUNT: Final = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,2})?\Z")
_DIGITS: Final = re.compile(r"[0-9]+\Z")
_URL: Final = re.compile(r"https?://[^\s/]+", re.IGNORECASE)
ALPHA3: Final = re.compile(r"[A-Z]{3}\Z")


def type_name(value: Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number"}
    return names.get(type(value), "number" if isinstance(value, float) else type(value).__name__)


#: Where :func:`unknown_keys` counts the keys it tolerates during one request.
_UNKNOWN_SINK: ContextVar[Counter[str] | None] = ContextVar("unknown_keys", default=None)


@contextmanager
def collect_unknown_keys(sink: Counter[str]) -> Iterator[Counter[str]]:
    """Within this block unknown keys are tolerated and counted in ``sink`` (per field)."""
    token = _UNKNOWN_SINK.set(sink)
    try:
        yield sink
    finally:
        _UNKNOWN_SINK.reset(token)


def unknown_keys(value: Mapping[str, Any], allowed: Collection[str], prefix: str) -> None:
    """Keys of a documented object that the docs do not list.

    Inside :func:`collect_unknown_keys` (every API request) they are tolerated and counted,
    as the gateway evidently keeps what Wonder's own clients send (``order.customer``,
    ``refund.currency``, ...); outside it (a strict check of our own bodies) the first one is
    refused as ``unknown``.
    """
    sink = _UNKNOWN_SINK.get()
    for key in value:
        if key not in allowed:
            shown = SURROGATE.sub("?", key)[:60] or '""'
            if sink is None:
                raise ValidationError(f"{prefix}{shown}", "unknown", "is not a known field")
            sink[f"{prefix}{shown}"] += 1


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
        raise ValidationError(field, "type", f"must be an object, not a {type_name(value)}")
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
        raise ValidationError(field, "type", f"must be a string, not a {type_name(value)}")
    check_text(field, value, required=required, max_length=max_length, multiline=multiline)
    return value or None


def required_text(parent: Mapping[str, Any], key: str, field: str, **kw: Any) -> str:
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
        raise ValidationError(field, "type", f"must be true or false, not a {type_name(value)}")
    return value


def amount(
    parent: Mapping[str, Any], key: str, field: str, *, required: bool, signed: bool = False
) -> str | None:
    """An amount, returned as a two-place string (``"21.00"``).

    Wonder's own clients send amounts both ways, so both are taken: a decimal string of ASCII
    digits with at most two places (``"21.00"``, ``"21.5"``), or a JSON number with at most
    two places (``21``, ``21.5``; PHP's ``'charge_fee' => 100``). Not negative unless
    ``signed`` (a discount line item); never NaN, Infinity, an exponent, non-ASCII digits or
    a third decimal place.
    """
    value = parent.get(key)
    if isinstance(value, bool) or (value is not None and not isinstance(value, str | int | float)):
        raise ValidationError(
            field, "type", f'must be an amount (a string like "21.00" or a number), not a '
            f"{type_name(value)}"
        )  # fmt: skip
    if isinstance(value, int | float):
        # repr() of a JSON number: "21.5", "100", "1e+20" (refused by the pattern below).
        text_value = repr(value)
        if isinstance(value, float) and text_value.endswith(".0"):
            text_value = text_value[:-2]
    else:
        text_value = text(parent, key, field, required=required, max_length=32) or ""
        if not text_value:
            return None
    pattern = _SIGNED_AMOUNT if signed else _AMOUNT
    if not pattern.match(text_value):
        sign = "" if signed else ", not negative"
        raise ValidationError(
            field, "amount", f"must be a decimal amount of ASCII digits with at most 2 places{sign}"
        )
    return f"{Decimal(text_value):.2f}"


def quantity(parent: Mapping[str, Any], key: str, field: str, *, high: int) -> int:
    """A count of at least 1: a JSON integer or a string of ASCII digits (OpenCart sends
    ``(string)$product['quantity']``, catalog controller:888)."""
    value = parent.get(key)
    if isinstance(value, str) and _DIGITS.match(value) and len(value) <= 10:
        value = int(value)
    elif isinstance(value, str):
        raise ValidationError(field, "type", "must be an integer or a string of ASCII digits")
    checked = integer({key: value}, key, field, required=True, low=1, high=high)
    assert checked is not None
    return checked


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
        raise ValidationError(field, "type", f"must be an integer, not a {type_name(value)}")
    if not low <= value <= high:
        raise ValidationError(field, "range", f"must be between {low} and {high}")
    return value


def currency(parent: Mapping[str, Any], key: str, field: str, *, required: bool) -> str | None:
    """An ISO 4217 alphabetic code in use (``HKD``): uppercase ASCII, a known currency."""
    value = text(parent, key, field, required=required, max_length=3)
    if value is not None and (not ALPHA3.match(value) or value not in CURRENCIES):
        raise ValidationError(field, "iso4217", "must be an ISO 4217 code like 'HKD'")
    return value


def path_param(field: str, value: str) -> str:
    """A percent-decoded path segment: bounded text without control characters."""
    check_text(field, value, required=True, max_length=MAX_TEXT_LENGTH)
    return value


def parse_datetime(value: str) -> dt.datetime | None:
    """An RFC 3339 / ISO 8601 time (``Z`` allowed, as on Python 3.10), or ``None``."""
    if not value.isascii():
        return None
    try:
        return dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None


def only_keys(body: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    """Refuse keys an endpoint does not document (at the top level, or under ``prefix``)."""
    unknown_keys(body, frozenset(allowed), prefix)
