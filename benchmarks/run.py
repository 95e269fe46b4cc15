"""Signed customer upserts/s: the SDK vs the floor, the usual alternatives and the signing ceiling.

Every contender sends the same signed ``POST /svc/payment/api/v1/openapi/customers`` (body
``{"customer": {...}}``, the four signing headers from the SDK's own ``Signer``) to a minimal
keep-alive peer running in a separate process (``peer.py``), so only client work is measured.
Contenders run interleaved, round-robin, for several rounds in one run; ratios are computed per
round against a reference measured in that same round, then summarised as min/median/max.

    python benchmarks/run.py            # full run, a few minutes; writes benchmarks/results.json
    python benchmarks/run.py --quick    # smoke run, well under a minute
    python benchmarks/plot.py           # benchmarks/throughput.png from results.json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import httpx
import requests
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    APP_ID,
    HERE,
    PATH,
    NullSigner,
    Peer,
    cpu_model,
    customer,
    default_server_cpu,
    make_signer,
    peer_process,
    percentile,
    spread,
    upsert_body,
)

import wonder_async
import wonder_sync
from wonder_async._signing import Signer

ASYNC_CONCURRENCY = (1, 16, 64)
SYNC_THREADS = (1, 8)
ROUND_TIMEOUT = 120.0  # seconds; a round that takes longer is a hang, not a measurement

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
    """Signs on one thread per core; finished signatures return to the loop in batches (one
    loop wake-up per batch, not per request as with ``run_in_executor``)."""

    def __init__(self, signer: SignerLike) -> None:
        self.signer = signer
        self.pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="floor-sign")
        self.done: list[tuple[asyncio.Future[dict[str, str]], dict[str, str]]] = []
        self.lock = threading.Lock()
        self.wake_pending = False

    def sign(self, body: bytes) -> asyncio.Future[dict[str, str]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, str]] = loop.create_future()
        self.pool.submit(self._job, loop, future, body)
        return future

    def _job(
        self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[dict[str, str]], body: bytes
    ) -> None:
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

    def __init__(self, signer: SignerLike, *, offload: bool = True) -> None:
        self.signer = signer
        self.allow_offload = offload
        self.offload = False
        self.batch = BatchSigner(signer)
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

    def __init__(self, signer: Signer, *, null: NullSigner | None = None) -> None:
        self.signer = signer
        self.null = null
        self.client: wonder_async.WonderClient | None = None

    async def start(self, base_url: str) -> None:
        self.client = wonder_async.WonderClient(
            app_id=self.signer.app_id, private_key=self.signer._key, base_url=base_url
        )
        if self.null is not None:
            # Benchmark-only: the same pipeline with the RSA work taken out.
            self.client._shared.signer = self.null  # type: ignore[assignment]

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

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.client: wonder_sync.WonderClient | None = None

    def start(self, base_url: str) -> None:
        self.client = wonder_sync.WonderClient(
            app_id=self.signer.app_id, private_key=self.signer._key, base_url=base_url
        )

    def one(self, i: int) -> None:
        assert self.client is not None
        c = self.client.customers.upsert(**customer(i))
        if c.uuid is None:
            raise RuntimeError("no uuid")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


# --- the harness ----------------------------------------------------------------------------


@dataclass
class Config:
    key: str  # contender id, e.g. "wonder_async"
    label: str
    kind: str  # "async" | "sync" | "sign"
    conc: int
    ref: str | None  # contender id of this row's reference at the same concurrency
    metric: str = "rps"  # what the ratio compares: "rps" (higher is better) or "cpu"
    section: str = ""


@dataclass
class Record:
    key: str
    conc: int
    round: int
    n: int
    wall: float
    cpu: float  # client process CPU seconds (all threads)
    p50: float
    p99: float
    server_cpu: float  # the peer process's CPU seconds over the same round

    @property
    def rps(self) -> float:
        return self.n / self.wall

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.n * 1e6

    @property
    def server_us(self) -> float:
        return self.server_cpu / self.n * 1e6


@dataclass
class Bench:
    signer: Signer
    peer: Peer
    loop: asyncio.AbstractEventLoop
    async_contenders: dict[str, AsyncContender] = field(default_factory=dict)
    sync_contenders: dict[str, SyncContender] = field(default_factory=dict)
    pools: dict[tuple[str, int], ThreadPoolExecutor] = field(default_factory=dict)


async def _drive_async(one: Callable[[int], Awaitable[None]], n: int, conc: int) -> list[float]:
    latencies = [0.0] * n
    todo = iter(range(n))
    clock = time.perf_counter

    async def worker() -> None:
        for i in todo:
            t0 = clock()
            await one(i)
            latencies[i] = clock() - t0

    await asyncio.gather(*(worker() for _ in range(min(conc, n))))
    return latencies


def _drive_threads(
    one: Callable[[int], None], n: int, pool: ThreadPoolExecutor, threads: int
) -> list[float]:
    latencies = [0.0] * n
    todo = iter(range(n))  # next() on a range iterator is atomic under the GIL
    clock = time.perf_counter

    def worker() -> None:
        for i in todo:
            t0 = clock()
            one(i)
            latencies[i] = clock() - t0

    futures = [pool.submit(worker) for _ in range(threads)]
    for f in futures:
        f.result(timeout=ROUND_TIMEOUT)
    return latencies


def _sign_only(signer: Signer) -> Callable[[int], None]:
    def one(i: int) -> None:
        signer.sign("POST", PATH, upsert_body(i))

    return one


def run_one(bench: Bench, cfg: Config, n: int, rnd: int) -> Record:
    gc.collect()
    server0 = bench.peer.cpu_seconds()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if cfg.kind == "async":
        contender = bench.async_contenders[cfg.key]
        contender.prepare(cfg.conc)
        lat = bench.loop.run_until_complete(
            asyncio.wait_for(_drive_async(contender.one, n, cfg.conc), ROUND_TIMEOUT)
        )
    else:
        pool = bench.pools[(cfg.key, cfg.conc)]
        if cfg.kind == "sync":
            lat = _drive_threads(bench.sync_contenders[cfg.key].one, n, pool, cfg.conc)
        else:
            lat = _drive_threads(_sign_only(bench.signer), n, pool, cfg.conc)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server = bench.peer.cpu_seconds() - server0
    lat.sort()
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    return Record(cfg.key, cfg.conc, rnd, n, wall, cpu, p50, p99, server)


def build_configs(emulator: bool) -> list[Config]:
    cpus = os.cpu_count() or 1
    configs: list[Config] = []
    async_rows = [
        ("floor", "floor: aiohttp + best signing", None),
        ("wonder_async", "wonder_async.WonderClient", "floor"),
        ("aiohttp_inline", "aiohttp + inline signing", "floor"),
        ("httpx", "httpx.AsyncClient + signing", "floor"),
    ]
    for c in ASYNC_CONCURRENCY:
        for key, label, ref in async_rows:
            configs.append(Config(key, label, "async", c, ref, section="async (concurrency)"))
    for t in SYNC_THREADS:
        configs.append(
            Config("requests", "requests.Session + signing", "sync", t, None, section="sync")
        )
        configs.append(
            Config("wonder_sync", "wonder_sync.WonderClient", "sync", t, "requests", section="sync")
        )
    if not emulator:  # constant headers would (rightly) be refused by the emulator
        for c in ASYNC_CONCURRENCY:
            configs.append(
                Config(
                    "aiohttp_nosign",
                    "raw aiohttp, signing excluded",
                    "async",
                    c,
                    None,
                    "cpu",
                    "signing excluded: CPU/request",
                )
            )
            if c > 1:
                configs.append(
                    Config(
                        "aiohttp_nosign_hop",
                        "raw aiohttp + signing-thread hop",
                        "async",
                        c,
                        "aiohttp_nosign",
                        "cpu",
                        "signing excluded: CPU/request",
                    )
                )
            configs.append(
                Config(
                    "wonder_async_nosign",
                    "wonder_async, signing excluded",
                    "async",
                    c,
                    "aiohttp_nosign",
                    "cpu",
                    "signing excluded: CPU/request",
                )
            )
    configs.append(
        Config(
            "ceiling",
            f"signing ceiling: Signer.sign x{cpus} threads",
            "sign",
            cpus,
            None,
            section="no I/O",
        )
    )
    return configs


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


def rotate(configs: list[Config], by: int) -> Iterator[Config]:
    k = by % len(configs)
    yield from configs[k:] + configs[:k]


# --- summary --------------------------------------------------------------------------------


def records_of(records: list[Record], key: str, conc: int) -> dict[int, Record]:
    return {r.round: r for r in records if r.key == key and r.conc == conc}


def ratios(
    records: list[Record], a: tuple[str, int], b: tuple[str, int], metric: str = "rps"
) -> list[float]:
    """Per-round ratio of ``a`` to ``b`` (throughput or CPU/request), rounds where both ran."""
    ra, rb = records_of(records, *a), records_of(records, *b)
    out = []
    for rnd in sorted(ra.keys() & rb.keys()):
        if metric == "rps":
            out.append(ra[rnd].rps / rb[rnd].rps)
        else:
            out.append(ra[rnd].cpu_us / rb[rnd].cpu_us)
    return out


def _fmt3(v: tuple[float, float, float], digits: int = 2) -> str:
    return f"{v[0]:.{digits}f}/{v[1]:.{digits}f}/{v[2]:.{digits}f}"


def summarise(configs: list[Config], records: list[Record]) -> list[dict[str, Any]]:
    rows = []
    for cfg in configs:
        recs = list(records_of(records, cfg.key, cfg.conc).values())
        if not recs:
            continue
        row: dict[str, Any] = {
            "key": cfg.key,
            "label": cfg.label,
            "kind": cfg.kind,
            "conc": cfg.conc,
            "section": cfg.section,
            "rounds": len(recs),
            "rps": spread([r.rps for r in recs]),
            "p50_ms": spread([r.p50 * 1e3 for r in recs])[1],
            "p99_ms": spread([r.p99 * 1e3 for r in recs])[1],
            "cpu_us": spread([r.cpu_us for r in recs]),
            "server_us": spread([r.server_us for r in recs])[1],
            "ref": cfg.ref,
            "metric": cfg.metric,
            "ratio": None,
        }
        if cfg.ref is not None:
            rs = ratios(records, (cfg.key, cfg.conc), (cfg.ref, cfg.conc), cfg.metric)
            row["ratio"] = spread(rs) if rs else None
        rows.append(row)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'contender':<40} {'conc':>4}  {'req/s med':>9} {'[min-max]':>13}  {'p50 ms':>7} "
        f"{'p99 ms':>7}  {'CPU us/req':>10} {'server':>6}  "
        f"{'vs reference (per round) min/med/max':<36}"
    )
    print(head)
    print("-" * len(head))
    section = None
    for row in rows:
        if row["section"] != section:
            section = row["section"]
            print(f"[{section}]")
        lo, med, hi = row["rps"]
        ratio = ""
        if row["ratio"] is not None:
            what = "x req/s" if row["metric"] == "rps" else "x CPU/req"
            ratio = f"{_fmt3(row['ratio'])} {what} of {row['ref']}"
        print(
            f"{row['label']:<40} {row['conc']:>4}  {med:>9.0f} {f'[{lo:.0f}-{hi:.0f}]':>13}  "
            f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f}  {row['cpu_us'][1]:>10.0f} "
            f"{row['server_us']:>6.0f}  {ratio}"
        )


def goals(records: list[Record], emulator: bool) -> list[dict[str, Any]]:
    cpus = os.cpu_count() or 1
    checks: list[tuple[str, tuple[str, int], tuple[str, int], str, float, str]] = []
    for c in ASYNC_CONCURRENCY:
        checks.append(
            (
                f"wonder_async >= 0.95x floor @ c={c}",
                ("wonder_async", c),
                ("floor", c),
                "rps",
                0.95,
                ">=",
            )
        )
    checks += [
        (
            "wonder_async >= 1.15x inline-signing aiohttp @ c=64",
            ("wonder_async", 64),
            ("aiohttp_inline", 64),
            "rps",
            1.15,
            ">=",
        ),
        (
            "wonder_async >= 3x httpx+signing @ c=64",
            ("wonder_async", 64),
            ("httpx", 64),
            "rps",
            3.0,
            ">=",
        ),
        (
            "wonder_async @ c=64 >= 0.85x signing ceiling",
            ("wonder_async", 64),
            ("ceiling", cpus),
            "rps",
            0.85,
            ">=",
        ),
    ]
    if not emulator:
        for c in ASYNC_CONCURRENCY:
            checks.append(
                (
                    f"CPU/req ex-signing <= 1.25x raw aiohttp @ c={c}",
                    ("wonder_async_nosign", c),
                    ("aiohttp_nosign", c),
                    "cpu",
                    1.25,
                    "<=",
                )
            )
        for c in ASYNC_CONCURRENCY[1:]:
            checks.append(
                (
                    f"(info) CPU/req ex-signing <= 1.25x raw aiohttp + hop @ c={c}",
                    ("wonder_async_nosign", c),
                    ("aiohttp_nosign_hop", c),
                    "cpu",
                    1.25,
                    "<=",
                )
            )
    checks += [
        (
            "wonder_sync >= 1.2x requests+signing @ 1 thread",
            ("wonder_sync", 1),
            ("requests", 1),
            "rps",
            1.2,
            ">=",
        ),
        (
            "wonder_sync >= 1.8x requests+signing @ 8 threads",
            ("wonder_sync", 8),
            ("requests", 8),
            "rps",
            1.8,
            ">=",
        ),
    ]
    out = []
    for name, a, b, metric, target, op in checks:
        rs = ratios(records, a, b, metric)
        if not rs:
            continue
        s = spread(rs)
        met = s[1] >= target if op == ">=" else s[1] <= target
        out.append({"goal": name, "ratio": s, "target": target, "op": op, "met": met})
    return out


def print_goals(rows: list[dict[str, Any]]) -> None:
    print("\nGoals (verdict on the median of per-round ratios; min/med/max shown)")
    for g in rows:
        verdict = "MET   " if g["met"] else "MISSED"
        print(f"  {verdict} {g['goal']:<66} {_fmt3(g['ratio'])}")


def cpu_budget(rows: list[dict[str, Any]], cpus: int) -> dict[str, float] | None:
    """What the measured CPU costs allow at best: ``cpus`` cores / CPU per request."""
    by = {(r["key"], r["conc"]): r for r in rows}
    w, c = by.get(("wonder_async", 64)), by.get(("ceiling", cpus))
    if w is None or c is None:
        return None
    server_us = w["server_us"] if w["server_us"] == w["server_us"] else 0.0  # NaN: no psutil
    per_req = w["cpu_us"][1] + server_us
    bound = cpus / per_req * 1e6
    return {
        "client_us": w["cpu_us"][1],
        "server_us": server_us,
        "sign_us": c["cpu_us"][1],
        "bound_rps": bound,
        "bound_ratio": bound / c["rps"][1],
    }


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 short rounds")
    parser.add_argument("--requests", type=int, default=None, help="requests per contender/round")
    parser.add_argument("--rounds", type=int, default=None, help="measured rounds")
    parser.add_argument("--json", type=Path, default=None, help="write raw and summary results")
    parser.add_argument(
        "--server-cpu",
        type=int,
        default=None,
        help="core to pin the peer to (default: the last core; -1: no pinning)",
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="run against wonder_async.testing.Emulator (checks signatures)",
    )
    parser.add_argument("--only", default=None, help="comma-separated contender ids to run")
    parser.add_argument("--plot", action="store_true", help="also write throughput.png")
    args = parser.parse_args(argv)

    n = args.requests or (300 if args.quick else 1200)
    rounds = args.rounds or (2 if args.quick else 6)
    warmup = max(20, min(n, 300) // 2)
    json_path: Path | None = args.json
    if json_path is None and not args.quick:
        json_path = HERE / ("results-emulator.json" if args.emulator else "results.json")
    server_cpu = default_server_cpu() if args.server_cpu is None else args.server_cpu
    if server_cpu is not None and server_cpu < 0:
        server_cpu = None

    signer = make_signer()
    extra: list[str] = []
    if args.emulator:
        try:
            import wonder_async.testing  # noqa: F401
        except ImportError as exc:
            print(f"--emulator: wonder_async.testing is not importable ({exc}); skipped")
            return 0
        from cryptography.hazmat.primitives import serialization

        pem = signer._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"wonder-bench-{os.getpid()}.pem"  # noqa: S108
        key_file.write_bytes(pem)
        extra = ["--emulator-public-key", str(key_file), "--app-id", APP_ID]

    configs = build_configs(args.emulator)
    if args.only:
        wanted = set(args.only.split(","))
        configs = [c for c in configs if c.key in wanted]
    cpus = os.cpu_count() or 1
    server = "wonder_async.testing.Emulator" if args.emulator else "minimal asyncio peer"
    pin = f"pinned to core {server_cpu}" if server_cpu is not None else "not pinned"
    meta: dict[str, Any] = {
        "cpus": cpus,
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "httpx": httpx.__version__,
        "requests": requests.__version__,
        "server": server,
        "server_cpu": server_cpu,
        "requests_per_round": n,
        "rounds": rounds,
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "loadavg_before": os.getloadavg(),
    }
    print(
        f"{cpus} cores ({meta['cpu_model']}), Python {meta['python']}, aiohttp {meta['aiohttp']}, "
        f"httpx {meta['httpx']}, requests {meta['requests']}\n"
        f"server: {server} in a separate process, {pin}; client process not pinned\n"
        f"{rounds} rounds x {len(configs)} contender/concurrency pairs x {n} requests, "
        f"round-robin (+1 warm-up round of {warmup})",
        flush=True,
    )
    started = time.perf_counter()
    records: list[Record] = []
    loop = asyncio.new_event_loop()
    try:
        with peer_process(server_cpu, extra) as peer:
            bench = Bench(signer, peer, loop)
            try:
                setup(bench, configs)
                for cfg in configs:
                    run_one(bench, cfg, warmup, -1)
                for rnd in range(rounds):
                    for cfg in rotate(configs, rnd):
                        records.append(run_one(bench, cfg, n, rnd))
                    print(
                        f"  round {rnd + 1}/{rounds} done ({time.perf_counter() - started:.0f}s)",
                        flush=True,
                    )
            finally:
                teardown(bench)
    finally:
        loop.close()
        if extra:
            Path(extra[1]).unlink(missing_ok=True)

    meta["loadavg_after"] = os.getloadavg()
    rows = summarise(configs, records)
    print(
        f"\nSigned customer upserts against the {server} "
        f"(median over {rounds} rounds of {n} requests)"
    )
    print_table(rows)
    goal_rows = goals(records, args.emulator)
    print_goals(goal_rows)
    budget = cpu_budget(rows, cpus)
    if budget is not None:
        meta["cpu_budget"] = budget
        print(
            f"\nCPU budget at c=64: wonder_async {budget['client_us']:.0f} us client + "
            f"{budget['server_us']:.0f} us peer per request; the signing ceiling needs "
            f"{budget['sign_us']:.0f} us per signature. On {cpus} cores that bounds wonder_async "
            f"at ~{budget['bound_rps']:.0f} req/s = {budget['bound_ratio']:.2f}x the ceiling."
        )
    print(
        f"load average before/after: {meta['loadavg_before'][0]:.2f}/"
        f"{meta['loadavg_after'][0]:.2f} (other processes compete for the same cores)"
    )
    print(f"\ntotal {time.perf_counter() - started:.0f}s")
    if json_path is not None:
        doc = {
            "meta": meta,
            "summary": rows,
            "goals": goal_rows,
            "records": [r.__dict__ for r in records],
        }
        json_path.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"results written to {json_path}")
        if args.plot:
            from plot import plot

            print(f"plot written to {plot(json_path, json_path.with_name('throughput.png'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
