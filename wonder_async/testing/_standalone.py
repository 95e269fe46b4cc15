"""``wonder emulator``: serve the emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

from ._server import Emulator

__all__ = ["add_emulator_arguments", "run_emulator"]


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080, 0: any)")
    parser.add_argument("--app-id", default=None, help="app id to accept (default: generated)")
    parser.add_argument(
        "--public-key", type=Path, default=None, help="PEM public key file of --app-id"
    )
    parser.add_argument("--db", type=Path, default=None, help="SQLite file to keep data in")
    parser.add_argument(
        "--faults",
        default=None,
        help="fault spec, e.g. '*:503=0.05,429=0.02@1,latency=0.1@50ms' (see docs)",
    )
    parser.add_argument(
        "--key-out",
        type=Path,
        default=None,
        help="where to write a generated private key (default: next to --db or a temp dir)",
    )


async def _serve(emu: Emulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with emu:
        print(f"base_url     {emu.base_url}", flush=True)
        await stop.wait()


def run_emulator(args: argparse.Namespace) -> int:
    """Run the emulator as configured by :func:`add_emulator_arguments`; return exit status."""
    if (args.app_id is None) != (args.public_key is None):
        print("wonder emulator: give --app-id and --public-key together", file=sys.stderr)
        return 2
    try:
        emu = Emulator(
            host=args.host,
            port=args.port,
            db=args.db,
            faults=args.faults,
            app_id=args.app_id,
            public_key=args.public_key,
        )
    except ValueError as exc:
        print(f"wonder emulator: {exc}", file=sys.stderr)
        return 2
    print(f"app_id       {emu.app_id}", flush=True)
    if emu.private_key_pem is not None:
        if args.key_out is not None:
            key_path = args.key_out
        elif args.db is not None:
            key_path = Path(args.db).with_suffix(".key.pem")
        else:
            key_path = Path(tempfile.mkdtemp(prefix="wonder-emulator-")) / "private_key.pem"
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(emu.private_key_pem)
        print(f"private_key  {key_path}", flush=True)
    asyncio.run(_serve(emu))
    return 0
