"""Card data out of every string the SDK shows: exception messages, log records, spans, reprs.

Whatever the gateway sends (an error envelope that echoes the request, an unmasked
``credit_card.number``), :func:`scrub` masks every run of 12-19 digits (or digits grouped as
cards are written, with spaces or dashes) that passes the Luhn check, and the value of every
CVV-like key (``cvv``, ``cvc``, ``cvv2``, ``csc``, ``security_code``). A longer run of digits with a
Luhn-valid 12-19 digit stretch inside is masked whole. The ``wonder`` logger gets a filter
that scrubs each record's final message.

Nothing here imports the rest of the SDK: errors and models use it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Final, TypeVar

__all__ = ["mask_digits", "scrub", "scrub_data", "scrubbed_repr"]

T = TypeVar("T")

#: Digit runs that may be card numbers: 12 or more digits in a row, or grouped as cards are
#: written (4-4-4-4[-3], 4-6-5) with spaces or dashes; never a segment of a UUID.
_DIGIT_RUN: Final = re.compile(
    r"(?<![0-9])(?<![0-9A-Fa-f]-)"
    r"(?:[0-9]{12,}|[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}(?:\1[0-9]{1,3})?"
    r"|[0-9]{4}([ -])[0-9]{6}\2[0-9]{4,5})"
    r"(?![0-9])(?!-[0-9A-Fa-f])"
)
_CVV_KEYS: Final = (
    r"(?:cvv2?|cvc2?|csc|cid|security[_ -]?code|card[_ -]?verification(?:[_ -]?(?:value|code))?)"
)
#: ``"cvv": "123"``, ``cvv=123``, ``'cvc2': 123``, ``\"cvv\":\"123\"`` (JSON inside text).
_CVV_TEXT: Final = re.compile(
    rf"(?i)(\b{_CVV_KEYS}\b(?:\\?[\"'])?\s*[:=]?\s*(?:\\?[\"'])?\s*)([0-9]{{3,4}})(?![0-9])"
)
_CVV_KEY: Final = re.compile(rf"(?i)^{_CVV_KEYS}$")
_MIN: Final = 12
_MAX: Final = 19
#: Digit runs longer than this are masked without looking for a card inside.
_LONG: Final = 64


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _has_card(digits: str) -> bool:
    n = len(digits)
    if n > _LONG:  # checking every stretch would cost too much: nobody needs these digits
        return True
    if n <= _MAX and _luhn(digits):
        return True
    if n == _MIN:
        return False
    return any(
        _luhn(digits[start : start + size])
        for size in range(_MIN, min(n, _MAX) + 1)
        for start in range(n - size + 1)
    )


def mask_digits(digits: str) -> str:
    """A card number as it may be shown: first six and last four (``424242******4242``)."""
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _mask_run(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = text.replace(" ", "").replace("-", "")
    if not _has_card(digits):
        return text
    if len(digits) <= _MAX and _luhn(digits):
        return mask_digits(digits)
    return "[digits redacted]"


def scrub(text: str) -> str:
    """``text`` with card numbers masked and CVV values replaced by ``***``."""
    if not isinstance(text, str):
        text = str(text)
    if _DIGIT_RUN.search(text) is not None:
        text = _DIGIT_RUN.sub(_mask_run, text)
    if _CVV_TEXT.search(text) is not None:
        text = _CVV_TEXT.sub(r"\1***", text)
    return text


def scrub_data(value: Any, _depth: int = 0) -> Any:
    """A JSON value with :func:`scrub` applied to every string and CVV-like keys' values
    replaced; the original is not changed."""
    if _depth > 64:  # absurd nesting: drop it rather than recurse without end
        return "[nested too deep]"
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {
            k: "***"
            if isinstance(k, str) and _CVV_KEY.match(k) and value[k] is not None
            else scrub_data(value[k], _depth + 1)
            for k in value
        }
    if isinstance(value, list | tuple):
        return [scrub_data(v, _depth + 1) for v in value]
    return value


def scrubbed_repr(cls: type[T]) -> type[T]:
    """Make ``repr(instance)`` of ``cls`` the scrubbed form of its current repr."""
    original: Callable[[Any], str] = cls.__repr__

    def __repr__(self: Any) -> str:
        return scrub(original(self))

    __repr__.__qualname__ = f"{cls.__qualname__}.__repr__"
    cls.__repr__ = __repr__  # type: ignore[method-assign]
    return cls


class _ScrubFilter(logging.Filter):
    """Scrubs each record of the ``wonder`` logger: its message, formatted once, and any
    exception text. Runs only for records that pass the level check."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


_FILTER: Final = _ScrubFilter()
logging.getLogger("wonder").addFilter(_FILTER)
