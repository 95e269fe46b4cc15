"""The event loops the SDK itself owns: on uvloop when it is installed, else asyncio's.

Those are the blocking client's loop thread, the CLI's runs and the emulator when it serves on
a loop of its own (``wonder emulator``, ``Emulator.in_thread``). uvloop (``pip install
wonder-gateway[fast]``) does the loop's own work (polling, socket reads and writes, callbacks)
in C, which leaves more of the GIL and the CPU to the signing threads. It is never installed
as an event-loop policy, and a loop the application runs itself is never touched:
``wonder_async.WonderClient`` runs on whatever loop it is awaited on. ``WONDER_UVLOOP=0`` keeps
asyncio's loop even when uvloop is installed.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Final, TypeVar

__all__ = ["ENV", "loop_factory", "new_event_loop", "run"]

T = TypeVar("T")

#: ``0`` / ``false`` / ``no`` / ``off``: the SDK's own loops stay asyncio's.
ENV: Final = "WONDER_UVLOOP"
_OFF: Final = frozenset({"0", "false", "no", "off"})


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory when uvloop is installed and not switched off, else ``None``."""
    if os.environ.get(ENV, "").strip().lower() in _OFF:
        return None
    try:
        uvloop: Any = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new loop for the SDK to own: uvloop's when available (see :func:`loop_factory`)."""
    factory = loop_factory()
    return factory() if factory is not None else asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a loop from :func:`new_event_loop`; no policy is changed."""
    factory = loop_factory()
    if factory is None:
        return asyncio.run(main)
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(main)
    uvloop: Any = importlib.import_module("uvloop")  # 3.10: no Runner; uvloop.run does the same
    result: T = uvloop.run(main)
    return result
