"""WonderClient: configuration, the public surface and the session lifecycle.

The request pipeline every call goes through (sign, send, decode, retry within the deadline)
and the state it runs on (``_Options``, ``_Shared``) are in :mod:`._pipeline`; the client takes
``_sign_now``, ``_execute`` and ``_after_failure`` from there as its methods. The signing
threads are in :mod:`._sign_pool`; defaults and ``WONDER_*`` variables in :mod:`._config`.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import attrs

from . import _pipeline
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
from ._errors import ConfigurationError
from ._pipeline import _ABANDONED as _ABANDONED  # re-exported: wonder_sync._portal uses it
from ._pipeline import _Options, _Shared
from ._proxy import resolve_proxy
from ._raw import Exchange, WithRawResponse, last_request_id
from ._redact import scrub
from ._request import Request
from ._retry import RetryPolicy
from ._signing import PrivateKeyInput, Signer
from ._transport import Transport
from ._wire import Paths

if TYPE_CHECKING:
    from .resources.customers import Customers
    from .resources.orders import Orders
    from .resources.payment_tokens import PaymentTokens
    from .resources.payments import Payments

__all__ = ["WonderClient"]

#: ``typing.Self`` stand-in (Python 3.10): methods returning the caller's own client class.
_Client = TypeVar("_Client", bound="WonderClient")


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

    # --- pipeline (in ._pipeline) ---------------------------------------------------------

    def _after_fork(self) -> None:
        self._shared.after_fork()

    _sign_now = _pipeline._sign_now

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    _execute = _pipeline._execute
    _after_failure = _pipeline._after_failure
