"""The emulator's input rules (issue 18), as pure functions: each refusal names field and rule."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from wonder_async import ValidationError
from wonder_async.testing import _rules as rules

CARD: dict[str, Any] = {
    "number": "4242424242424242",
    "exp_month": "12",
    "exp_year": "2099",
    "holder_name": "TAI MAN CHAN",
    "3ds": {
        "success_return_url": "https://m.example/ok",
        "fail_return_url": "https://m.example/no",
    },
    "transaction_type": "unscheduled_cof",
}
ORDER: dict[str, Any] = {"reference_number": "o-1", "charge_fee": "21.00", "currency": "HKD"}


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    assert str(info.value).startswith(info.value.field + ": ")
    return info.value.field, info.value.rule


def with_card(**changes: Any) -> dict[str, Any]:
    card = {**CARD, **changes}
    return {"card": {k: v for k, v in card.items() if v is not None}}


# --- bodies -------------------------------------------------------------------------------


def test_a_utf8_json_object_parses() -> None:
    assert rules.parse_body(b'{"a": [1, 2.5, "\\u00e9"]}') == {"a": [1, 2.5, "é"]}
    assert rules.parse_body(b"") == {}


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b"\xef\xbb\xbf{}", "encoding"),
        ('{"a": "b"}'.encode("utf-16"), "encoding"),
        ('{"a": "b"}'.encode("utf-16-le"), "encoding"),
        ('{"a": "b"}'.encode("utf-32"), "encoding"),
        (b'{"a": "\xff"}', "encoding"),
        (b'{"a": NaN}', "json"),
        (b'{"a": -Infinity}', "json"),
        (b'{"a": 1e999}', "json"),
        (b'{"a": 1, "a": 2}', "duplicate"),
        (b"[1]", "type"),
        (b'"text"', "type"),
        (b"{", "json"),
        (b'{"a": ' + b"9" * 5000 + b"}", "json"),
        (b'{"a": ' + b"[" * 33 + b"]" * 33 + b"}", "depth"),
        (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "depth"),
        (b'{"a": "' + b"x" * rules.MAX_BODY_BYTES + b'"}', "size"),
    ],
)
def test_bodies_that_are_not_bounded_utf8_json_objects_are_refused(body: bytes, rule: str) -> None:
    field, refused_rule = refused(rules.parse_body, body)
    assert refused_rule == rule
    assert field == ("a" if rule == "depth" and len(body) < 100 else "body")


def test_lone_surrogates_are_refused_wherever_they_are() -> None:
    assert refused(rules.parse_body, b'{"card": {"holder_name": "\\ud800"}}') == (
        "card.holder_name",
        "surrogate",
    )
    assert refused(rules.parse_body, b'{"a": ["ok", "\\udfff"]}') == ("a[1]", "surrogate")
    assert refused(rules.parse_body, b'{"\\ud800": 1}')[1] == "surrogate"
    # A correctly paired surrogate is an ordinary character.
    assert rules.parse_body(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_nesting_up_to_the_limit_is_accepted() -> None:
    depth = rules.MAX_DEPTH - 1
    body = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    assert rules.parse_body(body)["a"] == json.loads(b"[" * depth + b"]" * depth)


# --- card -----------------------------------------------------------------------------------


def test_a_valid_card_is_normalised() -> None:
    card = rules.card(with_card(number="4242 4242-4242 4242", exp_month="1", exp_year="99"))
    assert (card["number"], card["exp_month"], card["exp_year"]) == (
        "4242424242424242",
        "01",
        "2099",
    )
    assert card["transaction_type"] == "unscheduled_cof"


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"number": "²" * 16}, "card.number", "digits"),
        ({"number": "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"}, "card.number", "digits"),
        ({"number": "４２４２４２４２４２４２４２４２"}, "card.number", "digits"),
        ({"number": 4242424242424242}, "card.number", "type"),
        ({"number": []}, "card.number", "type"),
        ({"number": "4242424242424241"}, "card.number", "luhn"),
        ({"number": "42424242"}, "card.number", "length"),
        ({"number": None}, "card.number", "required"),
        ({"exp_month": "²"}, "card.exp_month", "range"),
        ({"exp_month": "13"}, "card.exp_month", "range"),
        ({"exp_month": 12}, "card.exp_month", "type"),
        ({"exp_year": "0"}, "card.exp_year", "format"),
        ({"exp_year": "٢٠٩٩"}, "card.exp_year", "format"),
        ({"exp_year": "2001"}, "card.exp_year", "expired"),
        ({"holder_name": "A\x00B"}, "card.holder_name", "control"),
        ({"holder_name": "A\nB"}, "card.holder_name", "control"),
        ({"holder_name": "x" * 256}, "card.holder_name", "max_length"),
        ({"cvv": "１２３"}, "card.cvv", "format"),
        ({"transaction_type": []}, "card.transaction_type", "type"),
        ({"transaction_type": "sometimes"}, "card.transaction_type", "enum"),
        ({"3ds": "str"}, "card.3ds", "type"),
        (
            {"3ds": {"success_return_url": "ftp://x", "fail_return_url": "https://x"}},
            "card.3ds.success_return_url",
            "url",
        ),
        ({"billing_address": "str"}, "card.billing_address", "type"),
        (
            {"billing_address": {"country_code": "hkg"}},
            "card.billing_address.country_code",
            "alpha3",
        ),
        ({"billing_address": {"city": 5}}, "card.billing_address.city", "type"),
        ({"billing_address": {"town": "x"}}, "card.billing_address.town", "unknown"),
        ({"pin": "1234"}, "card.pin", "unknown"),
    ],
)
def test_card_rules(changes: dict[str, Any], field: str, rule: str) -> None:
    assert refused(rules.card, with_card(**changes)) == (field, rule)


def test_expiry_is_compared_with_the_current_month() -> None:
    today = dt.date(2030, 5, 17)
    assert rules.card(with_card(exp_month="05", exp_year="2030"), today=today)["exp_year"] == "2030"
    assert refused(rules.card, with_card(exp_month="04", exp_year="2030"), today=today) == (
        "card.exp_year",
        "expired",
    )


def test_card_must_be_an_object() -> None:
    assert refused(rules.card, {"card": "4242"}) == ("card", "type")
    assert refused(rules.card, {}) == ("card", "required")
    assert refused(rules.card, {"alipay": {}})[1] == "unsupported"


# --- customers and orders -------------------------------------------------------------------


def test_customer_fields_are_typed_and_plain() -> None:
    good = {"reference_number": "r1", "name": "Chan", "phone": "1", "email": "a@b.co"}
    assert rules.customer_fields(good, "customer.", upsert=True) == good
    cases = [
        ({**good, "reference_number": 12345}, ("customer.reference_number", "type")),
        ({**good, "name": "a\x00b"}, ("customer.name", "control")),
        ({**good, "name": "\x1b[31m"}, ("customer.name", "control")),
        ({**good, "phone": None}, ("customer.phone", "required")),
        ({**good, "dial_code": "+8521234"}, ("customer.dial_code", "max_length")),
        (
            {**good, "default_payment_method": ["Alipay"]},
            ("customer.default_payment_method", "type"),
        ),
        ({**good, "default_payment_method": "Cash"}, ("customer.default_payment_method", "enum")),
        ({**good, "email": "nope"}, ("customer.email", "email")),
        ({**good, "nickname": "x"}, ("customer.nickname", "unknown")),
    ]
    for fields, expected in cases:
        assert refused(rules.customer_fields, fields, "customer.", upsert=True) == expected


def test_update_keeps_empty_defaults_to_clear_them() -> None:
    found = rules.customer_fields({"default_payment_token": "", "name": ""}, "", upsert=False)
    assert found == {"default_payment_token": "", "name": ""}


def test_a_valid_order_keeps_only_checked_fields() -> None:
    order = rules.order(
        {
            **ORDER,
            "tips": "1.5",
            "note": "two\nlines",
            "due_date": "2030-01-31",
            "line_items": [
                {"purchasable_type": "Charge", "price": "1.00", "quantity": 2, "total": "2.00"}
            ],
        }
    )
    assert order["line_items"] == [
        {"purchasable_type": "Charge", "price": "1.00", "quantity": 2, "total": "2.00"}
    ]
    assert order["note"] == "two\nlines"


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"currency": "1e3"}, "order.currency", "iso4217"),
        ({"currency": "-1"}, "order.currency", "iso4217"),
        ({"currency": "H\x00D"}, "order.currency", "control"),
        ({"currency": "hkd"}, "order.currency", "iso4217"),
        ({"currency": "ABC"}, "order.currency", "iso4217"),
        ({"currency": ["HKD"]}, "order.currency", "type"),
        ({"charge_fee": "1.005"}, "order.charge_fee", "amount"),
        ({"charge_fee": "１.00"}, "order.charge_fee", "amount"),
        ({"charge_fee": "-1.00"}, "order.charge_fee", "amount"),
        ({"charge_fee": "1e3"}, "order.charge_fee", "amount"),
        ({"charge_fee": "NaN"}, "order.charge_fee", "amount"),
        ({"charge_fee": True}, "order.charge_fee", "type"),
        ({"charge_fee": 21.001}, "order.charge_fee", "amount"),
        ({"charge_fee": -21}, "order.charge_fee", "amount"),
        ({"reference_number": 12345}, "order.reference_number", "type"),
        ({"reference_number": "a\tb"}, "order.reference_number", "control"),
        ({"note": "a\x00b"}, "order.note", "control"),
        ({"due_date": "2030-02-30"}, "order.due_date", "date"),
        ({"is_only_pre_auth": "true"}, "order.is_only_pre_auth", "type"),
        ({"callback_url": "javascript:x"}, "order.callback_url", "url"),
        ({"line_items": {}}, "order.line_items", "type"),
        (
            {
                "line_items": [
                    {"purchasable_type": "Charge", "price": "1", "quantity": "2.0", "total": "2"}
                ]
            },
            "order.line_items[0].quantity",
            "type",
        ),
        ({"deep": {"deeper": {}}}, "order.deep", "unknown"),
    ],
)
def test_order_rules(changes: dict[str, Any], field: str, rule: str) -> None:
    assert refused(rules.order, {**ORDER, **changes}) == (field, rule)


def test_payment_and_keys() -> None:
    charge = {"amount": "1.00", "token": "t", "consume_mode": "sales", "entry_type": "mit"}
    assert rules.payment({"payment": {"payment_token": charge}})["amount"] == "1.00"
    assert refused(rules.payment, {"payment": {"payment_token": {**charge, "amount": [1]}}}) == (
        "payment.payment_token.amount",
        "type",
    )
    assert rules.payment({"payment": {"payment_token": {**charge, "amount": 1}}})["amount"] == (
        "1.00"
    )
    assert refused(
        rules.payment, {"payment": {"payment_token": {**charge, "consume_mode": {}}}}
    ) == ("payment.payment_token.consume_mode", "type")
    assert rules.order_key({"order": {"number": "n"}}) == {"number": "n"}
    both = {"number": "n", "reference_number": "r"}
    assert rules.order_key({"order": both}) == both  # the caller checks they agree
    assert refused(rules.order_key, {"order": {}})[1] == "one_of"
    assert refused(rules.order_key, {"order": {"number": 7}}) == ("order.number", "type")
    assert rules.transaction_uuid({}, required=False) is None
    assert refused(rules.transaction_uuid, {"transaction": []}, required=False) == (
        "transaction",
        "type",
    )


def test_path_params_are_plain_bounded_text() -> None:
    assert rules.path_param("uuid", "abc") == "abc"
    assert refused(rules.path_param, "uuid", "a\x00") == ("uuid", "control")
    assert refused(rules.path_param, "uuid", "\udc80") == ("uuid", "surrogate")
    assert refused(rules.path_param, "uuid", "x" * 300) == ("uuid", "max_length")
