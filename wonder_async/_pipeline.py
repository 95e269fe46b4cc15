"""The request pipeline behind every ``WonderClient`` call, and the state it runs on.

For every call: serialize the body once, sign exactly those bytes (inline when the client is
idle, on a small thread pool when other requests are in flight, so RSA signing uses every core
while the event loop keeps doing I/O), send, decode the envelope, and retry per
:class:`RetryPolicy` within the call's total deadline.

Here: ``_Options`` (one client copy's call settings), ``_Shared`` (what every ``with_options``
copy shares: pool, key, rate-limit pause), and ``_sign_now``, ``_execute`` and
``_after_failure``, which :class:`~._client.WonderClient` takes as its methods of the same
names. The client itself (configuration, public surface, lifecycle) is in :mod:`._client`;
the signing threads are in :mod:`._sign_pool`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import attrs
from multidict import CIMultiDict

from . import _telemetry
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    RateLimitError,
    WonderError,
)
from ._raw import _LAST, Exchange, note_request_id
from ._request import Request
from ._retry import RetryPolicy, may_have_happened, parse_retry_after
from ._signing import Signer
from ._transport import Transport
from ._wire import decode_envelope

if TYPE_CHECKING:
    from ._client import WonderClient
    from ._sign_pool import SignPool

log = logging.getLogger("wonder")


@attrs.frozen
class _Options:
    timeout: float
    attempt_timeout: float
    retry: RetryPolicy
    #: Set on the per-call copy ``with_raw_response`` makes: the answers are recorded there.
    recorder: Exchange | None = None


class _Shared:
    """What every ``with_options`` copy of a client shares: pool, key, rate-limit pause."""

    def __init__(self, signer: Signer, transport: Transport, sign_threads: int) -> None:
        self.signer = signer
        self.transport = transport
        self.sign_threads = sign_threads
        self.inflight = 0
        self.paused_until = 0.0
        self._pool: SignPool | None = None

    def sign_in_pool(self, request: Request) -> asyncio.Future[dict[str, str]]:
        """Sign on a signing thread; the future completes on the loop."""
        pool = self._pool
        if pool is None:
            from ._sign_pool import SignPool  # threads only once calls overlap

            pool = self._pool = SignPool(self.signer, self.sign_threads)
        return pool.sign(request)

    def after_fork(self) -> None:
        """In a forked child: drop the parent's pool and threads (unusable here), start clean."""
        _ABANDONED.append((self.transport, self._pool))
        self.transport = self.transport.fresh()
        self._pool = None
        self.inflight = 0
        self.paused_until = 0.0

    async def close(self) -> None:
        await self.transport.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


# A forked child keeps the parent's loop-bound objects referenced so their finalizers (which
# would warn about unclosed sessions of a loop that does not exist here) never run.
_ABANDONED: list[object] = []


def _sign_now(self: WonderClient, request: Request) -> Request:
    """Return ``request`` with headers signed in the calling thread (blocking callers)."""
    started = time.perf_counter()
    headers = self._shared.signer.sign(request.method, request.uri, request.body)
    if (tel := _telemetry.TELEMETRY) is not None:
        tel.record_signing(request, time.perf_counter() - started)
    return request.with_signature(headers)


async def _execute(self: WonderClient, request: Request) -> dict[str, Any]:
    """Send ``request`` with retries inside the call's deadline; return envelope ``data``."""
    shared = self._shared
    opts = self._options
    deadline = time.monotonic() + opts.timeout
    attempt = 0
    tel = _telemetry.TELEMETRY
    call = tel.start_call(request, shared.transport.base_url) if tel is not None else None
    shared.inflight += 1
    try:
        if request.recover_first and request.recover is not None:
            # The caller's own id: an earlier run may have made this call already.
            found = await request.recover(self, deadline)
            if found is not None:
                return found
        while True:
            attempt += 1
            # paused_until is 0.0 until a 429 asks for a pause: no clock read until then.
            if shared.paused_until and (pause := shared.paused_until - time.monotonic()) > 0:
                if time.monotonic() + pause >= deadline:
                    raise APITimeoutError(
                        "rate-limit pause would outlast the call's deadline",
                        sent=attempt > 1,
                        attempts=attempt - 1,
                    )
                if call is not None:
                    call.paused(pause)
                await asyncio.sleep(pause)
            if attempt == 1 and request.signed is not None:
                headers = request.signed
            else:
                signing = time.perf_counter() if call is not None else 0.0
                headers = (
                    shared.signer.sign(request.method, request.uri, request.body)
                    if shared.inflight <= 1  # idle client: a thread hop only adds latency
                    else await shared.sign_in_pool(request)
                )
                if call is not None:
                    call.signed(time.perf_counter() - signing)
            request_id = headers["X-Request-ID"]
            started = time.monotonic()
            remaining = deadline - started
            if remaining <= 0:  # signing or the pause ate the budget: never overrun it
                raise APITimeoutError(
                    f"the call's {opts.timeout:g}s deadline passed before attempt {attempt}",
                    sent=attempt > 1,
                    request_id=request_id,
                    attempts=attempt - 1,
                )
            try:
                status, body, resp_headers = await shared.transport.send(
                    request.method,
                    request.uri,
                    request.body,
                    headers,
                    min(remaining, opts.attempt_timeout),
                )
                retry_header = resp_headers.get("Retry-After")
                try:
                    data = decode_envelope(
                        status,
                        body,
                        request_id=request_id,
                        retry_after=parse_retry_after(retry_header) if retry_header else None,
                    )
                except APIStatusError as exc:  # the answer's headers, kept past the response
                    exc.headers = CIMultiDict(resp_headers)
                    raise
                if request.expect is not None:  # a shape error is an unreadable answer
                    request.expect(data)
            except WonderError as exc:
                exc.request_id = exc.request_id or request_id
                exc.attempts = attempt
                if request.recover is not None and may_have_happened(exc):
                    # Look up, then decide: never send a charge, refund or void again
                    # when the last attempt may have gone through.
                    found = await request.recover(self, deadline)
                    if found is not None:
                        return found
                delay = self._after_failure(request, exc, attempt, started, deadline)
                if call is not None:
                    call.retry(attempt, exc, delay)
                log.info(
                    "retrying %s %s in %.2fs after attempt %d: %s",
                    request.method,
                    request.uri,
                    delay,
                    attempt,
                    exc,
                    extra=_log_fields(request, exc.request_id, attempt, exc, started),
                )
                await asyncio.sleep(delay)
                continue
            if log.isEnabledFor(logging.DEBUG):
                fields = _log_fields(request, request_id, attempt, status, started)
                log.debug(
                    "%s %s -> %d in %.1f ms (attempt %d, request_id %s)",
                    request.method,
                    request.uri,
                    status,
                    fields["duration_ms"],
                    attempt,
                    request_id,
                    extra=fields,
                )
            if call is not None:  # after the log record: it belongs to the call's span
                call.finish(attempt, status=status, request_id=request_id)
            _LAST.set((shared, request_id))  # last_request_id (note_request_id, inlined)
            if opts.recorder is not None:
                opts.recorder.record(status, resp_headers, request_id, attempt, request.operation)
            return data
    except BaseException as exc:
        if isinstance(exc, WonderError) and exc.request_id is not None:
            note_request_id(shared, exc.request_id)
        if call is not None:
            call.finish(attempt, exc=exc)
        raise
    finally:
        shared.inflight -= 1
        if call is not None:  # answered by a recovery look-up (a no-op when ended above)
            call.finish(attempt)


def _after_failure(
    self: WonderClient,
    request: Request,
    exc: WonderError,
    attempt: int,
    started: float,
    deadline: float,
) -> float:
    """Log the failed attempt; re-raise ``exc`` unless it is retried, else return the wait."""
    fields = _log_fields(request, exc.request_id, attempt, exc, started)
    log.debug(
        "%s %s -> %s in %.1f ms (attempt %d, request_id %s)",
        request.method,
        request.uri,
        fields["status"],
        fields["duration_ms"],
        attempt,
        exc.request_id,
        extra=fields,
    )
    shared = self._shared
    if isinstance(exc, RateLimitError) and exc.retry_after:
        shared.paused_until = max(shared.paused_until, time.monotonic() + exc.retry_after)
    policy = self._options.retry
    # A call with a look-up is as safe to repeat as a read: it is only repeated when the
    # look-up found that the last attempt did not take effect.
    safe = request.idempotent or request.recover is not None
    if not policy.should_retry(exc, attempt=attempt, idempotent=safe):
        if (
            not request.idempotent
            and request.reconcile
            and exc.retryable
            and not (isinstance(exc, APIConnectionError) and not exc.sent)
        ):
            exc.message += (
                f". The request may have reached the gateway, so it was not repeated: "
                f"{request.reconcile}"
            )
        raise exc
    delay = policy.delay(attempt, getattr(exc, "retry_after", None))
    if time.monotonic() + delay >= deadline:
        exc.message += f"; no retry: the call's {self._options.timeout:g}s deadline is near"
        raise exc
    return delay


def _log_fields(
    request: Request,
    request_id: str | None,
    attempt: int,
    outcome: int | WonderError,
    started: float,
) -> dict[str, Any]:
    """The structured fields of a ``wonder`` log record about one attempt (``extra=``).

    ``status`` is the HTTP status, or the error class name when there was no response.
    """
    if isinstance(outcome, int):
        status: int | str = outcome
    elif isinstance(outcome, APIStatusError):
        status = outcome.status
    else:
        status = type(outcome).__name__
    return {
        "request_id": request_id,
        "operation": request.operation,
        "attempt": attempt,
        "status": status,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
    }
