"""WonderClient: configuration, session lifecycle and the request pipeline.

The pipeline for every call: serialize the body once, sign exactly those bytes (inline when
the client is idle, on a small thread pool when other requests are in flight, so RSA signing
uses every core while the event loop keeps doing I/O), send, decode the envelope, and retry
per :class:`RetryPolicy` within the call's total deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import ssl
import threading
import time
from collections import deque
from functools import cached_property
from types import TracebackType
from typing import Any, Final, TypeVar

import attrs

from . import _telemetry
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    RateLimitError,
    WonderError,
)
from ._request import Request
from ._retry import RetryPolicy, parse_retry_after
from ._signing import PrivateKeyInput, Signer
from ._transport import Transport
from ._wire import ENVIRONMENTS, Paths, decode_envelope
from .resources._recovery import may_have_happened
from .resources.customers import Customers
from .resources.orders import Orders
from .resources.payment_tokens import PaymentTokens
from .resources.payments import Payments

__all__ = ["WonderClient"]

#: ``typing.Self`` stand-in (Python 3.10): methods returning the caller's own client class.
_Client = TypeVar("_Client", bound="WonderClient")

log = logging.getLogger("wonder")

_DEFAULT_TIMEOUT: Final = 60.0
_DEFAULT_ATTEMPT_TIMEOUT: Final = 20.0
_DEFAULT_CONNECT_TIMEOUT: Final = 5.0
_DEFAULT_MAX_RETRIES: Final = 3
_DEFAULT_POOL_SIZE: Final = 100


@attrs.frozen
class _Options:
    timeout: float
    attempt_timeout: float
    retry: RetryPolicy


_SignJob = tuple["asyncio.Future[dict[str, str]]", Request]
# Seconds a signing thread waits for work before it ends (a busy client keeps its threads;
# one that was dropped without close() does not keep them forever).
_SIGN_THREAD_IDLE: Final = 30.0


class _SignPool:
    """Signing threads fed and drained in batches, so RSA uses every core while the loop does I/O.

    Loop side: :meth:`sign` queues a job (no executor future, no thread wake-up) and the jobs
    queued during one loop iteration go to the threads together, with at most one wake-up per
    idle thread. Thread side: each thread signs one job at a time (so all threads sign in
    parallel) and finished signatures go back to the loop in batches, one loop wake-up per
    batch. Threads start on demand, up to ``threads``.
    """

    def __init__(self, signer: Signer, threads: int) -> None:
        self.signer = signer
        self.max_threads = threads
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        # One token per idle thread to wake (a C queue: waiting and waking cost no Python-level
        # lock juggling, unlike threading.Condition).
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        # Guarded by _lock: jobs for the threads, threads waiting for work, finished jobs.
        self._jobs: deque[_SignJob] = deque()
        self._idle = 0
        self._done: list[tuple[asyncio.Future[dict[str, str]], Any]] = []
        self._wake_pending = False
        self._closed = False
        # Loop thread only: jobs of the current loop iteration, not yet handed over, and the
        # loop a hand-over is scheduled on (another loop, e.g. after asyncio.run ended with a
        # hand-over pending, schedules its own).
        self._batch: list[_SignJob] = []
        self._hand_over_on: asyncio.AbstractEventLoop | None = None

    def sign(self, request: Request) -> asyncio.Future[dict[str, str]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, str]] = loop.create_future()
        self._batch.append((future, request))
        if self._hand_over_on is not loop:
            self._hand_over_on = loop
            loop.call_soon(self._hand_over)
        return future

    def _hand_over(self) -> None:
        batch, self._batch = self._batch, []
        self._hand_over_on = None
        with self._lock:
            closed = self._closed
            if not closed:
                self._jobs.extend(batch)
                waiting = len(self._jobs)
                wake = min(self._idle, waiting)
                self._idle -= wake
                new = [
                    threading.Thread(target=self._run, name="wonder-sign", daemon=True)
                    for _ in range(min(waiting - wake, self.max_threads - len(self._threads)))
                ]
                self._threads.extend(new)
        if closed:
            self._fail(batch, ConfigurationError("this WonderClient is closed; create a new one"))
            return
        for _ in range(wake):
            self._wake.put(None)
        for thread in new:
            try:
                thread.start()
            except RuntimeError as exc:  # cannot start a thread: fail the calls, never hang
                with self._lock:
                    self._threads.remove(thread)
                    if self._threads:
                        continue
                    stranded = list(self._jobs)
                    self._jobs.clear()
                self._fail(stranded, exc)

    @staticmethod
    def _fail(jobs: list[_SignJob], error: BaseException) -> None:
        for future, _ in jobs:
            if not future.done():
                future.set_exception(error)

    def _run(self) -> None:
        jobs, lock = self._jobs, self._lock
        sign = self.signer.sign
        while True:
            with lock:
                if not jobs:
                    if self._closed:
                        return
                    self._idle += 1  # the loop takes it back when it hands over work
                    job = None
                else:
                    job = jobs.popleft()
            if job is None:
                try:
                    self._wake.get(timeout=_SIGN_THREAD_IDLE)  # GIL released while waiting
                except queue.Empty:
                    with lock:
                        # Idle too long: end, unless the loop just counted on this thread.
                        if self._idle > 0 and not jobs:
                            self._idle -= 1
                            self._threads.remove(threading.current_thread())
                            return
                continue
            future, r = job
            outcome: Any
            try:
                outcome = sign(r.method, r.uri, r.body)
            except BaseException as exc:  # handed to the awaiting task, like run_in_executor
                outcome = exc
            with lock:
                self._done.append((future, outcome))
                if self._wake_pending:
                    continue
                self._wake_pending = True
            try:
                future.get_loop().call_soon_threadsafe(self._deliver)
            except RuntimeError:  # that loop is closed: nobody waits for these any more
                with lock:
                    self._done = [d for d in self._done if not d[0].get_loop().is_closed()]
                    live = self._done[0][0].get_loop() if self._done else None
                    self._wake_pending = live is not None
                if live is not None:
                    with contextlib.suppress(RuntimeError):
                        live.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            done, self._done = self._done, []
            self._wake_pending = False
        for future, outcome in done:
            if future.done() or future.get_loop().is_closed():  # the call is gone
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def close(self) -> None:
        """Let the threads finish what was handed over, then end them; idempotent."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:  # idle threads wake, find nothing to do and end
            self._wake.put(None)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()


class _Shared:
    """What every ``with_options`` copy of a client shares: pool, key, rate-limit pause."""

    def __init__(self, signer: Signer, transport: Transport, sign_threads: int) -> None:
        self.signer = signer
        self.transport = transport
        self.sign_threads = sign_threads
        self.inflight = 0
        self.paused_until = 0.0
        self._pool: _SignPool | None = None

    def sign_in_pool(self, request: Request) -> asyncio.Future[dict[str, str]]:
        """Sign on a signing thread; the future completes on the loop."""
        pool = self._pool
        if pool is None:
            pool = self._pool = _SignPool(self.signer, self.sign_threads)
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


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def _resolve_base_url(environment: str | None, base_url: str | None) -> tuple[str, str]:
    env = environment or _env("WONDER_ENVIRONMENT") or "sandbox"
    if env not in ENVIRONMENTS:
        raise ConfigurationError(
            f"environment: must be one of {', '.join(ENVIRONMENTS)} (got {env!r})"
        )
    url = (base_url or _env("WONDER_BASE_URL") or ENVIRONMENTS[env]).rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise ConfigurationError(f"base_url: must start with https:// or http:// (got {url!r})")
    if env == "production" and not url.startswith("https://"):
        raise ConfigurationError("base_url: production requires https://")
    return env, url


class WonderClient:
    """Async client for the Wonder Gateway Customer Management API.

    One client per application: it holds a keep-alive connection pool and the loaded key, and
    is safe to share between any number of concurrent tasks of one event loop. Use it as
    ``async with WonderClient(...) as wonder:`` or call :meth:`close`.

    :param app_id: the AppID from the Wonder portal (default: ``WONDER_APP_ID``).
    :param private_key: RSA private key as PEM text/bytes (PKCS#1 or PKCS#8) or a file path
        (default: ``WONDER_PRIVATE_KEY`` or the file named by ``WONDER_PRIVATE_KEY_FILE``).
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
    :raises ConfigurationError: when app id or key is missing or unreadable.
    """

    def __init__(
        self,
        *,
        app_id: str | None = None,
        private_key: PrivateKeyInput | None = None,
        environment: str | None = None,
        base_url: str | None = None,
        timeout: float = _DEFAULT_TIMEOUT,
        attempt_timeout: float = _DEFAULT_ATTEMPT_TIMEOUT,
        connect_timeout: float = _DEFAULT_CONNECT_TIMEOUT,
        max_retries: int = _DEFAULT_MAX_RETRIES,
        pool_size: int = _DEFAULT_POOL_SIZE,
        ssl_context: ssl.SSLContext | None = None,
        sign_threads: int | None = None,
    ) -> None:
        app_id = app_id or _env("WONDER_APP_ID")
        if not app_id:
            raise ConfigurationError("app_id: pass app_id= or set WONDER_APP_ID")
        if private_key is None:
            private_key = _env("WONDER_PRIVATE_KEY")
            key_file = _env("WONDER_PRIVATE_KEY_FILE")
            if private_key is None and key_file is not None:
                private_key = os.fspath(key_file)
        if private_key is None:
            raise ConfigurationError(
                "private_key: pass private_key= or set WONDER_PRIVATE_KEY / WONDER_PRIVATE_KEY_FILE"
            )
        _check_positive("timeout", timeout)
        _check_positive("attempt_timeout", attempt_timeout)
        _check_positive("connect_timeout", connect_timeout)
        if max_retries < 0:
            raise ConfigurationError("max_retries: must be >= 0")
        self.environment, url = _resolve_base_url(environment, base_url)
        transport = Transport(
            url, connect_timeout=connect_timeout, pool_size=pool_size, ssl_context=ssl_context
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
        return Customers(self)

    @cached_property
    def payment_tokens(self) -> PaymentTokens:
        """Saved payment methods of a customer: bind a card through 3-D Secure, check, list."""
        return PaymentTokens(self)

    @cached_property
    def orders(self) -> Orders:
        """Orders with their transactions: create, look up, list, void, refund."""
        return Orders(self)

    @cached_property
    def payments(self) -> Payments:
        """Charges of saved payment tokens, each made at most once (``payment_uuid``)."""
        return Payments(self)

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
        return str(data.get("message", ""))

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
                    data = decode_envelope(
                        status,
                        body,
                        request_id=request_id,
                        retry_after=parse_retry_after(retry_header) if retry_header else None,
                    )
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
                return data
        except BaseException as exc:
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


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigurationError(f"{name}: must be a positive number of seconds")
