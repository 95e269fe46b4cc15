"""What every benchmark contender shares: the key, the request, the peer process, statistics."""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
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
