"""``wonder demo``, ``wonder emulator`` and ``wonder echo``: try the SDK, serve the emulator,
self-test a signature."""

from __future__ import annotations

import argparse
from typing import Any

from .. import _loops
from . import COMMANDS
from ._common import client, emit, run_async

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``demo``, ``emulator`` and ``echo`` to the top-level subparsers."""
    demo = sub.add_parser(
        "demo",
        help=COMMANDS["demo"][1],
        description="Start the emulator in-process and walk the whole flow; no credentials.",
    )
    demo.set_defaults(handler=_demo)
    emulator = sub.add_parser(
        "emulator",
        help=COMMANDS["emulator"][1],
        description="Serve the Wonder Gateway emulator for tests and clients in any language.",
    )
    from ..testing._standalone import add_emulator_arguments

    add_emulator_arguments(emulator)
    emulator.set_defaults(handler=_emulator)

    echo = sub.add_parser("echo", parents=[common], help=COMMANDS["echo"][1])
    echo.add_argument("message", nargs="?", default="Hello,Wonder!")
    echo.set_defaults(handler=run_async(_echo))


def _demo(args: argparse.Namespace) -> int:
    from .._demo import run_demo

    return _loops.run(run_demo())


def _emulator(args: argparse.Namespace) -> int:
    from ..testing._standalone import run_emulator

    return run_emulator(args)


async def _echo(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        emit(args, {"message": await wonder.echo(args.message)})
    return 0
