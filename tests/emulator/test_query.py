"""The Query DSL parser and matcher (wonder-api.md §4.5), as pure functions."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from wonder_async import ValidationError
from wonder_async.resources.customers import _CustomersRequests
from wonder_async.testing._query import CUSTOMER_FIELDS, MAX_OFFSET, ORDER_FIELDS, parse_query

CUSTOMERS: list[dict[str, Any]] = [
    {"uuid": "u1", "name": "Tai Man Chan", "email": "a@x.hk", "default_payment_token": None},
    {
        "uuid": "u2",
        "name": "Siu Ming",
        "email": None,
        "default_payment_token": {"token": "t2", "state": "success"},
    },
    {
        "uuid": "u3",
        "name": "CHAN Ka",
        "email": "c@x.hk",
        "default_payment_token": {"token": "t3", "state": "pending"},
    },
]
ORDERS: list[dict[str, Any]] = [
    {
        "number": "1",
        "charge_fee": "100.00",
        "correspondence_state": "paid",
        "created_at": "2026-01-05T15:43:18+08:00",
        "transactions": [{"type": "Sales"}],
    },
    {
        "number": "2",
        "charge_fee": "99.99",
        "correspondence_state": "unpaid",
        "created_at": "2026-01-05T07:43:19Z",
        "transactions": [],
    },
    {
        "number": "3",
        "charge_fee": "1000",
        "correspondence_state": "refunded",
        "created_at": "2026-01-04T00:00:00+00:00",
        "transactions": [{"type": "Sales"}, {"type": "Refund"}],
    },
]


def uuids(query: str, records: list[dict[str, Any]], fields: Any = CUSTOMER_FIELDS) -> list[str]:
    parsed = parse_query(parse_qsl(query, keep_blank_values=True), fields)
    key = "uuid" if fields is CUSTOMER_FIELDS else "number"
    return [r[key] for r in parsed.apply(records)]


def refused(query: str, fields: Any = CUSTOMER_FIELDS) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_query(parse_qsl(query, keep_blank_values=True), fields, params=["linked_source_type"])
    return info.value.field, info.value.rule


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["u1", "u2", "u3"]),
        ("filter[name][_eq]=Siu Ming", ["u2"]),
        ("filter[name][_eq]=NoSuchName", []),
        ("filter[name][_neq]=Siu Ming", ["u1", "u3"]),
        ("filter[name][_contains]=chan", ["u1", "u3"]),
        ("filter[name][_not_contains]=chan", ["u2"]),
        ("filter[uuid][_in]=u1,u3,zz", ["u1", "u3"]),
        ("filter[uuid][_not_in]=u1,u3", ["u2"]),
        ("filter[email][_null]=1", ["u2"]),
        ("filter[email][_null]=0", ["u1", "u3"]),
        # SQL semantics: a null is neither equal nor unequal.
        ("filter[email][_neq]=a@x.hk", ["u3"]),
        ("filter[name][_gt]=S", ["u1", "u2"]),
        ("filter[default_payment_token.state][_eq]=success", ["u2"]),
        ("filter[default_payment_token.token][_null]=1", ["u1"]),
        ("filter[name][_contains]=a&filter[email][_null]=0", ["u1", "u3"]),
        ("limit=1&offset=1", ["u2"]),
        ("filter[name][_contains]=chan&offset=1", ["u3"]),
        (f"offset={MAX_OFFSET}", []),
    ],
)
def test_customer_filters_change_the_result(query: str, expected: list[str]) -> None:
    assert uuids(query, CUSTOMERS) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filter[charge_fee][_gte]=100", ["1", "3"]),
        ("filter[charge_fee][_lt]=100.00", ["2"]),
        ("filter[charge_fee][_in]=100,1000.00", ["1", "3"]),
        ("filter[correspondence_state][_eq]=paid", ["1"]),
        ("filter[created_at][_gt]=2026-01-05T15:43:18%2B08:00", ["2"]),
        ("filter[created_at][_lte]=2026-01-05T00:00:00Z", ["3"]),
        ("filter[transactions.type][_eq]=Refund", ["3"]),
        ("filter[transactions.type][_neq]=Refund", ["1"]),
        ("filter[transactions.type][_null]=1", ["2"]),
        ("filter[initial_total][_gte]=100&filter[correspondence_state][_eq]=paid", []),
    ],
)
def test_order_filters_compare_by_kind(query: str, expected: list[str]) -> None:
    assert uuids(query, ORDERS, ORDER_FIELDS) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("limit=0", ("limit", "range")),
        ("limit=1001", ("limit", "range")),
        ("limit=%2B5", ("limit", "integer")),
        ("limit=+5", ("limit", "integer")),
        ("limit=%205%20", ("limit", "integer")),
        ("limit=1_0", ("limit", "integer")),
        ("limit=%EF%BC%95", ("limit", "integer")),
        ("limit=%C2%B2", ("limit", "integer")),
        ("limit=", ("limit", "integer")),
        ("limit=5&limit=6", ("limit", "duplicate")),
        ("offset=-1", ("offset", "integer")),
        (f"offset={MAX_OFFSET + 1}", ("offset", "range")),
        ("offset=" + "9" * 5000, ("offset", "integer")),
        ("filter[password][_eq]=x", ("filter[password][_eq]", "unknown_field")),
        ("filter[name][_like]=x", ("filter[name][_like]", "unknown_op")),
        ("filter[name]=x", ("filter[name]", "filter")),
        ("filter[name][_eq][x]=x", ("filter[name][_eq][x]", "filter")),
        ("filter[email][_null]=yes", ("filter[email][_null]", "boolean")),
        ("filter[name][_eq]=a%00b", ("filter[name][_eq]", "control")),
        ("sort=name", ("sort", "unknown")),
    ],
)
def test_bad_paging_and_filters_are_refused(query: str, expected: tuple[str, str]) -> None:
    assert refused(query) == expected


def test_number_and_time_values_are_checked_by_field_kind() -> None:
    assert refused("filter[charge_fee][_gt]=abc", ORDER_FIELDS) == (
        "filter[charge_fee][_gt]",
        "number",
    )
    assert refused("filter[charge_fee][_gt]=%EF%BC%95", ORDER_FIELDS)[1] == "number"
    assert refused("filter[created_at][_gt]=yesterday", ORDER_FIELDS)[1] == "datetime"
    assert refused("filter[charge_fee][_contains]=1", ORDER_FIELDS)[1] == "unknown_op"


def test_other_parameters_are_handed_back() -> None:
    query = parse_query(
        [("linked_source_type", "User")], CUSTOMER_FIELDS, params=["linked_source_type"]
    )
    assert query.params == {"linked_source_type": "User"}
    assert (query.limit, query.offset) == (20, 0)


def test_what_the_sdk_sends_is_what_the_emulator_parses() -> None:
    filters = {
        "name": {"_contains": "Chan & Co", "_neq": "a=b"},
        "uuid": {"_in": ["u1", "u3"]},
        "email": {"_null": False},
        "default_payment_token.state": {"_eq": "success"},
    }
    request = _CustomersRequests._list_request(100, 5, "User", filters)
    pairs = parse_qsl(urlsplit(request.uri).query, keep_blank_values=True)
    query = parse_query(pairs, CUSTOMER_FIELDS, params=["linked_source_type"])
    assert (query.limit, query.offset, query.params) == (100, 5, {"linked_source_type": "User"})
    got = {(".".join(c.path), c.op, c.value) for c in query.conditions}
    assert got == {
        ("name", "_contains", "Chan & Co"),
        ("name", "_neq", "a=b"),
        ("uuid", "_in", frozenset({"u1", "u3"})),
        ("email", "_null", False),
        ("default_payment_token.state", "_eq", "success"),
    }
