"""One anyio blocking portal (one event-loop thread) per blocking client, for its whole life."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import sys
import threading
import warnings
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from wonder_async import ConfigurationError
from wonder_async._client import _ABANDONED
from wonder_async._loops import loop_factory

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

__all__ = ["Portal"]

T = TypeVar("T")

#: Seconds a Ctrl-C'd call waits for its cancelled task to unwind before re-raising.
_CANCEL_GRACE = 2.0
#: Code flags of ``async def`` functions and async generators (the caller check).
_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
#: Packages whose frames are skipped when looking for the caller's frame.
_OURS = ("wonder_sync", "wonder_async")


def _is_ours(module: str) -> bool:
    return module.split(".", 1)[0] in _OURS


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
        self._warned = False

    def get(self) -> BlockingPortal:
        """Return the running portal, starting it if needed.

        :raises ConfigurationError: after close, or when called on the client's own loop
            thread (it would wait for itself).
        """
        running = asyncio._get_running_loop()
        if running is not None:
            self._check_caller(running)
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

    def _check_caller(self, running: asyncio.AbstractEventLoop) -> None:
        """Vet a call made while this thread's own event loop is running.

        Notebook kernels (ipykernel) and Playwright's sync API run a loop in the caller's
        thread; the call simply blocks there until the client's loop thread answers, like
        ``requests``. Only a call written in the body of an ``async def`` (or async
        generator) is clearly a coroutine of an asyncio application, which the call stalls:
        that gets one :class:`RuntimeWarning` per client. Notebook cells, top-level ``await``
        cells included, compile as module code, so they never warn.
        """
        if running is self._loop:
            raise ConfigurationError(
                "wonder_sync was called on its own event-loop thread, where it would wait for "
                "itself; use `from wonder_async import WonderClient` and await it"
            )
        if self._warned:
            return
        frame: FrameType | None = sys._getframe(2)
        depth = 3
        while frame is not None and _is_ours(frame.f_globals.get("__name__", "")):
            frame, depth = frame.f_back, depth + 1
        if frame is None or not frame.f_code.co_flags & _ASYNC_CODE:
            return
        if frame.f_code.co_name.startswith("<"):  # <module>: a notebook cell's top-level await
            return
        self._warned = True
        warnings.warn(
            f"wonder_sync.WonderClient was called from the coroutine "
            f"{frame.f_code.co_name}(); each call blocks that event loop until it returns. "
            "In asyncio code use `from wonder_async import WonderClient` and await it",
            RuntimeWarning,
            stacklevel=depth,
        )

    def call(self, func: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await func(*args)`` on the loop thread and return its result.

        The hot path of every blocking call. ``BlockingPortal.call`` costs ~150 us a round
        trip here; scheduling the task with ``call_soon_threadsafe`` and waking the caller
        with a plain lock costs ~50 us, so the portal keeps the loop's lifecycle and this
        method does the per-call hop.

        An exception raised in the waiting thread (Ctrl-C's KeyboardInterrupt) cancels the
        task on the loop thread, waits up to ``_CANCEL_GRACE`` seconds for it to unwind
        (connection released, in-flight count down), then propagates.
        """
        self.get()
        loop = self._loop
        assert loop is not None
        done = threading.Lock()
        done.acquire()
        box: list[asyncio.Future[T]] = []

        def finished(_: asyncio.Future[T]) -> None:
            done.release()

        def start() -> None:
            try:
                task: asyncio.Future[T] = asyncio.ensure_future(func(*args), loop=loop)
            except BaseException as exc:  # func(*args) itself failed: report, never hang
                task = loop.create_future()
                task.set_exception(exc)
            box.append(task)  # start runs before any cancel below: both are FIFO on the loop
            task.add_done_callback(finished)

        loop.call_soon_threadsafe(start)
        try:
            done.acquire()
        except BaseException:  # KeyboardInterrupt while waiting: cancel the work, then go.
            with contextlib.suppress(RuntimeError):  # the loop is already gone
                loop.call_soon_threadsafe(lambda: box[0].cancel())
                done.acquire(timeout=_CANCEL_GRACE)
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
    import anyio  # with the loop thread, not with `import wonder_sync`
    from anyio.from_thread import BlockingPortal

    ready: Future[tuple[BlockingPortal, asyncio.AbstractEventLoop]] = Future()

    async def serve() -> None:
        async with BlockingPortal() as portal:
            ready.set_result((portal, asyncio.get_running_loop()))
            await portal.sleep_until_stopped()

    # uvloop when installed (the [fast] extra): this loop is the SDK's own, not the caller's.
    options: dict[str, Any] = {"use_uvloop": True} if loop_factory() is not None else {}

    def run() -> None:
        try:
            anyio.run(serve, backend="asyncio", backend_options=options)
        except BaseException as exc:  # surface start-up failures to the waiting caller
            if not ready.done():
                ready.set_exception(exc)
            raise

    thread = threading.Thread(target=run, name="wonder-sync-loop", daemon=True)
    thread.start()
    portal, loop = ready.result()
    return portal, loop, thread
