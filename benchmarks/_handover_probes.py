"""The probes ``handover.py`` measures with: where a signed request's CPU goes.

Signers for the experiments (``SleepSigner``: constant headers after sleeping one signature;
``TimedSigner``: ``Signer.sign``'s steps, each signature's wall and thread-CPU time recorded;
``NiceSigner``: the signing threads lowered to ``nice``; ``signer_for`` picks one by name),
per-thread CPU and run-queue delay (``thread_cpu``, from Linux schedstat) and ``Counts``, the
hand-over's events counted by wrapping the signing pool's private hooks. The measurement
itself and its tables stay in ``handover.py``.
"""

from __future__ import annotations

import base64
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import NullSigner

from wonder_async import _signing
from wonder_async._signing import ALGORITHM, Signer


class SleepSigner(NullSigner):
    """Constant headers after sleeping about one signature (GIL released, no CPU used)."""

    def __init__(self, real: Signer, seconds: float) -> None:
        super().__init__(real)
        self.seconds = seconds

    def sign(self, method: str, uri: str, body: bytes) -> dict[str, str]:
        time.sleep(self.seconds)
        return dict(self._headers)


class TimedSigner:
    """``Signer.sign``'s steps with each signature's wall and thread-CPU time recorded."""

    def __init__(self, real: Signer) -> None:
        self.app_id = real.app_id
        self._key = real._key
        self._padding, self._hash = real._padding, real._hash
        self.samples: list[tuple[float, float, float, float]] = []  # wall, cpu, rsa wall, rsa cpu

    def sign(self, method: str, uri: str, body: bytes) -> dict[str, str]:
        return self.sign_random(method, uri, body, os.urandom(40))

    def sign_random(self, method: str, uri: str, body: bytes, random: bytes) -> dict[str, str]:
        wall, cpu = time.perf_counter, time.thread_time
        w0, c0 = wall(), cpu()
        request_time = _signing._current_request_time()
        nonce = _signing._nonce_from(random[:24]) or _signing.new_nonce()
        message = _signing.signature_message(
            request_time=request_time,
            algorithm=ALGORITHM,
            nonce=nonce,
            method=method,
            uri=uri,
            body=body,
        )
        w1, c1 = wall(), cpu()
        raw = self._key.sign(message.encode(), self._padding, self._hash)
        w2, c2 = wall(), cpu()
        headers = {
            "Credential": f"{self.app_id}/{request_time}/{ALGORITHM}",
            "Nonce": nonce,
            "Signature": base64.b64encode(raw).decode(),
            "X-Request-ID": _signing._uuid4_text(random[24:]),
        }
        self.samples.append((wall() - w0, cpu() - c0, w2 - w1, c2 - c1))
        return headers


class NiceSigner:
    """Experiment: the wrapped signer, its threads lowered to ``nice`` on their first call."""

    def __init__(self, inner: Any, nice: int) -> None:
        self.inner, self.nice, self.app_id = inner, nice, inner.app_id
        self._local = threading.local()
        self.samples = getattr(inner, "samples", None)

    def _lower(self) -> None:
        if not getattr(self._local, "done", False):
            self._local.done = True
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.nice)

    def sign(self, method: str, uri: str, body: bytes) -> dict[str, str]:
        self._lower()
        headers: dict[str, str] = self.inner.sign(method, uri, body)
        return headers

    def sign_random(self, method: str, uri: str, body: bytes, random: bytes) -> dict[str, str]:
        self._lower()
        headers: dict[str, str] = self.inner.sign_random(method, uri, body, random)
        return headers


def _run_delay(native_id: int | None) -> float:
    """Seconds the thread has waited on a run queue (runnable, not running; Linux only)."""
    try:
        return int(Path(f"/proc/self/task/{native_id}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return float("nan")


def thread_cpu() -> dict[int, tuple[str, float, float]]:
    """Per thread: name, CPU seconds, run-queue delay seconds."""
    out = {}
    for t in threading.enumerate():
        if t.ident is None:
            continue
        try:
            clock = time.pthread_getcpuclockid(t.ident)
            out[t.ident] = (t.name, time.clock_gettime(clock), _run_delay(t.native_id))
        except (OSError, ProcessLookupError):
            continue
    return out


class Counts:
    """Counts the hand-over's events by wrapping the pool's (private) hooks."""

    def __init__(self) -> None:
        self.deliveries = 0  # loop wake-ups by signing threads (one per finished batch)
        self.hand_overs = 0  # batches handed to the threads
        self.wakes = 0  # idle threads woken

    def wrap_pool(self, pool: Any) -> None:
        deliver, hand_over, wake = pool._deliver, pool._hand_over, pool._wake
        counts = self

        class CountedWake:  # SimpleQueue's methods are read-only: wrap the queue
            def put(self, item: None) -> None:
                counts.wakes += 1
                wake.put(item)

            def get(self, timeout: float | None = None) -> None:
                wake.get(timeout=timeout)

        def counted_deliver() -> None:
            self.deliveries += 1
            deliver()

        def counted_hand_over() -> None:
            self.hand_overs += 1
            hand_over()

        pool._deliver, pool._hand_over, pool._wake = (
            counted_deliver,
            counted_hand_over,
            CountedWake(),
        )

    def wrap_batch(self, batch: Any) -> None:
        deliver = batch._deliver

        def counted_deliver() -> None:
            self.deliveries += 1
            deliver()

        batch._deliver = counted_deliver


def signer_for(name: str, real: Signer, rsa_seconds: float) -> Any:
    if name == "rsa":
        return real
    if name == "rsa-timed":
        return TimedSigner(real)
    if name == "null":
        return NullSigner(real)
    if name == "sleep":
        return SleepSigner(real, rsa_seconds)
    raise SystemExit(f"unknown signer {name!r}")
