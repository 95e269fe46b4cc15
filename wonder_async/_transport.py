"""The aiohttp seam: one pooled session per client and the one place aiohttp errors are mapped.

Everything above this module sees only ``(status, body, headers)`` or a :class:`WonderError`.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import warnings
from typing import Final

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from . import _telemetry
from ._errors import APIConnectionError, APITimeoutError, ConfigurationError
from ._version import __version__

__all__ = ["Response", "Transport"]

Response = tuple[int, bytes, CIMultiDictProxy[str]]

_USER_AGENT: Final = f"wonder-gateway-python/{__version__}"
_CACHE_SIZE: Final = 256


class Transport:
    """A keep-alive connection pool to one base URL.

    The aiohttp session is created lazily inside the running event loop (aiohttp requires
    that) and bound to it; ``close`` is idempotent.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float,
        pool_size: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        if ssl_context is not None and (
            ssl_context.verify_mode == ssl.CERT_NONE or not ssl_context.check_hostname
        ):
            # Allowed for lab setups, but never silently: payment traffic without TLS checks.
            msg = "ssl_context turns off TLS certificate or hostname verification"
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
            logging.getLogger("wonder").warning(msg)
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        # Per-call objects built once: URLs by path (bounded) and timeouts by value.
        self._urls: dict[str, URL] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def fresh(self) -> Transport:
        """A new, unopened transport with the same settings (for a forked child)."""
        ssl_context = self._ssl if isinstance(self._ssl, ssl.SSLContext) else None
        return Transport(
            self.base_url,
            connect_timeout=self._connect_timeout,
            pool_size=self._pool_size,
            ssl_context=ssl_context,
        )

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None:
            if self._closed:
                raise ConfigurationError("this WonderClient is closed; create a new one")
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, ssl=self._ssl, enable_cleanup_closed=False
            )
            tel = _telemetry.TELEMETRY
            self._session = aiohttp.ClientSession(
                connector=connector,
                trace_configs=tel.trace_configs() if tel is not None else None,
                headers={"Content-Type": "application/json", "User-Agent": _USER_AGENT},
                skip_auto_headers=("Accept-Encoding",),
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._loop = loop
        elif loop is not self._loop:
            raise ConfigurationError(
                "this WonderClient is bound to another event loop; create one client per loop"
            )
        return self._session

    async def send(
        self, method: str, uri: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> Response:
        """Send one request and read the whole response.

        :raises APIConnectionError: ``sent=False`` when the connection was never made.
        :raises APITimeoutError: when ``timeout`` (or the connect timeout) expires.
        """
        session = self._session
        if session is None or self._closed or asyncio.get_running_loop() is not self._loop:
            if self._closed:
                raise ConfigurationError("this WonderClient is closed; create a new one")
            session = self._get_session()
        client_timeout = self._timeouts.get(timeout)
        if client_timeout is None:
            client_timeout = aiohttp.ClientTimeout(
                total=timeout, sock_connect=min(self._connect_timeout, timeout)
            )
            if len(self._timeouts) >= _CACHE_SIZE:  # short deadlines give a new value per call
                self._timeouts.clear()
            self._timeouts[timeout] = client_timeout
        url = self._urls.get(uri)
        if url is None:
            url = URL(self.base_url + uri, encoded=True)
            if len(self._urls) >= _CACHE_SIZE:  # paths with ids vary: keep the newest only
                self._urls.clear()
            self._urls[uri] = url
        try:
            async with session.request(
                method, url, data=body or None, headers=headers, timeout=client_timeout
            ) as resp:
                data = await resp.read()
                return resp.status, data, resp.headers
        except aiohttp.ConnectionTimeoutError:
            raise APITimeoutError(
                f"connect timeout after {self._connect_timeout:g}s", sent=False
            ) from None
        # asyncio.TimeoutError: aiohttp's total timeout; not the builtin TimeoutError on 3.10.
        except (asyncio.TimeoutError, TimeoutError, aiohttp.ServerTimeoutError):
            raise APITimeoutError(f"no response within {timeout:.3g}s") from None
        except aiohttp.ClientConnectorError as exc:
            raise APIConnectionError(
                f"could not connect to {self.base_url}: {exc.os_error.strerror or exc}",
                sent=False,
            ) from None
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"connection failed during the request: {type(exc).__name__}"
            ) from None

    async def close(self) -> None:
        """Close the pool; safe to call more than once."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
