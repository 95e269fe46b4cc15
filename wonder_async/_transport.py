"""The aiohttp seam: one pooled session per client and the one place aiohttp errors are mapped.

Everything above this module sees only ``(status, body, headers)`` or a :class:`WonderError`.
Redirects are never followed (a 3xx is an :class:`APIStatusError` naming the target host) and
every answer is read under ``max_response_bytes``: a ``Content-Length`` above it is refused
before the body is read, a chunked body as soon as it passes the limit.
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
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    ResponseValidationError,
)
from ._proxy import Proxy
from ._version import __version__

__all__ = ["Response", "Transport"]

Response = tuple[int, bytes, CIMultiDictProxy[str]]

_USER_AGENT: Final = f"wonder-gateway-python/{__version__}"
_CACHE_SIZE: Final = 256
_READ_CHUNK: Final = 64 * 1024
#: Answers above this many bytes have their JSON values counted before they are decoded.
_COUNT_ABOVE: Final = 1024 * 1024
#: Bytes per JSON value, at least, an answer must have: at most ``max_response_bytes // 16``
#: values, objects counted four times (1,048,576 by default; the largest page the emulator
#: sends has about 145,000), as decoding costs 50-250 bytes of memory per value whatever its
#: size on the wire.
_BYTES_PER_VALUE: Final = 16


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
        max_response_bytes: int = 16 * 1024 * 1024,
        proxy: Proxy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self.max_response_bytes = max_response_bytes
        self.proxy = proxy
        self._proxy_url = proxy.url if proxy is not None else None
        auth = proxy.authorization if proxy is not None else None
        # CONNECT (https gateway) carries it in the proxy request; a forwarded http request
        # carries it itself (the proxy removes it).
        self._proxy_headers = {"Proxy-Authorization": auth} if auth else None
        self._auth_in_request = auth is not None and not self.base_url.startswith("https:")
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
            max_response_bytes=self.max_response_bytes,
            proxy=self.proxy,
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
                # The environment's proxy is resolved once (``_proxy``); trust_env would also
                # send ~/.netrc credentials and look both up on a thread for every request.
                trust_env=False,
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
        if self._auth_in_request:
            headers = {**headers, **(self._proxy_headers or {})}
        url = self._urls.get(uri)
        if url is None:
            url = URL(self.base_url + uri, encoded=True)
            if len(self._urls) >= _CACHE_SIZE:  # paths with ids vary: keep the newest only
                self._urls.clear()
            self._urls[uri] = url
        try:
            async with session.request(
                method,
                url,
                data=body or None,
                headers=headers,
                timeout=client_timeout,
                allow_redirects=False,
                proxy=self._proxy_url,
                proxy_headers=self._proxy_headers,
            ) as resp:
                status = resp.status
                if 300 <= status < 400:
                    raise _redirect_error(status, resp.headers.get("Location"), url)
                data = await self._read(resp)
                return status, data, resp.headers
        except aiohttp.ClientProxyConnectionError as exc:
            raise APIConnectionError(
                f"could not connect to the proxy {self._proxy_name()}: "
                f"{exc.os_error.strerror or type(exc).__name__}",
                sent=False,
            ) from None
        except aiohttp.ClientHttpProxyError as exc:
            raise APIConnectionError(
                f"the proxy {self._proxy_name()} refused to connect to the gateway: "
                f"HTTP {exc.status}",
                sent=False,
            ) from None
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

    def _proxy_name(self) -> str:
        return self.proxy.display if self.proxy is not None else "(none)"

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        """The whole body, or :class:`ResponseValidationError` once it passes the limit
        (the rest is never read: the connection is closed instead of reused)."""
        limit = self.max_response_bytes
        length = resp.content_length
        if length is not None:
            if length > limit:
                resp.close()
                raise _too_large(f"announces {length} bytes", limit)
            if length <= _COUNT_ABOVE:
                return await resp.read()
        # Read here, not by resp.read(): an error's traceback keeps this frame and ``resp``,
        # and must never keep the body alive with them.
        buf = bytearray()
        while chunk := await resp.content.read(_READ_CHUNK):
            buf += chunk
            if len(buf) > limit:
                resp.close()
                del buf
                raise _too_large(f"passed {limit} bytes and was still coming", limit)
        if len(buf) > _COUNT_ABOVE and (problem := _too_many_values(buf, limit)) is not None:
            del buf
            raise problem
        return bytes(buf)

    async def close(self) -> None:
        """Close the pool; safe to call more than once."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _too_many_values(data: bytearray, limit: int) -> ResponseValidationError | None:
    """The error for an answer of absurdly many tiny JSON values (``[{},{},...]``), refused
    before decoding: decoding multiplies its size in memory by up to 30."""
    # An object costs about four times a scalar once decoded.
    values = data.count(b",") + 4 * data.count(b"{") + data.count(b"[")
    if values <= limit // _BYTES_PER_VALUE:
        return None
    return ResponseValidationError(
        f"the gateway's answer holds about {values} JSON values in {len(data)} bytes, more "
        f"than the {limit // _BYTES_PER_VALUE} that max_response_bytes={limit} allows; "
        f"not decoded"
    )


def _too_large(what: str, limit: int) -> ResponseValidationError:
    return ResponseValidationError(
        f"the gateway's answer {what}, more than max_response_bytes={limit}; not read "
        f"further (raise max_response_bytes or WONDER_MAX_RESPONSE_BYTES if it is genuine)"
    )


def _redirect_error(status: int, location: str | None, sent_to: URL) -> APIStatusError:
    """A 3xx, which is never followed: Wonder's API has none, and following one would send the
    signature headers (and after 307/308 the body) to wherever it points. Names the target's
    host only: its path and query may hold anything."""
    target = "to an unreadable Location"
    if location is None:
        target = "without a Location"
    else:
        try:
            to = sent_to.join(URL(location.strip()))
        except (ValueError, TypeError):
            pass
        else:
            if to.host:
                target = f"to host {to.host}" + (f":{to.port}" if to.explicit_port else "")
    return APIStatusError(
        f"HTTP {status} redirect {target} refused: the SDK never follows redirects (Wonder's "
        f"API sends none; check base_url and any proxy or load balancer in between)",
        status=status,
    )
