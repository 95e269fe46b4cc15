"""Request validation happens before sending and names the field; reprs hide card data."""

from __future__ import annotations

import datetime as dt

import pytest

from wonder_async import BillingAddress, Card, ThreeDS, ValidationError
from wonder_async._converter import structure
from wonder_async._models import Customer, CustomerFields, PaymentToken

GOOD = "4242424242424242"


def _card(**kw: object) -> Card:
    args: dict[str, object] = {
        "number": GOOD,
        "exp_month": "12",
        "exp_year": str(dt.datetime.now(dt.timezone.utc).year + 2),
        "holder_name": "TAI MAN CHAN",
    }
    args.update(kw)
    return Card(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kw", "field", "rule"),
    [
        ({"number": "4242424242424241"}, "card.number", "luhn"),
        ({"number": "4242x42424242424"}, "card.number", "digits"),
        ({"number": "42424242"}, "card.number", "length"),
        ({"exp_month": "13"}, "card.exp_month", "range"),
        ({"exp_year": "2020"}, "card.exp_year", "expired"),
        ({"exp_year": "30000"}, "card.exp_year", "format"),
        ({"holder_name": ""}, "card.holder_name", "required"),
        ({"holder_name": "x" * 256}, "card.holder_name", "max_length"),
        ({"cvv": "12"}, "card.cvv", "format"),
    ],
)
def test_card_rules(kw: dict[str, object], field: str, rule: str) -> None:
    """Each broken card rule raises ValidationError naming the field and the rule."""
    with pytest.raises(ValidationError) as info:
        _card(**kw)
    assert (info.value.field, info.value.rule) == (field, rule)
    assert GOOD not in str(info.value)


def test_card_normalises_and_masks() -> None:
    """Spaces are stripped, months padded, 2-digit years widened; repr masks the number."""
    card = _card(number="4242 4242 4242 4242", exp_month=3, exp_year="39", cvv="123")
    assert (card.number, card.exp_month, card.exp_year) == (GOOD, "03", "2039")
    for text in (repr(card), str(card), f"{card}"):
        assert GOOD not in text
        assert "123" not in text
        assert "424242******4242" in text


def test_country_code_must_be_alpha3() -> None:
    """Billing country must be ISO alpha-3."""
    with pytest.raises(ValidationError) as info:
        BillingAddress(country_code="HK")
    assert info.value.field == "card.billing_address.country_code"


def test_three_ds_urls_must_be_http() -> None:
    """3DS return URLs must be http(s)."""
    with pytest.raises(ValidationError) as info:
        ThreeDS("javascript:alert(1)", "https://x.example/f")
    assert info.value.field == "card.3ds.success_return_url"


@pytest.mark.parametrize(
    ("kw", "field", "rule"),
    [
        ({"name": None}, "customer.name", "required"),
        ({"phone": ""}, "customer.phone", "required"),
        ({"reference_number": None}, "customer.reference_number", "required"),
        ({"name": "n" * 256}, "customer.name", "max_length"),
        ({"dial_code": "+8520000"}, "customer.dial_code", "max_length"),
        ({"email": "not-an-email"}, "customer.email", "email"),
        ({"default_payment_method": "Cash"}, "customer.default_payment_method", "enum"),
    ],
)
def test_customer_rules(kw: dict[str, object], field: str, rule: str) -> None:
    """Each broken customer rule raises ValidationError naming the field."""
    args: dict[str, object] = {"name": "Tai Man", "phone": "123", "reference_number": "u-1"}
    args.update(kw)
    with pytest.raises(ValidationError) as info:
        CustomerFields(**args).validate(prefix="customer.", for_upsert=True)  # type: ignore[arg-type]
    assert (info.value.field, info.value.rule) == (field, rule)


def test_responses_are_lenient() -> None:
    """Unknown fields land in .extra, unknown states are kept, bare token strings are wrapped."""
    customer = structure(
        {
            "uuid": "c-1",
            "reference_number": "u-1",
            "brand_new_field": {"x": 1},
            "default_payment_token": "tok-1",
        },
        Customer,
    )
    assert customer.uuid == "c-1"
    assert customer.extra == {"brand_new_field": {"x": 1}}
    assert customer.default_payment_token == PaymentToken(token="tok-1")
    token = structure({"token": "t", "state": "frozen_by_issuer", "default": True}, PaymentToken)
    assert token.state == "frozen_by_issuer"
    assert not token.is_usable
