"""Loopback HTTP servers for the hostile-gateway tests, each on its own thread and loop (so the
blocking client, whose I/O runs on a portal thread, can use them as well as the async one).

- :class:`HostileGateway` answers every request with whatever ``behave`` returns (a
  misbehaving "Wonder gateway": redirects, huge or chunked bodies, wrong types, echoed cards);
- :class:`Recorder` records every connection and request that reaches it (the "other host"
  a redirect points to: it must see nothing);
- :class:`ForwardProxy` is an HTTP proxy (absolute-URI forwarding and CONNECT) that records
  what passes, optionally requiring ``Proxy-Authorization``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Behave = Callable[[web.Request, str, dict[str, Any], int], Awaitable[web.StreamResponse]]


class _Threaded:
    """Runs ``self._start()`` on a private event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> _Threaded:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    async def _start(self) -> None:
        raise NotImplementedError

    async def _stop(self) -> None:
        raise NotImplementedError


class _AiohttpServer(_Threaded):
    def __init__(self) -> None:
        super().__init__()
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Recorder(_AiohttpServer):
    """The other host: records every request (method, path, headers, body)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((request.method, request.path_qs, dict(request.headers), body))
        return web.json_response({"code": 200, "message": "success", "data": {}})


class HostileGateway(_AiohttpServer):
    """Answers each request with ``behave(request, route, body_json, count)``; ``count`` is
    how many requests this route has had since the last :meth:`set`."""

    def __init__(self) -> None:
        super().__init__()
        self.behave: Behave | None = None
        self.counts: Counter[str] = Counter()

    def set(self, behave: Behave) -> None:
        self.behave = behave
        self.counts = Counter()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        route = f"{request.method} {request.path}"
        self.counts[route] += 1
        assert self.behave is not None
        return await self.behave(request, route, body if isinstance(body, dict) else {},
                                 self.counts[route])  # fmt: skip


async def stream_body(
    request: web.Request, total: int, *, declare_length: bool, chunk: int = 64 * 1024
) -> web.StreamResponse:
    """Send ``total`` bytes of a JSON-ish body (with ``Content-Length`` or chunked) until the
    client goes away."""
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    if declare_length:
        resp.content_length = total
    else:
        resp.enable_chunked_encoding()
    await resp.prepare(request)
    piece = b'{"code":200,"message":"success","data":{"x":"' + b"a" * (chunk - 46)
    sent = 0
    try:
        while sent < total:
            await resp.write(piece)
            sent += len(piece)
            piece = b"a" * chunk
    except (ConnectionError, RuntimeError, OSError):
        pass
    return resp


class ForwardProxy(_Threaded):
    """An HTTP proxy on loopback: forwards absolute-URI requests and tunnels CONNECT. Records
    each request line with its ``Proxy-Authorization``; refuses with 407 when ``credentials``
    (``user:password``) are set and not given."""

    def __init__(self, credentials: str | None = None) -> None:
        super().__init__()
        self.credentials = credentials
        self.seen: list[tuple[str, str, str | None]] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        auth = headers.get("proxy-authorization")
        self.seen.append((method, target, auth))
        if self.credentials is not None:
            wanted = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if auth != wanted:
                writer.write(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="p"\r\nContent-Length: 0\r\n'
                    b"Connection: close\r\n\r\n"
                )
                await writer.drain()
                writer.close()
                return
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await _pipe_both(reader, writer, up_reader, up_writer)
            return
        # Absolute-form: http://host:port/path -> origin-form to that host.
        rest = target.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        up_reader, up_writer = await asyncio.open_connection(host, int(port or 80))
        # One request per connection (the upstream closes after answering), so every request
        # line is seen, and rewritten, here.
        kept = [f"{method} /{path} HTTP/1.1", "Connection: close"] + [
            line
            for line in lines[1:]
            if line and not line.lower().startswith(("proxy-", "connection:", "keep-alive:"))
        ]
        up_writer.write(("\r\n".join(kept) + "\r\n\r\n").encode("latin-1"))
        await _pipe_both(reader, writer, up_reader, up_writer)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
