"""The Query DSL of the list endpoints (wonder-api.md §4.5), parsed strictly and applied.

``filter[field][_op]=value`` (repeatable; conditions are ANDed), ``limit`` (1 to
:data:`~wonder_async.resources._listing.MAX_PAGE_SIZE`) and ``offset`` (0 or more), as the
customers and orders lists take them. Values are what the SDK's ``filter_query`` sends:
booleans as ``1``/``0``, lists (``_in``/``_not_in``) comma-separated.

Strict, like a gateway: ``limit`` and ``offset`` are plain ASCII integers (no sign, no spaces,
no ``1_0``, no full-width digits); an unknown field, operator or parameter is a 400
:class:`~wonder_async.ValidationError` naming it. Semantics follow SQL, as a gateway backed by
a database would: a missing (``null``) value matches nothing but ``_null=1``; ``_contains``
is a case-insensitive substring (SQL ``LIKE``); comparisons are numeric for amounts and
counts, by instant for datetimes, by text otherwise. A dot path reaches into nested objects
(``default_payment_token.state``) and into lists of objects (``transactions.type``: any item
may match).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import attrs

from .._errors import ValidationError
from .._models import MAX_TEXT_LENGTH, check_text
from ..resources._listing import FILTER_OPS, MAX_PAGE_SIZE
from ._rules import parse_datetime

__all__ = [
    "CUSTOMER_FIELDS",
    "MAX_OFFSET",
    "OPS",
    "ORDER_FIELDS",
    "Condition",
    "Query",
    "parse_query",
]

#: Every operator of the DSL (the SDK's list, so both accept the same).
OPS: Final = FILTER_OPS
#: Largest ``offset`` accepted (a signed 64-bit integer, as a database would take).
MAX_OFFSET: Final = 2**63 - 1

#: Kinds of fields: how values compare.
TEXT: Final = "text"
NUMBER: Final = "number"
DATETIME: Final = "datetime"
BOOLEAN: Final = "boolean"

_TOKEN_FIELDS: Final = {
    "token": TEXT,
    "token_type": TEXT,
    "state": TEXT,
    "verify_uuid": TEXT,
    "error_code": TEXT,
    "credit_card.brand": TEXT,
    "credit_card.exp_month": TEXT,
    "credit_card.exp_year": TEXT,
    "credit_card.holder_name": TEXT,
}
#: Filterable fields of the customers list (dot paths included).
CUSTOMER_FIELDS: Final[Mapping[str, str]] = {
    "uuid": TEXT,
    "reference_number": TEXT,
    "name": TEXT,
    "email": TEXT,
    "dial_code": TEXT,
    "phone": TEXT,
    "company_name": TEXT,
    "default_payment_method": TEXT,
    **{f"default_payment_token.{k}": v for k, v in _TOKEN_FIELDS.items()},
}
#: Filterable fields of the orders list.
ORDER_FIELDS: Final[Mapping[str, str]] = {
    "number": TEXT,
    "reference_number": TEXT,
    "state": TEXT,
    "correspondence_state": TEXT,
    "currency": TEXT,
    "customer_uuid": TEXT,
    "note": TEXT,
    "due_date": TEXT,
    "charge_fee": NUMBER,
    "tips": NUMBER,
    "initial_total": NUMBER,
    "paid_total": NUMBER,
    "unpaid_total": NUMBER,
    "subtotal": NUMBER,
    "initial_tips": NUMBER,
    "created_at": DATETIME,
    "updated_at": DATETIME,
    "is_only_pre_auth": BOOLEAN,
    "transactions.uuid": TEXT,
    "transactions.type": TEXT,
    "transactions.amount": NUMBER,
    "transactions.currency": TEXT,
    "transactions.success": BOOLEAN,
    "transactions.is_pending": BOOLEAN,
    "transactions.refunded_amount": NUMBER,
    "transactions.original_transaction_uuid": TEXT,
    "transactions.voided_at": DATETIME,
    "transactions.created_at": DATETIME,
}

_FILTER: Final = re.compile(r"filter\[([^\[\]]*)\]\[([^\[\]]*)\]\Z")
_UINT: Final = re.compile(r"[0-9]{1,19}\Z")
_NUMBER: Final = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,10})?\Z")
_MAX_CONDITIONS: Final = 50
_MAX_IN_VALUES: Final = 1000


@attrs.frozen
class Condition:
    """One ``filter[path][op]=value``, its value already converted for comparing."""

    path: tuple[str, ...]
    kind: str
    op: str
    value: Any

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` satisfies this condition (SQL semantics for missing values)."""
        found = list(_values(record, self.path))
        if self.op == "_null":
            is_null = not found or all(v is None or v == "" for v in found)
            return bool(is_null == self.value)
        values = [c for c in (_coerce(self.kind, v) for v in found) if c is not None]
        if self.op in {"_neq", "_not_in", "_not_contains"}:
            # NOT of an any-match over the values, and (as SQL) never true for a null.
            return bool(values) and not any(
                _test(_POSITIVE[self.op], v, self.value) for v in values
            )
        return any(_test(self.op, v, self.value) for v in values)


_POSITIVE: Final = {"_neq": "_eq", "_not_in": "_in", "_not_contains": "_contains"}


def _test(op: str, have: Any, want: Any) -> bool:
    if op == "_eq":
        return bool(have == want)
    if op == "_in":
        return have in want
    if op == "_contains":
        return str(want).casefold() in str(have).casefold()
    try:
        if op == "_gt":
            return bool(have > want)
        if op == "_gte":
            return bool(have >= want)
        if op == "_lt":
            return bool(have < want)
        return bool(have <= want)
    except TypeError:  # e.g. a naive and an aware datetime
        return False


def _values(record: Any, path: Sequence[str]) -> Iterable[Any]:
    """The values at ``path`` (lists of objects fan out)."""
    if not path:
        if isinstance(record, list):
            yield from record
        else:
            yield record
        return
    if isinstance(record, list):
        for item in record:
            yield from _values(item, path)
    elif isinstance(record, Mapping) and path[0] in record:
        yield from _values(record[path[0]], path[1:])


def _coerce(kind: str, value: Any) -> Any:
    """A stored value as comparable for ``kind``; ``None`` when it is null or not of the kind."""
    if value is None or isinstance(value, dict | list):
        return None
    if kind == BOOLEAN:
        return value if isinstance(value, bool) else None
    if kind == NUMBER:
        if isinstance(value, bool):
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if kind == DATETIME:
        return parse_datetime(value) if isinstance(value, str) else None
    return value if isinstance(value, str) else str(value)


def _converter(kind: str, field: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        if kind == NUMBER:
            if not _NUMBER.match(text):
                raise ValidationError(field, "number", "must be a decimal number like 100.00")
            return Decimal(text)
        if kind == DATETIME:
            when = parse_datetime(text)
            if when is None:
                raise ValidationError(
                    field, "datetime", "must be an RFC 3339 time like 2026-01-05T15:43:18+08:00"
                )
            return when
        if kind == BOOLEAN:
            return _flag(field, text)
        return text

    return convert


def _flag(field: str, text: str) -> bool:
    if text not in {"0", "1"}:
        raise ValidationError(field, "boolean", "must be 1 or 0")
    return text == "1"


def _condition(field: str, op: str, raw: str, fields: Mapping[str, str]) -> Condition:
    name = f"filter[{field}][{op}]"
    kind = fields.get(field)
    if kind is None:
        choices = ", ".join(sorted(fields))
        raise ValidationError(name, "unknown_field", f"{field!r} is not filterable; use: {choices}")
    if op not in OPS:
        choices = ", ".join(sorted(OPS))
        raise ValidationError(name, "unknown_op", f"{op!r} is not an operator; use: {choices}")
    check_text(name, raw, required=op != "_contains", max_length=MAX_TEXT_LENGTH * 16)
    value: Any
    if op == "_null":
        value = _flag(name, raw)
    elif op in {"_in", "_not_in"}:
        parts = raw.split(",")
        if len(parts) > _MAX_IN_VALUES:
            raise ValidationError(name, "max_items", f"must list at most {_MAX_IN_VALUES} values")
        value = frozenset(map(_converter(kind, name), parts))
    elif op in {"_contains", "_not_contains"}:
        if kind != TEXT:
            raise ValidationError(name, "unknown_op", f"{op} applies to text fields only")
        value = raw
    else:
        if kind == BOOLEAN and op not in {"_eq", "_neq"}:
            raise ValidationError(name, "unknown_op", f"{op} does not apply to a boolean")
        value = _converter(kind, name)(raw)
    return Condition(tuple(field.split(".")), kind, op, value)


def _uint(name: str, raw: str, low: int, high: int) -> int:
    if not _UINT.match(raw):
        raise ValidationError(name, "integer", "must be a plain integer of ASCII digits")
    value = int(raw)
    if not low <= value <= high:
        raise ValidationError(name, "range", f"must be between {low} and {high}")
    return value


@attrs.frozen
class Query:
    """A parsed list query: paging, filter conditions and the endpoint's other parameters."""

    limit: int
    offset: int
    conditions: tuple[Condition, ...] = ()
    params: Mapping[str, str] = attrs.field(factory=dict)

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` satisfies every condition."""
        return all(c.matches(record) for c in self.conditions)

    def apply(self, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The page of matching ``records``: skip ``offset`` matches, keep up to ``limit``."""
        page: list[Mapping[str, Any]] = []
        skipped = 0
        for record in records:
            if not self.matches(record):
                continue
            if skipped < self.offset:
                skipped += 1
                continue
            page.append(record)
            if len(page) >= self.limit:
                break
        return page


def parse_query(
    pairs: Iterable[tuple[str, str]],
    fields: Mapping[str, str],
    *,
    params: Iterable[str] = (),
    default_limit: int = 20,
) -> Query:
    """Parse a list endpoint's query string (decoded ``(name, value)`` pairs, in order).

    :param fields: filterable fields and their kinds (:data:`CUSTOMER_FIELDS`, ...).
    :param params: the endpoint's other parameters (e.g. ``linked_source_type``), returned
        as given in :attr:`Query.params` for the endpoint to check.
    :raises ValidationError: naming the parameter and the rule broken.
    """
    allowed = frozenset(params)
    limit, offset = default_limit, 0
    seen: set[str] = set()
    conditions: list[Condition] = []
    others: dict[str, str] = {}
    for name, raw in pairs:
        shown = name[:80]
        check_text(shown or "query", name, required=True, max_length=MAX_TEXT_LENGTH)
        if name in seen and not name.startswith("filter["):
            raise ValidationError(shown, "duplicate", "is given twice")
        seen.add(name)
        if name == "limit":
            limit = _uint("limit", raw, 1, MAX_PAGE_SIZE)
        elif name == "offset":
            offset = _uint("offset", raw, 0, MAX_OFFSET)
        elif name.startswith("filter"):
            match = _FILTER.match(name)
            if match is None:
                raise ValidationError(shown, "filter", "must look like filter[field][_op]")
            if len(conditions) >= _MAX_CONDITIONS:
                raise ValidationError(shown, "max_items", f"at most {_MAX_CONDITIONS} filters")
            conditions.append(_condition(match[1], match[2], raw, fields))
        elif name in allowed:
            check_text(name, raw, required=False, max_length=MAX_TEXT_LENGTH * 4)
            others[name] = raw
        else:
            raise ValidationError(shown, "unknown", "is not a parameter of this list")
    return Query(limit, offset, tuple(conditions), others)
