"""The exception hierarchy.

::

    WonderError
    ├── ConfigurationError          bad client settings (key, environment, base URL)
    ├── ValidationError             bad input, caught before anything is sent
    ├── APIConnectionError          no usable HTTP response (reset, refused, bad body)
    │   ├── APITimeoutError         the call's deadline or a socket timeout expired
    │   ├── OutcomeUnknownError     a charge/refund/void may or may not have happened
    │   └── ResponseValidationError an answer the SDK refuses: a wrong type, or too large
    ├── APIStatusError              the gateway refused (HTTP 3xx-5xx, or 200 with a non-200 code)
    │   ├── BadRequestError         400, or a business refusal (``code`` / ``error_code``)
    │   │   └── CardDeclinedError   the charge reached the card's issuer and was declined
    │   ├── AuthenticationError     401 / 403 (signature, app id, clock skew)
    │   ├── NotFoundError           404, or a refusal saying "not found" / "does not exist"
    │   ├── RateLimitError          429
    │   └── ServerError             5xx
    └── WebhookVerificationError    an inbound webhook failed a check

Every error has ``retryable`` (would repeating the same call plausibly succeed),
``request_id`` (the ``X-Request-ID`` of the last attempt, quote it to Wonder support) and
``attempts`` (how many requests were sent). :class:`APIStatusError` also has ``headers``, the
answer's HTTP headers. Messages never contain card data or keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from ._redact import scrub, scrub_data

#: The ``headers`` of an :class:`APIStatusError` made without a response (tests, user code).
_NO_HEADERS: Final[Mapping[str, str]] = MappingProxyType({})

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CardDeclinedError",
    "ConfigurationError",
    "NotFoundError",
    "OutcomeUnknownError",
    "RateLimitError",
    "ResponseValidationError",
    "ServerError",
    "ValidationError",
    "WebhookVerificationError",
    "WonderError",
]


class WonderError(Exception):
    """Base class of every error the SDK raises."""

    retryable: bool = False

    def __init__(self, message: str, *, request_id: str | None = None, attempts: int = 0) -> None:
        # Messages may quote the gateway, which may echo a card number back: scrubbed once
        # here, and again in __str__ (callers append to ``message``).
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.attempts = attempts

    def __str__(self) -> str:
        extra = []
        if self.request_id:
            extra.append(f"request_id={self.request_id}")
        if self.attempts > 1:
            extra.append(f"attempts={self.attempts}")
        text = f"{self.message} ({', '.join(extra)})" if extra else self.message
        return scrub(text)


class ConfigurationError(WonderError):
    """The client was configured wrongly (missing app id, unreadable key, bad environment)."""


class ValidationError(WonderError, ValueError):
    """Input broke a rule; raised before any request is sent.

    ``field`` is the dotted field path (``card.number``), ``rule`` a short rule name
    (``required``, ``max_length``, ``luhn``, ``expired``, ``enum``, ...).
    """

    def __init__(self, field: str, rule: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.rule = rule


class APIConnectionError(WonderError):
    """No usable response: connection refused or reset, or a body that is not the envelope.

    ``sent`` is False only when the request provably never left this machine (connect
    failed), which is the only case where repeating an unsafe call cannot duplicate it.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        sent: bool = True,
        request_id: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, request_id=request_id, attempts=attempts)
        self.sent = sent


class APITimeoutError(APIConnectionError):
    """The call's deadline or a socket timeout expired before a response arrived."""


class OutcomeUnknownError(APIConnectionError):
    """A charge, refund or void failed ambiguously and looking it up failed too.

    Nothing is known either way. ``payment_uuid`` (for charges) is the id to look up with
    ``orders.get(transaction_uuid=...)``; calling ``payments.create`` again with the same
    ``payment_uuid=`` is safe, as it looks the charge up before sending.
    """

    def __init__(
        self,
        message: str,
        *,
        payment_uuid: str | None = None,
        request_id: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, sent=True, request_id=request_id, attempts=attempts)
        self.payment_uuid = payment_uuid


class ResponseValidationError(APIConnectionError):
    """The gateway answered, but the SDK refuses the answer: a value of the wrong type under
    ``data`` (``path`` names it, e.g. ``data.orders[3].order``) or an answer larger than
    ``max_response_bytes`` (``path`` is ``None``).

    Not retried (the same answer would come again); after a charge, refund or void the SDK
    looks the transaction up as after any unreadable answer. Like openai-python's
    ``APIResponseValidationError``.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        request_id: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, sent=True, request_id=request_id, attempts=attempts)
        self.path = path


class APIStatusError(WonderError):
    """The gateway answered with a non-success HTTP status or envelope code.

    ``headers`` holds the answer's HTTP headers (case-insensitive; empty when the error was
    not made from a response), e.g. ``exc.headers.get("X-Request-ID")``.
    """

    #: The answer's HTTP headers; set by the client for every error it got from the gateway.
    headers: Mapping[str, str] = _NO_HEADERS

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        body: Any = None,
        request_id: str | None = None,
        attempts: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id, attempts=attempts)
        self.status = status
        self.code = None if code is None else scrub(code)
        #: The gateway's error envelope, card numbers and CVVs in it masked.
        self.body = scrub_data(body)
        self.retry_after = retry_after

    def __str__(self) -> str:
        code = f" {self.code}" if self.code and self.code != str(self.status) else ""
        return f"HTTP {self.status}{code}: {super().__str__()}"


class BadRequestError(APIStatusError):
    """400: the gateway rejected the parameters."""


class CardDeclinedError(BadRequestError):
    """The charge was refused by the card's issuer or the gateway's risk checks, for good.

    Only for a final failure: ``success`` false with ``is_pending`` false (or a refusal of the
    call holding the failed transaction). A charge still pending is not a decline: it comes
    back as a payment with ``status`` ``"pending"``. Never retried: the same charge would be
    declined again. ``code`` and ``message`` are Wonder's reason (the transaction's
    ``payment_data.resp_code`` / ``resp_msg``, else ``failure_code`` / ``failure_message``);
    ``payment`` holds the failed transaction and its order when the gateway sent them, and
    ``payment_uuid`` the charge's id.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str | None = None,
        body: Any = None,
        request_id: str | None = None,
        attempts: int = 0,
        payment_uuid: str | None = None,
        payment: Any = None,
    ) -> None:
        super().__init__(
            message, status=status, code=code, body=body, request_id=request_id, attempts=attempts
        )
        self.payment_uuid = payment_uuid
        #: The declined charge as a :class:`Payment` (``None`` if the gateway sent no order).
        self.payment = payment


class AuthenticationError(APIStatusError):
    """401/403: bad signature, unknown app id, malformed headers or clock skew (``E000002``)."""


class NotFoundError(APIStatusError):
    """No such customer, token or order: HTTP 404, or a refusal (in any HTTP status) whose
    ``code`` / ``error_code`` is 404 or whose message says "not found" / "does not exist"."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` holds the server's wait in seconds, if any."""

    retryable = True


class ServerError(APIStatusError):
    """5xx: the gateway failed; safe calls are retried automatically."""

    retryable = True


class WebhookVerificationError(WonderError):
    """An inbound webhook failed verification; ``check`` names the check that failed.

    ``answer_status`` is the HTTP status to answer Wonder with: 400 for a forged or malformed
    webhook (it should not be retried), 503 for ``freshness`` (the signature verified, only
    its time is outside the window: a retry, or a clock put right, may pass; a 4xx would stop
    Wonder's retries and lose the event).
    """

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"webhook {check} check failed: {detail}")
        self.check = check

    @property
    def answer_status(self) -> int:
        """The HTTP status to answer the webhook with: 503 for ``freshness``, else 400."""
        return 503 if self.check == "freshness" else 400
