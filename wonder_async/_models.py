"""Models: frozen, slotted attrs classes with no serialization code in them.

Request-side classes (:class:`Card`, :class:`ThreeDS`, :class:`BillingAddress`,
:class:`CustomerFields`) validate on construction and raise :class:`ValidationError` naming the
field and the rule, so bad input never reaches the wire. Response-side classes
(:class:`Customer`, :class:`PaymentToken`, :class:`Order`, ...) are lenient: every field is
optional, values that may grow (``state``, ``token_type``) are plain strings, and unknown
fields are kept in ``extra``. Reprs never show a full card number or a CVV.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

import attrs

from ._errors import ValidationError

__all__ = [
    "CONSUME_MODES",
    "DEFAULT_PAYMENT_METHODS",
    "TOKEN_TYPES",
    "TRANSACTION_TYPES",
    "BillingAddress",
    "Card",
    "ConsumeMode",
    "CreditCard",
    "Customer",
    "CustomerFields",
    "Order",
    "Payment",
    "PaymentData",
    "PaymentToken",
    "Refund",
    "ThreeDS",
    "TokenState",
    "Transaction",
    "TransactionType",
    "UpsertResult",
    "mask_card_number",
]

#: ``default_payment_method`` values documented across the doc generations (§3.13).
DEFAULT_PAYMENT_METHODS: Final = frozenset(
    {
        "Credit Card",
        "Alipay",
        "Wechat Pay",
        "Google Pay",
        "FPS",
        "Octopus Business",
        "Union Pay",
        "Payment Token",
    }
)
#: ``transaction_type`` values for card binding (§3.7).
TRANSACTION_TYPES: Final = frozenset(
    {
        "partial_split_shipment",
        "delayed_charges",
        "no_show",
        "recurring_payment",
        "unscheduled_cof",
        "unscheduled_cof_subsequent",
    }
)
#: ``token_type`` filter values (§3.10, §7.6); ``Gateway`` is the documented card alias.
TOKEN_TYPES: Final = frozenset(
    {"CreditCard", "WechatPayAutoDebit", "AlipayAutoDebit", "Gateway", "Alipay", "Wechatpay"}
)
#: Longest text field (names, references, address lines), as the reference pages list.
MAX_TEXT_LENGTH: Final = 255
#: Longest ``dial_code`` (``+852``).
MAX_DIAL_CODE_LENGTH: Final = 6
#: Longest token, uuid or verify_uuid sent.
MAX_TOKEN_LENGTH: Final = 64
#: Longest URL (3-D Secure return URLs, order callback and redirect URLs).
MAX_URL_LENGTH: Final = 2048
#: Longest order ``note`` ("< 255 characters", §3.14).
MAX_NOTE_LENGTH: Final = 254
#: ``payment.payment_token.entry_type`` values (§3.14a): merchant- or cardholder-initiated.
ENTRY_TYPES: Final = frozenset({"mit", "cit"})
#: ISO 4217 alphabetic codes in use (2025 list, without funds, metals and testing codes).
_CURRENCY_CODES: Final = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL"""
CURRENCIES: Final = frozenset(_CURRENCY_CODES.split())
_MAX_LEN: Final = MAX_TEXT_LENGTH
# \Z, not $: "$" also matches before a trailing newline, which would then go on the wire.
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_ALPHA3: Final = re.compile(r"^[A-Z]{3}\Z")
_URL: Final = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f]")
_MULTILINE_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Either of the above (single-line text): the quick pass of CustomerFields in one search.
_UNSAFE_TEXT: Final = re.compile("[\ud800-\udfff\x00-\x1f\x7f-\x9f]")


class TokenState:
    """Known payment token states; others may appear and are kept as plain strings."""

    SUCCESS: Final = "success"
    PENDING: Final = "pending"
    FAILED: Final = "failed"


# --- validation helpers -------------------------------------------------------------------


def check_text(
    field: str, value: str | None, *, required: bool, max_length: int, multiline: bool = False
) -> None:
    """Raise :class:`ValidationError` unless ``value`` is a fitting string.

    Besides type and length: no lone surrogates (they cannot be encoded as UTF-8) and no NUL
    or control characters (tab, CR and LF are allowed when ``multiline``).
    """
    # A new rule here needs the same in CustomerFields._plainly_valid (its quick pass).
    if value is None or value == "":
        if required:
            raise ValidationError(field, "required", "is required")
        return
    if not isinstance(value, str):
        raise ValidationError(field, "type", f"must be a string, not {type(value).__name__}")
    if len(value) > max_length:
        raise ValidationError(
            field, "max_length", f"must be at most {max_length} characters (got {len(value)})"
        )
    if _SURROGATE.search(value):
        raise ValidationError(field, "surrogate", "contains a lone surrogate")
    bad = _MULTILINE_CONTROL if multiline else _CONTROL
    if bad.search(value):
        raise ValidationError(field, "control", "must not contain NUL or control characters")


def check_enum(field: str, value: str | None, allowed: frozenset[str]) -> None:
    """Raise :class:`ValidationError` unless ``value`` is ``None`` or one of ``allowed``."""
    if value is not None and value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise ValidationError(field, "enum", f"must be one of: {choices} (got {value!r})")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_card_number(number: str) -> str:
    """Keep the first six and last four digits, as card networks allow: ``424242******4242``."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


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


def check_email(field: str, value: str | None) -> None:
    """Raise :class:`ValidationError` unless ``value`` is ``None`` or looks like an email."""
    check_text(field, value, required=False, max_length=_MAX_LEN)
    if value and not _EMAIL.match(value):
        raise ValidationError(field, "email", "must be an email address like a@b.com")


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


def check_card_number(value: str) -> None:
    """Raise :class:`ValidationError` unless ``value`` is 12-19 ASCII digits passing Luhn."""
    if not value.isdigit() or not value.isascii():
        raise ValidationError("card.number", "digits", "must contain only digits")
    if not 12 <= len(value) <= 19:
        raise ValidationError(
            "card.number", "length", f"must be 12 to 19 digits (got {len(value)})"
        )
    if not _luhn_ok(value):
        raise ValidationError("card.number", "luhn", "fails the Luhn check (mistyped number?)")


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
                type(value) is not str or len(value) > max_length or _UNSAFE_TEXT.search(value)
            ):
                return False
        if for_upsert and not (self.reference_number and self.name and self.phone):
            return False
        email, method = self.email, self.default_payment_method
        return (not email or _EMAIL.match(email) is not None) and (
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


class TransactionType:
    """Known transaction ``type`` values (§3.14a); others are kept as plain strings."""

    SALES: Final = "Sales"
    AUTHORIZATION: Final = "Authorization"
    REFUND: Final = "Refund"
    CAPTURE: Final = "Capture"


class ConsumeMode:
    """How a charge of a saved token consumes it: a sale, or a pre-authorisation."""

    SALES: Final = "sales"
    PRE_AUTHORIZE: Final = "pre_authorize"


#: ``payment.payment_token.consume_mode`` values (§3.14a).
CONSUME_MODES: Final = frozenset({ConsumeMode.SALES, ConsumeMode.PRE_AUTHORIZE})


@attrs.frozen
class PaymentData:
    """What the gateway tells of the card behind a transaction: never more than 6 + 4 digits."""

    first_6_digits: str | None = None
    last_4_digits: str | None = None
    credit_card_type: str | None = None
    auth_code: str | None = None
    rrn: str | None = None
    transaction_state: str | None = None
    token: str | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class Transaction:
    """One money movement on an order: a sale, an authorisation, a capture or a refund.

    ``uuid`` is the transaction's id (for charges made by this SDK, the ``payment_uuid`` sent);
    ``success`` says whether it went through; ``allow_void`` / ``allow_refund`` what may follow;
    ``original_transaction_uuid`` links a refund to its sale. ``failure_code`` and
    ``failure_message`` explain a declined attempt.
    """

    uuid: str | None = None
    type: str | None = None
    currency: str | None = None
    amount: str | None = None
    success: bool | None = None
    is_pending: bool | None = None
    captured: bool | None = None
    allow_void: bool | None = None
    allow_refund: bool | None = None
    void_is_pending: bool | None = None
    voided: bool | None = None
    payment_method: str | None = None
    note: str | None = None
    original_transaction_uuid: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    created_at: str | None = None
    payment_data: PaymentData | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def card_first_6(self) -> str | None:
        """The card's first six digits (BIN), when the gateway gave them."""
        return self.payment_data.first_6_digits if self.payment_data else None

    @property
    def card_last_4(self) -> str | None:
        """The card's last four digits, when the gateway gave them."""
        return self.payment_data.last_4_digits if self.payment_data else None


@attrs.frozen
class Order:
    """An order with its totals, states and transactions.

    Amounts are decimal strings (``"21.00"``). ``correspondence_state`` is the payment state
    (``unpaid``, ``partial_paid``, ``paid``, ``over_paid``, ``refunded``, ``voided``);
    ``payment_link`` is set when the order was created ``with_payment_link``.
    """

    number: str | None = None
    reference_number: str | None = None
    state: str | None = None
    correspondence_state: str | None = None
    charge_fee: str | None = None
    tips: str | None = None
    currency: str | None = None
    customer_uuid: str | None = None
    initial_total: str | None = None
    paid_total: str | None = None
    unpaid_total: str | None = None
    refunded_total: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    payment_link: str | None = None
    transactions: tuple[Transaction, ...] = ()
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def transaction(self, uuid: str) -> Transaction | None:
        """Find one of the order's transactions.

        :param uuid: the transaction's ``uuid`` (for a charge by this SDK, its payment uuid).
        :returns: the transaction with this ``uuid``, or ``None``.
        """
        return next((t for t in self.transactions if t.uuid == uuid), None)


@attrs.frozen
class Payment:
    """The outcome of :meth:`Payments.create`: the charge's transaction and its order.

    ``payment_uuid`` is the id the charge was sent with (keep it: a later call with the same
    one can never charge twice). ``recovered`` is ``True`` when a retry found the charge had
    already gone through and returned it instead of charging again.
    """

    payment_uuid: str
    transaction: Transaction
    order: Order
    recovered: bool = False

    @property
    def succeeded(self) -> bool:
        """The charge (or authorisation) went through."""
        return bool(self.transaction.success)


@attrs.frozen
class Refund:
    """The outcome of :meth:`Orders.refund`: the new refund ``transaction`` and the ``order``.

    ``transaction`` is ``None`` only if the gateway's answer did not show the refund itself.
    ``recovered`` is ``True`` when a retry found the refund had already been made.
    """

    transaction: Transaction | None
    order: Order
    recovered: bool = False


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
