"""The models of customers and their payment tokens: what is sent (validated on construction)
and what comes back (lenient).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

import attrs

from .._errors import ValidationError
from .validation import (
    DEFAULT_PAYMENT_METHODS,
    EMAIL,
    MAX_DIAL_CODE_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TOKEN_LENGTH,
    MAX_URL_LENGTH,
    UNSAFE_TEXT,
    check_card_number,
    check_email,
    check_enum,
    check_text,
    mask_card_number,
)

__all__ = [
    "BillingAddress",
    "Card",
    "CreditCard",
    "Customer",
    "CustomerFields",
    "PaymentToken",
    "ThreeDS",
    "TokenState",
    "UpsertResult",
]

_MAX_LEN: Final = MAX_TEXT_LENGTH
_ALPHA3: Final = re.compile(r"^[A-Z]{3}\Z")
_URL: Final = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


class TokenState:
    """Known payment token states; others may appear and are kept as plain strings."""

    SUCCESS: Final = "success"
    PENDING: Final = "pending"
    FAILED: Final = "failed"


# --- request-side models ------------------------------------------------------------------


def _v_optional_text(field: str, max_length: int = _MAX_LEN) -> Any:
    def check(_inst: object, _attr: attrs.Attribute[Any], value: str | None) -> None:
        check_text(field, value, required=False, max_length=max_length)

    return check


def _v_country(_inst: object, _attr: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _ALPHA3.match(value):
        raise ValidationError(
            "card.billing_address.country_code",
            "alpha3",
            f"must be an ISO 3166 alpha-3 code such as 'HKG' (got {value!r})",
        )


def _v_email(field: str) -> Any:
    def check(_inst: object, _attr: attrs.Attribute[Any], value: str | None) -> None:
        check_email(field, value)

    return check


@attrs.frozen
class BillingAddress:
    """Billing address of a card (every field optional; ``country_code`` is ISO alpha-3)."""

    first_name: str | None = attrs.field(
        default=None, validator=_v_optional_text("card.billing_address.first_name")
    )
    last_name: str | None = attrs.field(
        default=None, validator=_v_optional_text("card.billing_address.last_name")
    )
    address: str | None = attrs.field(
        default=None, validator=_v_optional_text("card.billing_address.address")
    )
    city: str | None = attrs.field(
        default=None, validator=_v_optional_text("card.billing_address.city")
    )
    state: str | None = attrs.field(
        default=None, validator=_v_optional_text("card.billing_address.state")
    )
    zip_code: str | None = attrs.field(
        default=None, validator=_v_optional_text("card.billing_address.zip_code")
    )
    country_code: str | None = attrs.field(default=None, validator=_v_country)
    phone_number: str | None = attrs.field(
        default=None, validator=_v_optional_text("card.billing_address.phone_number")
    )
    email: str | None = attrs.field(default=None, validator=_v_email("card.billing_address.email"))


def _digits_only(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError("card.number", "type", "must be a string of digits")
    return value.replace(" ", "").replace("-", "")


def _v_card_number(_inst: object, _attr: attrs.Attribute[Any], value: str) -> None:
    check_card_number(value)


def _month(value: object) -> str:
    text = str(value).strip()
    # isascii: str.isdigit() also accepts "²" (int() rejects it) and non-ASCII decimals.
    if not (text.isascii() and text.isdigit() and len(text) <= 2) or not 1 <= int(text) <= 12:
        raise ValidationError("card.exp_month", "range", "must be a month 1-12")
    return f"{int(text):02d}"


def _year(value: object) -> str:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) not in (2, 4):
        raise ValidationError("card.exp_year", "format", "must be a 2- or 4-digit year")
    return text if len(text) == 4 else f"20{text}"


def _v_cvv(_inst: object, _attr: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (
        not isinstance(value, str)
        or not (value.isascii() and value.isdigit())
        or len(value) not in (3, 4)
    ):
        raise ValidationError("card.cvv", "format", "must be 3 or 4 digits")


def _v_holder(_inst: object, _attr: attrs.Attribute[Any], value: str) -> None:
    check_text("card.holder_name", value, required=True, max_length=_MAX_LEN)


@attrs.frozen(repr=False)
class Card:
    """Card details for binding a card as a payment token.

    The number may contain spaces or dashes; it must pass the Luhn check, and the expiry must
    not be in the past. ``repr`` shows only a masked number and never the CVV.
    """

    number: str = attrs.field(converter=_digits_only, validator=_v_card_number)
    exp_month: str = attrs.field(converter=_month)
    exp_year: str = attrs.field(converter=_year)
    holder_name: str = attrs.field(validator=_v_holder)
    cvv: str | None = attrs.field(default=None, validator=_v_cvv)
    nickname: str | None = attrs.field(default=None, validator=_v_optional_text("card.nickname"))
    billing_address: BillingAddress | None = None

    def __attrs_post_init__(self) -> None:
        today = dt.datetime.now(dt.timezone.utc).date()
        if (int(self.exp_year), int(self.exp_month)) < (today.year, today.month):
            raise ValidationError(
                "card.exp_year", "expired", f"card expired {self.exp_month}/{self.exp_year}"
            )

    @property
    def masked_number(self) -> str:
        """The number with all but the first six and last four digits hidden."""
        return mask_card_number(self.number)

    def __repr__(self) -> str:
        return (
            f"Card(number={self.masked_number!r}, exp={self.exp_month}/{self.exp_year}, "
            f"holder_name={self.holder_name!r}, cvv={'<redacted>' if self.cvv else None})"
        )

    __str__ = __repr__


def _v_url(field: str) -> Any:
    def check(_inst: object, _attr: attrs.Attribute[Any], value: str) -> None:
        check_text(field, value, required=True, max_length=MAX_URL_LENGTH)
        if not _URL.match(value):
            raise ValidationError(field, "url", f"must be an http(s) URL (got {value!r})")

    return check


@attrs.frozen
class ThreeDS:
    """Where the cardholder's browser returns after the 3-D Secure challenge."""

    success_return_url: str = attrs.field(validator=_v_url("card.3ds.success_return_url"))
    fail_return_url: str = attrs.field(validator=_v_url("card.3ds.fail_return_url"))


@attrs.frozen
class CustomerFields:
    """Validated customer profile fields, as sent by upsert (all) and update (a subset)."""

    name: str | None = None
    phone: str | None = None
    reference_number: str | None = None
    email: str | None = None
    dial_code: str | None = None
    company_name: str | None = None
    default_payment_method: str | None = None
    default_payment_token: str | None = None

    def validate(self, *, prefix: str, for_upsert: bool) -> None:
        """Check every rule of §3.1; ``for_upsert`` makes name, phone and reference required.

        :raises ValidationError: naming the first field that breaks a rule.
        """
        if self._plainly_valid(for_upsert):
            return  # the checks below would all pass: skip building their field names
        check_text(f"{prefix}reference_number", self.reference_number, required=for_upsert,
                   max_length=_MAX_LEN)  # fmt: skip
        check_text(f"{prefix}name", self.name, required=for_upsert, max_length=_MAX_LEN)
        check_text(f"{prefix}phone", self.phone, required=for_upsert, max_length=_MAX_LEN)
        check_email(f"{prefix}email", self.email)
        check_text(f"{prefix}dial_code", self.dial_code, required=False,
                   max_length=MAX_DIAL_CODE_LENGTH)  # fmt: skip
        check_text(f"{prefix}company_name", self.company_name, required=False, max_length=_MAX_LEN)
        check_enum(
            f"{prefix}default_payment_method", self.default_payment_method, DEFAULT_PAYMENT_METHODS
        )
        check_text(
            f"{prefix}default_payment_token",
            self.default_payment_token,
            required=False,
            max_length=MAX_TOKEN_LENGTH,
        )

    def _plainly_valid(self, for_upsert: bool) -> bool:
        """A quick pass of every rule for the common case (plain strings within limits).
        False means "run the full checks", which name the field and rule that fail."""
        for name, max_length in _CUSTOMER_TEXT_LIMITS:
            value = getattr(self, name)
            if value is not None and (
                type(value) is not str or len(value) > max_length or UNSAFE_TEXT.search(value)
            ):
                return False
        if for_upsert and not (self.reference_number and self.name and self.phone):
            return False
        email, method = self.email, self.default_payment_method
        return (not email or EMAIL.match(email) is not None) and (
            method is None or method in DEFAULT_PAYMENT_METHODS
        )

    def to_wire(self) -> dict[str, str]:
        """The fields that were given, as JSON-ready key/value pairs."""
        return {
            name: value
            for name in _CUSTOMER_FIELD_NAMES
            if (value := getattr(self, name)) is not None
        }


_CUSTOMER_FIELD_NAMES: Final = tuple(a.name for a in attrs.fields(CustomerFields))
# The max_length each text field is checked against in CustomerFields.validate.
_CUSTOMER_TEXT_LIMITS: Final = (
    ("reference_number", _MAX_LEN),
    ("name", _MAX_LEN),
    ("phone", _MAX_LEN),
    ("email", _MAX_LEN),
    ("dial_code", MAX_DIAL_CODE_LENGTH),
    ("company_name", _MAX_LEN),
    ("default_payment_token", MAX_TOKEN_LENGTH),
)


# --- response-side models -----------------------------------------------------------------


@attrs.frozen
class CreditCard:
    """Card details as the gateway returns them (``number`` is masked)."""

    number: str | None = None
    exp_month: str | None = None
    exp_year: str | None = None
    holder_name: str | None = None
    brand: str | None = None
    billing_currency: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class PaymentToken:
    """A saved payment method of a customer; bind state is in ``state``."""

    token: str | None = None
    token_type: str | None = None
    state: str | None = None
    default: bool | None = None
    verify_url: str | None = None
    verify_uuid: str | None = None
    error_code: str | None = None
    error_msg: str | None = None
    credit_card: CreditCard | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def is_pending(self) -> bool:
        """3-D Secure is not finished: send the cardholder to ``verify_url``."""
        return self.state == TokenState.PENDING

    @property
    def is_usable(self) -> bool:
        """The token is bound and can be charged."""
        return self.state == TokenState.SUCCESS


@attrs.frozen
class Customer:
    """A customer profile, keyed by Wonder's ``uuid`` and your ``reference_number``."""

    uuid: str | None = None
    reference_number: str | None = None
    name: str | None = None
    email: str | None = None
    dial_code: str | None = None
    phone: str | None = None
    company_name: str | None = None
    default_payment_method: str | None = None
    default_payment_token: PaymentToken | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class UpsertResult:
    """Outcome of one row of a bulk upsert: ``customer`` or ``error`` is set, never both."""

    index: int
    reference_number: str | None
    customer: Customer | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """The row was upserted."""
        return self.error is None
