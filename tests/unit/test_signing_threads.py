"""The signing threads' rare paths, made to happen for real against the emulator: a thread that
cannot start, and threads that end after idling (a later burst then starts new ones).

A client signs inline while it has one call in flight and hands signatures to its signing
threads when it has more, so every test here runs two or more calls at once.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import KeyPair
from tests.independent_signing import verify
from wonder_async import WonderClient
from wonder_async import _sign_pool as sign_pool_module
from wonder_async._request import Request
from wonder_async._signing import Signer
from wonder_async.testing import Emulator

# Bound on waits that only run out when the code under test hangs (never a timed assertion).
HANG = 30.0


def _signing_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "wonder-sign"}


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(dashboard=False) as emu:
        yield emu


def _client(emu: Emulator, threads: int) -> WonderClient:
    assert emu.private_key_pem is not None
    return WonderClient(
        app_id=emu.app_id,
        private_key=emu.private_key_pem,
        base_url=emu.base_url,
        sign_threads=threads,
        max_retries=0,
    )


@contextmanager
def _threads_cannot_start() -> Iterator[None]:
    """Make every new thread of this process fail to start, as when the process is out of
    threads: its stack (2**60 bytes) cannot be mapped, so pthread_create fails for real."""
    probe = threading.Thread(target=lambda: None)
    previous = threading.stack_size(1 << 60)
    try:
        with pytest.raises(RuntimeError):
            probe.start()  # the precondition: no thread can start now
        yield
    finally:
        threading.stack_size(previous)


@pytest.mark.anyio
async def test_when_no_signing_thread_can_start_the_calls_are_signed_on_the_loop(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """When the process cannot start a thread, concurrent calls still go through (signed on
    the event loop, with a warning), and once threads can start again the client uses them."""
    assert _signing_threads() == set()
    async with _client(emulator, threads=2) as wonder:
        assert await wonder.echo("warm") == "warm"  # one call: signed inline, no thread
        with _threads_cannot_start(), caplog.at_level("WARNING", logger="wonder"):
            outcomes = await asyncio.wait_for(
                asyncio.gather(*(wonder.echo(f"s{i}") for i in range(4))), HANG
            )
        assert outcomes == [f"s{i}" for i in range(4)]
        assert _signing_threads() == set()
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert warnings  # one per hand-over that found no thread
        assert all("signing on the event loop" in w for w in warnings)

        again = await asyncio.wait_for(
            asyncio.gather(*(wonder.echo(f"m{i}") for i in range(6))), HANG
        )
        assert again == [f"m{i}" for i in range(6)]
        assert 1 <= len(_signing_threads()) <= 2
    assert _signing_threads() == set()  # close() ended them
    assert emulator.stats["requests"]["echo"] == 11


@pytest.mark.anyio
async def test_signing_threads_end_after_idling_and_a_later_burst_starts_new_ones(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client left idle does not keep its signing threads (here after 0.05 s instead of
    30 s); the next burst of concurrent calls starts fresh threads and every call succeeds."""
    monkeypatch.setattr(sign_pool_module, "_SIGN_THREAD_IDLE", 0.05)
    assert _signing_threads() == set()
    async with _client(emulator, threads=2) as wonder:
        first = await asyncio.wait_for(
            asyncio.gather(*(wonder.echo(f"a{i}") for i in range(8))), HANG
        )
        assert first == [f"a{i}" for i in range(8)]
        before = _signing_threads()
        assert 1 <= len(before) <= 2
        for thread in before:  # they end on their own: nothing asks them to
            thread.join(HANG)
        assert not any(t.is_alive() for t in before)
        assert _signing_threads() == set()

        second = await asyncio.wait_for(
            asyncio.gather(*(wonder.echo(f"b{i}") for i in range(8))), HANG
        )
        assert second == [f"b{i}" for i in range(8)]
        after = _signing_threads()
        assert after
        assert after.isdisjoint(before)  # new threads did the signing


class _WakeThatTimesOutAsItIsWoken:
    """The pool's wake-up queue, where a thread's next wait for work ends in a timeout at the
    very moment the loop wakes it (the token lands just after ``get`` gave up): the race of
    the idle-exit path, which otherwise needs a hand-over in the same microsecond as the 30 s
    idle timeout."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.armed = True
        self.waiting = threading.Event()
        self.time_out = threading.Event()

    def put(self, item: None) -> None:
        self._queue.put(item)

    def get(self, timeout: float | None = None) -> None:
        if self.armed:
            self.armed = False
            self.waiting.set()
            self.time_out.wait(HANG)
            raise queue.Empty
        self._queue.get(timeout=timeout)


@pytest.mark.anyio
async def test_a_thread_woken_as_its_idle_wait_times_out_leaves_the_pool_working(
    key_pair: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signatures keep completing after a signing thread's idle timeout raced a wake-up."""
    monkeypatch.setattr(sign_pool_module, "_SIGN_THREAD_IDLE", 0.05)
    pool = sign_pool_module.SignPool(Signer("app-1", key_pair.private_pem), threads=1)
    wake = _WakeThatTimesOutAsItIsWoken()
    pool._wake = wake  # type: ignore[assignment]
    request = Request.json("POST", "/svc/echo", {"message": "hi"})
    try:
        headers = await asyncio.wait_for(pool.sign(request), HANG)
        (thread,) = _signing_threads()
        assert wake.waiting.wait(HANG)  # the thread is idle, waiting for work
        woken = pool.sign(request)  # the loop hands it work and wakes it ...
        await asyncio.sleep(0)
        wake.time_out.set()  # ... just as its wait times out
        headers2 = await asyncio.wait_for(woken, HANG)
        thread.join(HANG)  # then it idles for 0.05 s and ends
        assert not thread.is_alive()
        # The next signature must start a new thread and complete.
        headers3 = await asyncio.wait_for(pool.sign(request), 5)
    finally:
        wake.time_out.set()
        pool.close()
    for signed in (headers, headers2, headers3):
        assert verify(key_pair.public, signed, "POST", "/svc/echo", request.body)


@pytest.mark.anyio
async def test_signatures_made_on_the_threads_each_have_their_own_nonce_and_request_id(
    key_pair: KeyPair,
) -> None:
    """The signing threads read the CSPRNG once for many signatures; every signature still
    gets fresh bytes: no nonce or X-Request-ID repeats, and every signature verifies."""
    pool = sign_pool_module.SignPool(Signer("app-1", key_pair.private_pem), threads=2)
    requests = [Request.json("POST", "/svc/echo", {"message": f"m{i}"}) for i in range(300)]
    try:
        signed = await asyncio.wait_for(asyncio.gather(*(pool.sign(r) for r in requests)), HANG)
    finally:
        pool.close()
    assert len({h["Nonce"] for h in signed}) == len(requests)
    assert len({h["X-Request-ID"] for h in signed}) == len(requests)
    for request, headers in zip(requests, signed, strict=True):
        assert verify(key_pair.public, headers, "POST", "/svc/echo", request.body)
