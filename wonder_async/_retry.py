"""Retry policy: which failures are retried, how long to wait, and the Retry-After header.

Safe calls (reads, upsert, update, check, delete) are retried after any retryable failure.
Unsafe calls (``payment_tokens.create``, ``orders.create``) are retried only when the
request provably never reached the gateway: the connection was never made, or the gateway
answered 429 (rate limited before processing). Waits use exponential backoff with full
jitter, or the server's ``Retry-After`` when it gives one; the caller's deadline bounds all.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from typing import Final

import attrs

from ._errors import APIConnectionError, RateLimitError, ServerError, WonderError

__all__ = ["RetryPolicy", "may_have_happened", "parse_retry_after"]

_MAX_RETRY_AFTER: Final = 300.0


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Return the wait a ``Retry-After`` header asks for, in seconds (delay or HTTP-date).

    Unparseable values give ``None``; waits are clamped to ``[0, 300]`` seconds.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        seconds = (when - (now or dt.datetime.now(dt.timezone.utc))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


@attrs.frozen
class RetryPolicy:
    """How many times to retry and how long to back off between attempts.

    :param max_retries: retries after the first attempt (0 disables retrying).
    :param backoff_initial: the cap of the first backoff, doubled per attempt.
    :param backoff_max: the largest backoff cap.
    """

    max_retries: int = 3
    backoff_initial: float = 0.25
    backoff_max: float = 8.0

    def should_retry(self, error: WonderError, *, attempt: int, idempotent: bool) -> bool:
        """Whether ``error`` on attempt number ``attempt`` (1-based) warrants another try."""
        if attempt > self.max_retries or not error.retryable:
            return False
        if idempotent:
            return True
        if isinstance(error, RateLimitError):
            return True
        return isinstance(error, APIConnectionError) and not error.sent

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: Retry-After, else full jitter."""
        if retry_after is not None:
            return retry_after
        cap = min(self.backoff_max, self.backoff_initial * (2 ** (attempt - 1)))
        return random.uniform(0.0, cap)  # noqa: S311 - jitter, not security


def may_have_happened(exc: WonderError) -> bool:
    """Whether a failed unsafe call may still have taken effect at the gateway.

    A refused connection never left this machine and a 429 is refused before processing;
    other 4xx answers are definite. Timeouts, resets, garbled bodies and 5xx are not.
    """
    if isinstance(exc, APIConnectionError):
        return exc.sent
    if isinstance(exc, RateLimitError):
        return False
    return isinstance(exc, ServerError)
