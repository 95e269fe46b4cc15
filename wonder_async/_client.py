"""WonderClient: configuration, session lifecycle and the request pipeline.

The pipeline for every call: serialize the body once, sign exactly those bytes (inline when
the client is idle, on a small thread pool when other requests are in flight, so RSA signing
uses every core while the event loop keeps doing I/O), send, decode the envelope, and retry
per :class:`RetryPolicy` within the call's total deadline.

The signing threads are in :mod:`._sign_pool`; defaults and ``WONDER_*`` variables in
:mod:`._config`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
from multidict import CIMultiDict

from . import _telemetry
from ._config import (
    DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POOL_SIZE,
    DEFAULT_TIMEOUT,
    check_positive,
    resolve_base_url,
    resolve_credentials,
    resolve_max_response_bytes,
)
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    RateLimitError,
    WonderError,
)
from ._proxy import resolve_proxy
from ._raw import _LAST, Exchange, WithRawResponse, last_request_id, note_request_id
from ._redact import scrub
from ._request import Request
from ._retry import RetryPolicy, may_have_happened, parse_retry_after
from ._signing import PrivateKeyInput, Signer
from ._transport import Transport
from ._wire import Paths, decode_envelope

if TYPE_CHECKING:
    from ._sign_pool import SignPool
    from .resources.customers import Customers
    from .resources.orders import Orders
    from .resources.payment_tokens import PaymentTokens
    from .resources.payments import Payments

__all__ = ["WonderClient"]

#: ``typing.Self`` stand-in (Python 3.10): methods returning the caller's own client class.
_Client = TypeVar("_Client", bound="WonderClient")

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


class WonderClient:
    """Async client for the Wonder Gateway Customer Management API.

    One client per application: it holds a keep-alive connection pool and the loaded key, and
    is safe to share between any number of concurrent tasks of one event loop. Use it as
    ``async with WonderClient(...) as wonder:`` or call :meth:`close`.

    :param app_id: the AppID from the Wonder portal (default: ``WONDER_APP_ID``).
    :param private_key: RSA private key as PEM text/bytes (PKCS#1 or PKCS#8), a file path, or
        a loaded ``RSAPrivateKey`` (see ``PrivateKeyInput``; default: ``WONDER_PRIVATE_KEY`` or
        the file named by ``WONDER_PRIVATE_KEY_FILE``).
    :param environment: ``"sandbox"`` (default), ``"production"`` or ``"alpha"``
        (default: ``WONDER_ENVIRONMENT``).
    :param base_url: overrides the environment's host, e.g. an emulator
        (default: ``WONDER_BASE_URL``).
    :param timeout: total seconds a call may take, retries and backoff included.
    :param attempt_timeout: seconds one attempt may take before it is abandoned.
    :param connect_timeout: seconds to establish a connection.
    :param max_retries: retries after the first attempt of a call.
    :param pool_size: most connections kept open to the gateway.
    :param ssl_context: a custom TLS context (e.g. a corporate CA bundle); verification stays on.
    :param sign_threads: worker threads that sign while the loop does I/O (default: CPU count).
    :param max_response_bytes: the largest answer read; a larger one fails with
        :class:`ResponseValidationError` before it is buffered (default:
        ``WONDER_MAX_RESPONSE_BYTES``, else 16 MiB).
    :param proxy: an ``http://[user:password@]host:port`` proxy to send through (default:
        ``HTTPS_PROXY``/``HTTP_PROXY`` unless ``NO_PROXY`` exempts the host; ``""``: none).
    :raises ConfigurationError: when app id or key is missing or unreadable.
    """

    def __init__(
        self,
        *,
        app_id: str | None = None,
        private_key: PrivateKeyInput | None = None,
        environment: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        attempt_timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        pool_size: int = DEFAULT_POOL_SIZE,
        ssl_context: ssl.SSLContext | None = None,
        sign_threads: int | None = None,
        max_response_bytes: int | None = None,
        proxy: str | None = None,
    ) -> None:
        app_id, private_key = resolve_credentials(app_id, private_key)
        check_positive("timeout", timeout)
        check_positive("attempt_timeout", attempt_timeout)
        check_positive("connect_timeout", connect_timeout)
        if max_retries < 0:
            raise ConfigurationError("max_retries: must be >= 0")
        self.environment, url = resolve_base_url(environment, base_url)
        transport = Transport(
            url,
            connect_timeout=connect_timeout,
            pool_size=pool_size,
            ssl_context=ssl_context,
            max_response_bytes=resolve_max_response_bytes(max_response_bytes),
            proxy=resolve_proxy(proxy, url),
        )
        threads = sign_threads if sign_threads is not None else (os.cpu_count() or 1)
        self._shared = _Shared(Signer(app_id, private_key), transport, max(threads, 1))
        self._options = _Options(timeout, attempt_timeout, RetryPolicy(max_retries=max_retries))

    # --- public surface -------------------------------------------------------------------

    @property
    def app_id(self) -> str:
        """The AppID requests are signed for."""
        return self._shared.signer.app_id

    @property
    def base_url(self) -> str:
        """The gateway base URL requests go to."""
        return self._shared.transport.base_url

    def __repr__(self) -> str:
        return f"WonderClient(app_id={self.app_id!r}, base_url={self.base_url!r})"

    @cached_property
    def customers(self) -> Customers:
        """Customer profiles: upsert by reference_number, get, update, list."""
        from .resources.customers import Customers  # the models load with the first resource

        return Customers(self)

    @cached_property
    def payment_tokens(self) -> PaymentTokens:
        """Saved payment methods of a customer: bind a card through 3-D Secure, check, list."""
        from .resources.payment_tokens import PaymentTokens

        return PaymentTokens(self)

    @cached_property
    def orders(self) -> Orders:
        """Orders with their transactions: create, look up, list, void, refund."""
        from .resources.orders import Orders

        return Orders(self)

    @cached_property
    def payments(self) -> Payments:
        """Charges of saved payment tokens, each made at most once (``payment_uuid``)."""
        from .resources.payments import Payments

        return Payments(self)

    @property
    def last_request_id(self) -> str | None:
        """The ``X-Request-ID`` of the last request this task sent through this client.

        Per task (for the blocking client: per thread), so concurrent callers sharing one
        client each see their own; ``with_options`` copies share it. It is set by successes
        and failures alike (an error also has it as ``exc.request_id``); ``None`` before the
        task's first request. Quote it to Wonder support.
        """
        return last_request_id(self._shared)

    @cached_property
    def with_raw_response(self) -> WithRawResponse:
        """The same calls, each returning a :class:`RawResponse` (status, headers, request id).

        ``wonder.with_raw_response.customers.get(uuid)`` answers with a :class:`RawResponse`
        whose ``parse()`` is the customer. Iterators and bulk methods are not offered this way.
        """
        return WithRawResponse(self)

    def _recording(self: _Client, exchange: Exchange) -> _Client:
        """A copy of this client that records each answer of one call into ``exchange``."""
        clone = object.__new__(type(self))
        clone.environment = self.environment
        clone._shared = self._shared
        clone._options = attrs.evolve(self._options, recorder=exchange)
        return clone

    def with_options(
        self: _Client,
        *,
        timeout: float | None = None,
        attempt_timeout: float | None = None,
        max_retries: int | None = None,
    ) -> _Client:
        """Return a client sharing this one's pool and key with other per-call settings.

        ``wonder.with_options(max_retries=0).customers.get(uuid)`` changes one call only.

        :param timeout: total seconds a call may take; ``None`` keeps this client's.
        :param attempt_timeout: seconds one attempt may take; ``None`` keeps this client's.
        :param max_retries: retries after the first attempt; ``None`` keeps this client's.
        :returns: a client for the new settings; it needs no closing of its own.
        """
        clone = object.__new__(type(self))
        clone.environment = self.environment
        clone._shared = self._shared
        opts = self._options
        clone._options = _Options(
            timeout if timeout is not None else opts.timeout,
            attempt_timeout if attempt_timeout is not None else opts.attempt_timeout,
            attrs.evolve(opts.retry, max_retries=max_retries)
            if max_retries is not None
            else opts.retry,
        )
        return clone

    async def echo(self, message: str = "Hello,Wonder!") -> str:
        """Call the side-effect-free echo endpoint: a self-test of key, app id and clock.

        :param message: the text to send.
        :returns: the message as the gateway echoed it.
        :raises AuthenticationError: when the gateway rejects the signature.
        """
        data = await self._execute(
            Request.json("POST", Paths.ECHO, {"message": message}, operation="echo")
        )
        return scrub(str(data.get("message", "")))

    async def close(self) -> None:
        """Close the connection pool and signing threads; idempotent."""
        await self._shared.close()

    async def __aenter__(self: _Client) -> _Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- pipeline -------------------------------------------------------------------------

    def _after_fork(self) -> None:
        self._shared.after_fork()

    def _sign_now(self, request: Request) -> Request:
        """Return ``request`` with headers signed in the calling thread (blocking callers)."""
        started = time.perf_counter()
        headers = self._shared.signer.sign(request.method, request.uri, request.body)
        if (tel := _telemetry.TELEMETRY) is not None:
            tel.record_signing(request, time.perf_counter() - started)
        return request.with_signature(headers)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _execute(self, request: Request) -> dict[str, Any]:
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
                    opts.recorder.record(
                        status, resp_headers, request_id, attempt, request.operation
                    )
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
        self, request: Request, exc: WonderError, attempt: int, started: float, deadline: float
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
