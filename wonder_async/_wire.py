"""Wire facts in one place: hosts, paths and the response envelope (wonder-api.md §1, §3).

A sandbox finding (another path, another envelope key) is a one-line change here; the
client, the CLI and the emulator all read these.
"""

from __future__ import annotations

import json
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


def _error_class(status: int) -> type[APIStatusError]:
    if status >= 500:
        return ServerError
    return _STATUS_ERRORS.get(status, APIStatusError)


def decode_envelope(
    status: int,
    body: bytes,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> dict[str, Any]:
    """Return the envelope's ``data`` on success, or raise the matching error.

    Understands both generations: ``code``/``message`` (success is ``code == 200``) and the
    older ``error_code``/``error_message``. A 2xx with a body that is not a JSON envelope is an
    :class:`APIConnectionError` (truncated or garbled response), never a silent success.
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
    code = doc.get("code")
    error_code = doc.get("error_code")
    message = doc.get("message") or doc.get("error_message") or ""
    ok_code = code is None or code in (SUCCESS_CODE, str(SUCCESS_CODE), 0)
    if 200 <= status < 300 and ok_code and not error_code:
        data = doc.get("data")
        return data if isinstance(data, dict) else {}
    wonder_code = error_code if error_code else code
    http_status = status if status >= 400 else 400
    raise _error_class(http_status)(
        str(message) or "request failed",
        status=http_status,
        code=None if wonder_code is None else str(wonder_code),
        body=doc,
        request_id=request_id,
        retry_after=retry_after,
    )
