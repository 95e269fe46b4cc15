"""The input rules every request-side model and resource checks: limits, allowed values,
and the ``check_*`` functions that raise :class:`ValidationError` naming the field and rule.
"""

from __future__ import annotations

import re
from typing import Final

from .._errors import ValidationError

__all__ = [
    "CURRENCIES",
    "DEFAULT_PAYMENT_METHODS",
    "EMAIL",
    "ENTRY_TYPES",
    "MAX_DIAL_CODE_LENGTH",
    "MAX_NOTE_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_TOKEN_LENGTH",
    "MAX_URL_LENGTH",
    "TOKEN_TYPES",
    "TRANSACTION_TYPES",
    "UNSAFE_TEXT",
    "check_card_number",
    "check_email",
    "check_enum",
    "check_text",
    "mask_card_number",
]

#: ``default_payment_method`` values documented across the doc generations (§3.13), and the
#: method codes Wonder's own app writes there (its iOS SDK stores ``PaymentMethodType`` raw
#: values, wonder-clients.md 9.3), so a customer read back can be sent again.
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
        "credit_card",
        "apple_pay",
        "google_pay",
        "unionpay_wallet",
        "wechat",
        "wechat_pay",
        "alipay_hk",
        "alipay",
        "fps",
        "octopus",
        "payme",
        "payment_token",
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
# \Z, not $: "$" also matches before a trailing newline, which would then go on the wire.
EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f]")
_MULTILINE_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Either of the above (single-line text): the quick pass of CustomerFields in one search.
UNSAFE_TEXT: Final = re.compile("[\ud800-\udfff\x00-\x1f\x7f-\x9f]")


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


def check_email(field: str, value: str | None) -> None:
    """Raise :class:`ValidationError` unless ``value`` is ``None`` or looks like an email."""
    check_text(field, value, required=False, max_length=MAX_TEXT_LENGTH)
    if value and not EMAIL.match(value):
        raise ValidationError(field, "email", "must be an email address like a@b.com")


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
