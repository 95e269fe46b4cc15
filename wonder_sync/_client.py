"""The blocking WonderClient: the async client driven through one portal."""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import wonder_async
from wonder_async._errors import WonderError
from wonder_async._raw import Exchange, last_noted, last_request_id, note_request_id, restore_noted
from wonder_async._request import Request
from wonder_async._signing import PrivateKeyInput

from ._portal import Portal
from ._raw import WithRawResponse

if TYPE_CHECKING:
    from .resources.customers import Customers
    from .resources.orders import Orders
    from .resources.payment_tokens import PaymentTokens
    from .resources.payments import Payments

__all__ = ["WonderClient"]

T = TypeVar("T")
#: ``typing.Self`` stand-in (Python 3.10): methods returning the caller's own client class.
_Client = TypeVar("_Client", bound="WonderClient")


class WonderClient:
    """Blocking client for the Wonder Gateway Customer Management API.

    Same constructor, resources, methods, models and errors as :class:`wonder_async.WonderClient`.
    Safe to share between threads: one event-loop thread per client does the I/O; a call made
    while no other is in flight is signed in its calling thread, the others on the client's
    signing threads (one per core), so RSA uses every core while the loop thread stays free.
    Use it as ``with WonderClient(...) as wonder:`` or call :meth:`close`.

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
        timeout: float = 60.0,
        attempt_timeout: float = 20.0,
        connect_timeout: float = 5.0,
        max_retries: int = 3,
        pool_size: int = 100,
        ssl_context: ssl.SSLContext | None = None,
        sign_threads: int | None = None,
        max_response_bytes: int | None = None,
        proxy: str | None = None,
    ) -> None:
        self._async = wonder_async.WonderClient(
            app_id=app_id,
            private_key=private_key,
            environment=environment,
            base_url=base_url,
            timeout=timeout,
            attempt_timeout=attempt_timeout,
            connect_timeout=connect_timeout,
            max_retries=max_retries,
            pool_size=pool_size,
            ssl_context=ssl_context,
            sign_threads=sign_threads,
            max_response_bytes=max_response_bytes,
            proxy=proxy,
        )
        self._portal = Portal(on_fork=self._async._after_fork)

    @property
    def app_id(self) -> str:
        """The AppID requests are signed for."""
        return self._async.app_id

    @property
    def base_url(self) -> str:
        """The gateway base URL requests go to."""
        return self._async.base_url

    def __repr__(self) -> str:
        return f"WonderClient(app_id={self.app_id!r}, base_url={self.base_url!r}, blocking)"

    @cached_property
    def customers(self) -> Customers:
        """Customer profiles: upsert by reference_number, get, update, list."""
        from .resources.customers import Customers

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
        return last_request_id(self._async._shared)

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
        clone._async = self._async._recording(exchange)
        clone._portal = self._portal
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
        clone._async = self._async.with_options(
            timeout=timeout, attempt_timeout=attempt_timeout, max_retries=max_retries
        )
        clone._portal = self._portal
        return clone

    def echo(self, message: str = "Hello,Wonder!") -> str:
        """Call the side-effect-free echo endpoint: a self-test of key, app id and clock.

        :param message: the text to send.
        :returns: the message as the gateway echoed it.
        :raises AuthenticationError: when the gateway rejects the signature.
        """
        return self._call_noted(self._async.echo, message)

    def close(self) -> None:
        """Close the connection pool and signing threads; idempotent."""
        self._portal.close(self._async.close)

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- what the generated resources call --------------------------------------------------

    #: Calls in flight below which the calling thread signs its own request.
    _SIGN_HERE_BELOW = 1

    def _execute(self, request: Request) -> dict[str, Any]:
        # Alone, sign here in the calling thread: no hop to a signing thread. With other calls
        # in flight the client's signing threads sign it (at most one per core, handed back
        # in batches): eight callers signing at once ran eight RSA operations against the
        # loop thread that does everyone's I/O on the same cores (and cost ~7-10 % more CPU
        # per request in benchmarks/run.py --before).
        if self._async._shared.inflight < self._SIGN_HERE_BELOW:
            request = self._async._sign_now(request)
        return self._call_noted(self._async._execute, request)

    def _call_noted(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``portal.call``, carrying ``last_request_id`` back to the calling thread."""
        try:
            pair: tuple[T, tuple[object, str] | None] = self._portal.call(_noted, func, *args)
        except WonderError as exc:
            if exc.request_id is not None:
                note_request_id(self._async._shared, exc.request_id)
            raise
        restore_noted(pair[1])
        return pair[0]

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _iterate(
        self, start: Callable[[wonder_async.WonderClient], AsyncIterator[T]]
    ) -> Iterator[T]:
        portal = self._portal
        agen = start(self._async)
        try:
            while True:
                try:
                    item: T = portal.call(agen.__anext__)
                except StopAsyncIteration:
                    return
                yield item
        finally:
            aclose: Callable[[], Awaitable[None]] = getattr(agen, "aclose")  # noqa: B009 - AsyncIterator has no aclose in typing
            portal.call(aclose)


async def _noted(
    func: Callable[..., Awaitable[T]], *args: Any
) -> tuple[T, tuple[object, str] | None]:
    """Run ``func`` on the loop thread; also return the request id it noted in that task."""
    return await func(*args), last_noted()
