"""The signing threads: RSA signatures made off the event loop, handed over in batches.

A busy client signs on these threads so RSA uses every core while the loop does I/O (an idle
client signs inline: a thread hop would only add latency; see ``WonderClient._execute``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections import deque
from typing import Any, Final

from ._errors import ConfigurationError
from ._request import Request
from ._signing import RANDOM_PER_SIGNATURE, Signer

__all__ = ["SignPool"]

log = logging.getLogger("wonder")

_SignJob = tuple["asyncio.Future[dict[str, str]]", Request]
# Seconds a signing thread waits for work before it ends (a busy client keeps its threads;
# one that was dropped without close() does not keep them forever).
_SIGN_THREAD_IDLE: Final = 30.0
# Signatures whose CSPRNG bytes a signing thread reads at once: os.urandom releases the GIL,
# and every release costs a wait to take it back from the busy event loop.
_RANDOM_BATCH: Final = 64
# Finished signatures a thread collects before it wakes the loop while more jobs wait (1: it
# wakes it for the first; 2 halved the wake-ups but measured neutral to +11 % CPU/request at
# c=64 in benchmarks/run.py --before, so it is a knob for benchmarks/handover.py only).
_DELIVER_BATCH: Final = 1


class SignPool:
    """Signing threads fed and drained in batches, so RSA uses every core while the loop does I/O.

    Loop side: :meth:`sign` queues a job (no executor future, no thread wake-up) and the jobs
    queued during one loop iteration go to the threads together, with at most one wake-up per
    idle thread. Thread side: each thread signs one job at a time (so all threads sign in
    parallel) and finished signatures go back to the loop in batches, one loop wake-up per
    batch. Threads start on demand, up to ``threads``.
    """

    def __init__(self, signer: Signer, threads: int) -> None:
        self.signer = signer
        self.max_threads = threads
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        # One token per idle thread to wake (a C queue: waiting and waking cost no Python-level
        # lock juggling, unlike threading.Condition).
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        # Guarded by _lock: jobs for the threads, threads waiting for work, finished jobs.
        self._jobs: deque[_SignJob] = deque()
        self._idle = 0
        self._done: list[tuple[asyncio.Future[dict[str, str]], Any]] = []
        self._wake_pending = False
        self._closed = False
        # Loop thread only: jobs of the current loop iteration, not yet handed over, and the
        # loop a hand-over is scheduled on (another loop, e.g. after asyncio.run ended with a
        # hand-over pending, schedules its own).
        self._batch: list[_SignJob] = []
        self._hand_over_on: asyncio.AbstractEventLoop | None = None
        # The module's tuning, per pool (the benchmarks compare settings side by side).
        self.random_batch = _RANDOM_BATCH
        self.deliver_batch = _DELIVER_BATCH

    def sign(self, request: Request) -> asyncio.Future[dict[str, str]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, str]] = loop.create_future()
        self._batch.append((future, request))
        if self._hand_over_on is not loop:
            self._hand_over_on = loop
            loop.call_soon(self._hand_over)
        return future

    def _hand_over(self) -> None:
        batch, self._batch = self._batch, []
        self._hand_over_on = None
        with self._lock:
            closed = self._closed
            if not closed:
                self._jobs.extend(batch)
                waiting = len(self._jobs)
                wake = min(self._idle, waiting)
                self._idle -= wake
                new = [
                    threading.Thread(target=self._run, name="wonder-sign", daemon=True)
                    for _ in range(min(waiting - wake, self.max_threads - len(self._threads)))
                ]
                self._threads.extend(new)
        if closed:
            self._fail(batch, ConfigurationError("this WonderClient is closed; create a new one"))
            return
        for _ in range(wake):
            self._wake.put(None)
        for thread in new:
            try:
                thread.start()
            except RuntimeError as exc:  # the process cannot start a thread now
                with self._lock:
                    self._threads.remove(thread)
                    if self._threads:
                        continue
                    stranded = list(self._jobs)
                    self._jobs.clear()
                # No thread will take these: sign them here, as an idle client does, rather
                # than fail calls over a resource the next burst may have again.
                log.warning("cannot start a signing thread (%s); signing on the event loop", exc)
                self._sign_here(stranded)

    def _sign_here(self, jobs: list[_SignJob]) -> None:
        sign = self.signer.sign
        for future, r in jobs:
            if future.done():
                continue
            try:
                future.set_result(sign(r.method, r.uri, r.body))
            except Exception as exc:  # handed to the awaiting task, as from a thread
                future.set_exception(exc)

    @staticmethod
    def _fail(jobs: list[_SignJob], error: BaseException) -> None:
        for future, _ in jobs:
            if not future.done():
                future.set_exception(error)

    def _run(self) -> None:
        jobs, lock = self._jobs, self._lock
        random_size, deliver_batch = RANDOM_PER_SIGNATURE * self.random_batch, self.deliver_batch
        sign = self.signer.sign_random
        # CSPRNG bytes for the next signatures (read once per _RANDOM_BATCH): one GIL release
        # per signature, the RSA operation, instead of two.
        random, used = b"", 0
        while True:
            with lock:
                if not jobs:
                    if self._closed:
                        return
                    self._idle += 1  # the loop takes it back when it hands over work
                    job = None
                else:
                    job = jobs.popleft()
            if job is None:
                try:
                    self._wake.get(timeout=_SIGN_THREAD_IDLE)  # GIL released while waiting
                except queue.Empty:
                    with lock:
                        # Idle too long. While the idle count still holds this thread, take it
                        # back and end (or work, if jobs came in meanwhile).
                        if self._idle > 0:
                            self._idle -= 1
                            if not jobs:
                                self._threads.remove(threading.current_thread())
                                return
                            continue
                    # The loop counted on this thread as the wait ran out: its wake-up token
                    # is on the way. Take it, or it would later wake this thread a second time
                    # and the idle count would hold a thread that does not exist.
                    self._wake.get()
                continue
            future, r = job
            if used >= len(random):
                random, used = os.urandom(random_size), 0
            outcome: Any
            try:
                outcome = sign(r.method, r.uri, r.body, random[used : used + RANDOM_PER_SIGNATURE])
            except BaseException as exc:  # handed to the awaiting task, like run_in_executor
                outcome = exc
            used += RANDOM_PER_SIGNATURE  # never reused, whatever the outcome
            with lock:
                self._done.append((future, outcome))
                # One loop wake-up per batch (and, with deliver_batch > 1, while more jobs
                # wait, not before that many are done).
                if self._wake_pending or (jobs and len(self._done) < deliver_batch):
                    continue
                self._wake_pending = True
            try:
                future.get_loop().call_soon_threadsafe(self._deliver)
            except RuntimeError:  # that loop is closed: nobody waits for these any more
                with lock:
                    self._done = [d for d in self._done if not d[0].get_loop().is_closed()]
                    live = self._done[0][0].get_loop() if self._done else None
                    self._wake_pending = live is not None
                if live is not None:
                    with contextlib.suppress(RuntimeError):
                        live.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            done, self._done = self._done, []
            self._wake_pending = False
        for future, outcome in done:
            if future.done() or future.get_loop().is_closed():  # the call is gone
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def close(self) -> None:
        """Let the threads finish what was handed over, then end them; idempotent."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:  # idle threads wake, find nothing to do and end
            self._wake.put(None)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()
