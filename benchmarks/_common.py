"""What every benchmark contender shares: the key, the request, the peer process, statistics,
and the drivers that send ``n`` requests at a concurrency and time each one (``run.py``,
``handover.py`` and ``profile_loop.py`` measure with them).

The contenders themselves and the harness that starts them (``Bench``, ``setup``,
``teardown``) are in ``contenders.py``; the records and tables in ``report.py``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import rsa

from wonder_async._signing import Signer
from wonder_async._wire import Paths

HERE: Final = Path(__file__).resolve().parent
APP_ID: Final = "d900da8b-6e16-4a85-8a66-05d29ac53f24"
PATH: Final = Paths.CUSTOMERS
SIGNED_HEADERS: Final = ("Credential", "Nonce", "Signature", "X-Request-ID")
ASYNC_CONCURRENCY: Final = (1, 16, 64)  # run.py: concurrencies of the async contenders
SYNC_THREADS: Final = (1, 8)  # run.py: threads of the blocking contenders
ROUND_TIMEOUT: Final = 120.0  # seconds; a round that takes longer is a hang, not a measurement


def make_signer() -> Signer:
    """One RSA-2048 key and the SDK's Signer: every contender signs with this implementation."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Signer(APP_ID, key)


class NullSigner:
    """Returns fixed, well-formed headers without any crypto: to measure everything else."""

    __slots__ = ("_headers", "app_id")

    def __init__(self, real: Signer) -> None:
        self.app_id = real.app_id
        self._headers = real.sign("POST", PATH, b"{}")

    def sign(self, method: str, uri: str, body: bytes) -> dict[str, str]:
        return dict(self._headers)

    def sign_random(self, method: str, uri: str, body: bytes, random: bytes) -> dict[str, str]:
        return self.sign(method, uri, body)


def customer(i: int) -> dict[str, str]:
    """The upsert fields of request ``i`` (distinct reference numbers, as in a bulk sync)."""
    return {"reference_number": f"bench-{i:07d}", "name": "Tai Man", "phone": "12345678"}


def upsert_body(i: int) -> bytes:
    """The exact bytes the SDK sends for ``customer(i)``: compact JSON, signed as sent."""
    return json.dumps({"customer": customer(i)}, separators=(",", ":")).encode()


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (``q`` in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """``(min, median, max)``."""
    return min(values), statistics.median(values), max(values)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


class Peer:
    """The running peer process: its base URL and a reader of its CPU time."""

    def __init__(self, base_url: str, pid: int) -> None:
        self.base_url = base_url
        self.pid = pid
        try:
            self._proc: Any = importlib.import_module("psutil").Process(pid)
        except ImportError:  # psutil is a dev extra; without it the server column stays empty
            self._proc = None

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the peer has used so far (NaN without psutil)."""
        if self._proc is None:
            return float("nan")
        t = self._proc.cpu_times()
        return float(t.user + t.system)


@contextmanager
def peer_process(cpu: int | None, extra: Sequence[str] = ()) -> Iterator[Peer]:
    """Start ``peer.py`` in its own process (pinned to ``cpu`` if given); yield it."""
    cmd = [sys.executable, str(HERE / "peer.py"), "--port", "0", *extra]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"peer did not start (said {line!r})")
        yield Peer(f"http://127.0.0.1:{int(line.split()[1])}", proc.pid)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def default_server_cpu() -> int | None:
    """The last core this process may use (the peer's pin), or None without affinity support."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[-1] if len(cpus) > 1 else None


# --- the drivers ----------------------------------------------------------------------------


async def drive_async(one: Callable[[int], Awaitable[None]], n: int, conc: int) -> list[float]:
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


def drive_threads(
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


def sign_only(signer: Signer) -> Callable[[int], None]:
    def one(i: int) -> None:
        signer.sign("POST", PATH, upsert_body(i))

    return one
