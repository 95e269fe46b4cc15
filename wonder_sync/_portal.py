"""One anyio blocking portal (one event-loop thread) per blocking client, for its whole life."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import anyio
from anyio.from_thread import BlockingPortal

from wonder_async import ConfigurationError
from wonder_async._client import _ABANDONED

__all__ = ["Portal"]

T = TypeVar("T")


class Portal:
    """Starts the loop thread on first use, stops it on :meth:`close`, survives ``fork``.

    The loop thread is a daemon, so a client that was never closed cannot hang interpreter
    exit. ``on_fork`` runs in a forked child before the new loop is started there.
    """

    def __init__(self, on_fork: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()
        self._closed = False
        self._on_fork = on_fork

    def get(self) -> BlockingPortal:
        """Return the running portal, starting it if needed.

        :raises ConfigurationError: when called from a running event loop, or after close.
        """
        if asyncio._get_running_loop() is not None:
            raise ConfigurationError(
                "wonder_sync was called from inside a running event loop, where blocking "
                "would stall the loop; use `from wonder_async import WonderClient` and await it"
            )
        portal = self._portal
        if portal is not None and self._pid == os.getpid():
            return portal
        with self._lock:
            if self._closed:
                raise ConfigurationError("this WonderClient is closed; create a new one")
            if self._pid != os.getpid():
                _ABANDONED.append((self._portal, self._thread))
                self._portal = self._thread = None
                self._pid = os.getpid()
                self._on_fork()
            if self._portal is None:
                self._portal, self._loop, self._thread = _start()
            return self._portal

    def call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await func(*args)`` on the loop thread and return its result.

        The hot path of every blocking call. ``BlockingPortal.call`` costs ~150 us a round
        trip here; scheduling the task with ``call_soon_threadsafe`` and waking the caller
        with a plain lock costs ~50 us, so the portal keeps the loop's lifecycle and this
        method does the per-call hop.
        """
        self.get()
        loop = self._loop
        assert loop is not None
        done = threading.Lock()
        done.acquire()
        box: list[asyncio.Future[T]] = []

        def finished(task: asyncio.Future[T]) -> None:
            box.append(task)
            done.release()

        def start() -> None:
            task = asyncio.ensure_future(func(*args), loop=loop)
            task.add_done_callback(finished)

        loop.call_soon_threadsafe(start)
        try:
            done.acquire()
        except BaseException:  # KeyboardInterrupt while waiting: cancel the work, then go.
            loop.call_soon_threadsafe(lambda: box[0].cancel() if box else None)
            raise
        return box[0].result()

    def close(self, last: Callable[[], Awaitable[None]]) -> None:
        """Run ``last`` on the loop (if it ever started), then stop and join the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            portal, thread = self._portal, self._thread
            self._portal = self._thread = None
        if portal is None or thread is None or self._pid != os.getpid():
            return
        try:
            portal.call(last)
        finally:
            portal.call(portal.stop)
            thread.join()


def _start() -> tuple[BlockingPortal, asyncio.AbstractEventLoop, threading.Thread]:
    ready: Future[tuple[BlockingPortal, asyncio.AbstractEventLoop]] = Future()

    async def serve() -> None:
        async with BlockingPortal() as portal:
            ready.set_result((portal, asyncio.get_running_loop()))
            await portal.sleep_until_stopped()

    def run() -> None:
        try:
            anyio.run(serve, backend="asyncio")
        except BaseException as exc:  # surface start-up failures to the waiting caller
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=run, name="wonder-sync-loop", daemon=True)
    thread.start()
    portal, loop = ready.result()
    return portal, loop, thread
