"""The contenders `run.py` measures: each sends the same signed customer upsert its own way.

Async ones (aiohttp with batched/inline signing, httpx, `wonder_async`) and blocking ones
(requests, `wonder_sync`), behind the two small protocols the harness drives; and the
harness's side of them: ``Bench`` (the started contenders, their thread pools), ``setup``
(which contender a config's key names) and ``teardown``. The drivers are in ``_common.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import httpx
import requests
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PATH,
    NullSigner,
    Peer,
    customer,
    upsert_body,
)

import wonder_async
import wonder_sync
from wonder_async import _loops
from wonder_async._sign_pool import SignPool
from wonder_async._signing import RANDOM_PER_SIGNATURE, Signer

if TYPE_CHECKING:
    from report import Config

SignerLike = Signer | NullSigner


class AsyncContender(Protocol):
    async def start(self, base_url: str) -> None: ...
    def prepare(self, concurrency: int) -> None: ...
    async def one(self, i: int) -> None: ...
    async def close(self) -> None: ...


class SyncContender(Protocol):
    def start(self, base_url: str) -> None: ...
    def one(self, i: int) -> None: ...
    def close(self) -> None: ...


def _check(doc: Any) -> None:
    if doc.get("code") != 200 or "customer" not in doc["data"]:
        raise RuntimeError(f"unexpected response {doc!r}")


# --- async contenders -----------------------------------------------------------------------


class BatchSigner:
    """Signs on one thread per core, each thread reading the CSPRNG once per 64 signatures;
    finished signatures return to the loop in batches (one loop wake-up per batch, not per
    request as with ``run_in_executor``)."""

    def __init__(self, signer: SignerLike, *, tuned: bool = True) -> None:
        self.signer = signer
        self.tuned = tuned  # False: as before issue 26 (a CSPRNG read per signature)
        self.pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="floor-sign")
        self.done: list[tuple[asyncio.Future[dict[str, str]], dict[str, str]]] = []
        self.lock = threading.Lock()
        self.wake_pending = False
        self.local = threading.local()

    def sign(self, body: bytes) -> asyncio.Future[dict[str, str]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, str]] = loop.create_future()
        self.pool.submit(self._job, loop, future, body)
        return future

    def _random(self) -> bytes:
        local = self.local
        buf: bytes = getattr(local, "buf", b"")
        used: int = getattr(local, "used", 0)
        if used >= len(buf):
            buf, used = os.urandom(RANDOM_PER_SIGNATURE * 64), 0
            local.buf = buf
        local.used = used + RANDOM_PER_SIGNATURE
        return buf[used : used + RANDOM_PER_SIGNATURE]

    def _job(
        self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[dict[str, str]], body: bytes
    ) -> None:
        if self.tuned:
            headers = self.signer.sign_random("POST", PATH, body, self._random())
        else:
            headers = self.signer.sign("POST", PATH, body)
        with self.lock:
            self.done.append((future, headers))
            if self.wake_pending:
                return
            self.wake_pending = True
        loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self.lock:
            done, self.done = self.done, []
            self.wake_pending = False
        for future, headers in done:
            if not future.done():
                future.set_result(headers)


class FloorAiohttp:
    """Hand-written aiohttp, one tuned session; signs inline when alone, else on all cores."""

    def __init__(self, signer: SignerLike, *, offload: bool = True, tuned: bool = True) -> None:
        self.signer = signer
        self.allow_offload = offload
        self.offload = False
        self.batch = BatchSigner(signer, tuned=tuned)
        self.session: aiohttp.ClientSession | None = None
        self.url = URL()

    async def start(self, base_url: str) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            headers={"Content-Type": "application/json"},
            skip_auto_headers=("Accept-Encoding",),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.url = URL(base_url + PATH, encoded=True)

    def prepare(self, concurrency: int) -> None:
        self.offload = self.allow_offload and concurrency > 1

    async def one(self, i: int) -> None:
        body = upsert_body(i)
        if self.offload:
            headers = await self.batch.sign(body)
        else:
            headers = self.signer.sign("POST", PATH, body)
        assert self.session is not None
        async with self.session.post(self.url, data=body, headers=headers) as resp:
            raw = await resp.read()
        _check(json.loads(raw))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        self.batch.pool.shutdown()


class InlineAiohttp:
    """What most people write: a default aiohttp session, signing inline on the loop."""

    def __init__(self, signer: SignerLike) -> None:
        self.signer = signer
        self.session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self, base_url: str) -> None:
        self.session = aiohttp.ClientSession()
        self.url = base_url + PATH

    def prepare(self, concurrency: int) -> None:
        pass

    async def one(self, i: int) -> None:
        body = upsert_body(i)
        headers = self.signer.sign("POST", PATH, body)
        headers["Content-Type"] = "application/json"
        assert self.session is not None
        async with self.session.post(self.url, data=body, headers=headers) as resp:
            _check(await resp.json())

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


class HttpxAsync:
    """httpx.AsyncClient with inline signing (pool large enough for 64 in flight)."""

    def __init__(self, signer: SignerLike) -> None:
        self.signer = signer
        self.client: httpx.AsyncClient | None = None
        self.url = ""

    async def start(self, base_url: str) -> None:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        self.client = httpx.AsyncClient(limits=limits, timeout=30.0)
        self.url = base_url + PATH

    def prepare(self, concurrency: int) -> None:
        pass

    async def one(self, i: int) -> None:
        body = upsert_body(i)
        headers = self.signer.sign("POST", PATH, body)
        headers["Content-Type"] = "application/json"
        assert self.client is not None
        resp = await self.client.post(self.url, content=body, headers=headers)
        _check(resp.json())

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()


class WonderAsync:
    """The SDK: ``wonder_async.WonderClient(...).customers.upsert(...)``."""

    def __init__(
        self, signer: Signer, *, null: NullSigner | None = None, before: bool = False
    ) -> None:
        self.signer = signer
        self.null = null
        self.before = before
        self.client: wonder_async.WonderClient | None = None

    async def start(self, base_url: str) -> None:
        self.client = wonder_async.WonderClient(
            app_id=self.signer.app_id, private_key=self.signer._key, base_url=base_url
        )
        if self.null is not None:
            # Benchmark-only: the same pipeline with the RSA work taken out.
            self.client._shared.signer = self.null  # type: ignore[assignment]
        if self.before:
            _pool_as_before(self.client)

    def prepare(self, concurrency: int) -> None:
        pass

    async def one(self, i: int) -> None:
        assert self.client is not None
        c = await self.client.customers.upsert(**customer(i))
        if c.uuid is None:
            raise RuntimeError("no uuid")

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


def _pool_as_before(client: wonder_async.WonderClient) -> None:
    """Benchmark-only: the client's signing threads as before issue 26 (one CSPRNG read per
    signature)."""
    shared = client._shared
    pool = shared._pool = SignPool(shared.signer, shared.sign_threads)
    pool.random_batch, pool.deliver_batch = 1, 1


# --- sync contenders ------------------------------------------------------------------------


class RequestsSigning:
    """requests.Session (one per thread: Session is not thread-safe) + inline signing."""

    def __init__(self, signer: SignerLike) -> None:
        self.signer = signer
        self.local = threading.local()
        self.sessions: list[requests.Session] = []
        self.url = ""

    def start(self, base_url: str) -> None:
        self.url = base_url + PATH

    def one(self, i: int) -> None:
        session: requests.Session | None = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
            self.sessions.append(session)
        body = upsert_body(i)
        headers = self.signer.sign("POST", PATH, body)
        headers["Content-Type"] = "application/json"
        resp = session.post(self.url, data=body, headers=headers, timeout=30)
        _check(resp.json())

    def close(self) -> None:
        for s in self.sessions:
            s.close()


class WonderSync:
    """The blocking SDK: one ``wonder_sync.WonderClient`` shared by all threads."""

    def __init__(
        self,
        signer: Signer,
        *,
        callers_sign: bool = False,
        uvloop: bool = True,
        old_pool: bool = False,
    ) -> None:
        self.signer = signer
        self.callers_sign = callers_sign
        self.uvloop = uvloop
        self.old_pool = old_pool
        self.client: wonder_sync.WonderClient | None = None

    def start(self, base_url: str) -> None:
        self.client = wonder_sync.WonderClient(
            app_id=self.signer.app_id, private_key=self.signer._key, base_url=base_url
        )
        if self.callers_sign:  # benchmark-only: every calling thread signs (before issue 26)
            self.client._SIGN_HERE_BELOW = 1 << 30
        # The loop thread starts now, on uvloop (when installed) or, as before issue 26, not.
        saved = os.environ.get(_loops.ENV)
        os.environ[_loops.ENV] = "1" if self.uvloop else "0"
        try:
            self.client._portal.get()
        finally:
            if saved is None:
                del os.environ[_loops.ENV]
            else:
                os.environ[_loops.ENV] = saved
        if self.old_pool:
            _pool_as_before(self.client._async)

    def one(self, i: int) -> None:
        assert self.client is not None
        c = self.client.customers.upsert(**customer(i))
        if c.uuid is None:
            raise RuntimeError("no uuid")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


# --- the harness's side: start, keep and close the contenders -------------------------------


@dataclass
class Bench:
    signer: Signer
    peer: Peer
    loop: asyncio.AbstractEventLoop
    async_contenders: dict[str, AsyncContender] = field(default_factory=dict)
    sync_contenders: dict[str, SyncContender] = field(default_factory=dict)
    pools: dict[tuple[str, int], ThreadPoolExecutor] = field(default_factory=dict)


def setup(bench: Bench, configs: list[Config]) -> None:
    signer = bench.signer
    null = NullSigner(signer)
    factories: dict[str, Callable[[], Any]] = {
        "floor": lambda: FloorAiohttp(signer),
        "aiohttp_inline": lambda: InlineAiohttp(signer),
        "httpx": lambda: HttpxAsync(signer),
        "wonder_async": lambda: WonderAsync(signer),
        "aiohttp_nosign": lambda: FloorAiohttp(null, offload=False),
        "aiohttp_nosign_hop": lambda: FloorAiohttp(null),
        "wonder_async_nosign": lambda: WonderAsync(signer, null=null),
        "requests": lambda: RequestsSigning(signer),
        "wonder_sync": lambda: WonderSync(signer),
        "wonder_sync_callers_sign": lambda: WonderSync(signer, callers_sign=True),
        "wonder_sync_asyncio": lambda: WonderSync(signer, uvloop=False),
        "wonder_sync_before": lambda: WonderSync(
            signer, callers_sign=True, uvloop=False, old_pool=True
        ),
        "wonder_async_before": lambda: WonderAsync(signer, before=True),
        "floor_before": lambda: FloorAiohttp(signer, tuned=False),
    }
    for cfg in configs:
        if cfg.kind == "async" and cfg.key not in bench.async_contenders:
            a: AsyncContender = factories[cfg.key]()
            bench.loop.run_until_complete(a.start(bench.peer.base_url))
            bench.async_contenders[cfg.key] = a
        elif cfg.kind == "sync" and cfg.key not in bench.sync_contenders:
            s: SyncContender = factories[cfg.key]()
            s.start(bench.peer.base_url)
            bench.sync_contenders[cfg.key] = s
        if cfg.kind in ("sync", "sign"):
            bench.pools.setdefault(
                (cfg.key, cfg.conc), ThreadPoolExecutor(cfg.conc, thread_name_prefix=cfg.key)
            )


def teardown(bench: Bench) -> None:
    for a in bench.async_contenders.values():
        bench.loop.run_until_complete(a.close())
    for s in bench.sync_contenders.values():
        s.close()
    for pool in bench.pools.values():
        pool.shutdown()
