"""Wire facts in one place: hosts, paths and the response envelope (wonder-api.md §1, §3).

A sandbox finding (another path, another envelope key) is a one-line change here; the
client, the CLI and the emulator all read these.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final
from urllib.parse import quote

from ._errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
)

__all__ = [
    "ENVIRONMENTS",
    "SUCCESS_CODE",
    "Paths",
    "decode_envelope",
    "error_envelope",
    "ok_envelope",
    "path_segment",
    "refusal_message",
]

ENVIRONMENTS: Final = {
    "sandbox": "https://gateway-stg.wonder.today",
    "production": "https://gateway.wonder.today",
    "alpha": "https://gateway-alpha.wonder.today",
}

SUCCESS_CODE: Final = 200
_PREFIX: Final = "/svc/payment/api/v1/openapi"


class Paths:
    """Path templates; ``{uuid}``/``{ref}`` placeholders work for ``str.format`` and aiohttp."""

    ECHO: Final = f"{_PREFIX}/echo"
    CUSTOMERS: Final = f"{_PREFIX}/customers"
    CUSTOMER: Final = f"{_PREFIX}/customers/{{uuid}}"
    CUSTOMER_BY_REF: Final = f"{_PREFIX}/customers/ref/{{ref}}"
    CUSTOMER_BY_TOKEN: Final = f"{_PREFIX}/customers/by/token"
    PAYMENT_TOKENS: Final = f"{_PREFIX}/customers/{{uuid}}/payment_tokens"
    PAYMENT_TOKEN_CHECK: Final = f"{_PREFIX}/customers/{{uuid}}/payment_tokens/check"
    ORDERS: Final = f"{_PREFIX}/orders"
    ORDER_CHECK: Final = f"{_PREFIX}/orders/check"
    ORDER_VOID: Final = f"{_PREFIX}/orders/void"
    ORDER_REFUND: Final = f"{_PREFIX}/orders/refund"
    ORDERS_LIST: Final = f"{_PREFIX}/orders/list"
    OPEN_PAYMENTS: Final = f"{_PREFIX}/open_payments"


def path_segment(value: str) -> str:
    """Percent-encode one path segment (``/`` included), as it is sent and signed."""
    return quote(value, safe="")


def ok_envelope(data: dict[str, Any]) -> dict[str, Any]:
    """The success envelope the gateway sends."""
    return {"code": SUCCESS_CODE, "message": "success", "data": data}


def error_envelope(code: str | int, message: str) -> dict[str, Any]:
    """The error envelope the gateway sends (string codes like ``E000002`` or numbers)."""
    return {"code": code, "message": message, "data": None}


_STATUS_ERRORS: Final[dict[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}

#: How a refusal says the thing named does not exist. Strict on purpose: an unrelated refusal
#: read as "not there" would let an exactly-once look-up decide that nothing happened.
_NOT_FOUND_TEXT: Final = re.compile(
    r"\b(?:not\s+found|does\s+not\s+exist|doesn't\s+exist|not\s+exists?)\b", re.IGNORECASE
)
#: Wonder's authentication codes (``E000002`` "Invalid Credential Format.", wonder-api.md).
_AUTH_CODE: Final = re.compile(r"E0000\d\d")


def _error_class(status: int) -> type[APIStatusError]:
    if status >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status, APIStatusError)


def _text(value: Any) -> str:
    """A message key's text (``error`` may be an object with its own ``message``)."""
    if isinstance(value, dict):
        value = value.get("message") or value.get("error_message") or value.get("msg")
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return str(value).strip()


def refusal_message(doc: dict[str, Any]) -> str:
    """The text of a refusal: ``message``, else ``error_message``, else ``error`` (the order
    Wonder's WooCommerce plugin reads them in)."""
    for key in ("message", "error_message", "error"):
        text = _text(doc.get(key))
        if text:
            return text
    return ""


def _business_class(status: int, codes: tuple[Any, ...], message: str) -> type[APIStatusError]:
    """The error class of a refusal: by HTTP status when that says more, else by Wonder's
    ``code`` / ``error_code`` (a business refusal in HTTP 2xx), else by a not-found message."""
    texts = [str(c).strip() for c in codes]
    if status in (401, 403) or any(_AUTH_CODE.fullmatch(t) for t in texts):
        return AuthenticationError
    if status >= 500 or status == 429:
        return _error_class(status)
    if status == 404 or "404" in texts or _NOT_FOUND_TEXT.search(message):
        return NotFoundError
    if status >= 400:
        return _error_class(status)
    for text in texts:
        if text.isdigit() and 400 <= int(text) <= 599:
            return _error_class(int(text))
    return BadRequestError


def _success(status: int, doc: dict[str, Any]) -> bool:
    code = doc.get("code")
    if not 200 <= status < 300 or doc.get("error_code"):
        return False
    if code is not None and code not in (SUCCESS_CODE, str(SUCCESS_CODE), 0):
        return False
    # A body that holds only ``error`` (no code saying success) is a refusal, not ``{}``.
    return code in (SUCCESS_CODE, str(SUCCESS_CODE)) or not _text(doc.get("error"))


def decode_envelope(
    status: int,
    body: bytes,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> dict[str, Any]:
    """Return the envelope's ``data`` on success, or raise the matching error.

    The one place answers are judged. Success is a 2xx whose ``code`` is 200 (or absent/0)
    with no ``error_code`` and no ``error`` text. Anything else is a refusal, whatever the HTTP
    status: a business refusal in HTTP 200 (non-200 ``code``, an ``error_code``, or only an
    ``error``) is mapped like a 4xx, its text read from ``message``, ``error_message`` or
    ``error``. :class:`NotFoundError` for HTTP 404 and for a refusal whose ``code`` /
    ``error_code`` is 404 or whose message says "not found" / "does not exist". A 2xx with a
    body that is not a JSON envelope is an :class:`APIConnectionError` (truncated or garbled
    response), never a silent success.
    """
    try:
        # Decoding first skips json's encoding sniffing; UnicodeDecodeError is a ValueError.
        doc = json.loads(body.decode()) if body else None
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        doc = None
    if not isinstance(doc, dict):
        if 200 <= status < 300:
            raise APIConnectionError(
                f"HTTP {status} with a body that is not a JSON envelope ({len(body)} bytes)",
                request_id=request_id,
            )
        raise _error_class(status)(
            f"HTTP {status} without a JSON envelope",
            status=status,
            request_id=request_id,
            retry_after=retry_after,
        )
    if _success(status, doc):
        data = doc.get("data")
        return data if isinstance(data, dict) else {}
    code = doc.get("code")
    error_code = doc.get("error_code")
    message = refusal_message(doc)
    codes = tuple(c for c in (error_code, code) if c not in (None, "", SUCCESS_CODE, "200"))
    cls = _business_class(status, codes, message)
    wonder_code = codes[0] if codes else None
    http_status = status if status >= 400 else _CLASS_STATUS.get(cls, 400)
    raise cls(
        message or "request failed",
        status=http_status,
        code=None if wonder_code is None else str(wonder_code),
        body=doc,
        request_id=request_id,
        retry_after=retry_after,
    )


#: The status a business refusal in HTTP 2xx is reported with (its class's usual status).
_CLASS_STATUS: Final[dict[type[APIStatusError], int]] = {
    NotFoundError: 404,
    AuthenticationError: 401,
    RateLimitError: 429,
    ServerError: 500,
}
