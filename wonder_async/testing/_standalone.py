"""``wonder emulator`` / ``python -m wonder_async.testing``: serve the emulator until a signal.

With ``--app-id`` and ``--public-key`` it accepts that app. Without them it makes a key pair,
writes the private key PEM (mode 0600) to ``--key-out``, next to ``--db`` (``FILE.key.pem``)
or into a new temporary directory, and prints where. With ``--db`` a restart reuses that key
file and the app id stored for it, so clients keep working across restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import sys
import tempfile
from pathlib import Path

from .. import _loops
from .._errors import ConfigurationError
from ._readings import Readings, describe
from ._server import Emulator
from ._webhooks import DEFAULT_WEBHOOK_LOG_LIMIT

__all__ = ["add_emulator_arguments", "run_emulator"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text!r})")
    return value


def add_emulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080, 0: any)")
    parser.add_argument("--app-id", default=None, help="app id to accept (default: generated)")
    parser.add_argument(
        "--public-key", type=Path, default=None, help="PEM public key file of --app-id"
    )
    parser.add_argument(
        "--db", type=Path, default=None, help="SQLite file that keeps data across restarts"
    )
    parser.add_argument(
        "--faults",
        default=None,
        help="fault spec, e.g. '*:503=0.05,429=0.02@1,latency=0.1@50ms;"
        "payment_tokens.create:reset_after=0.1' (grammar: wonder_async.testing._faults)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for rate-based faults (repeatable runs)"
    )
    parser.add_argument(
        "--no-dashboard",
        action="store_true",
        help="do not serve the browser dashboard at / (it is on by default)",
    )
    parser.add_argument(
        "--reject-replays",
        action="store_true",
        help="answer 401 to a request whose Nonce+Signature was already used within the "
        "30-minute window (the gateway's behaviour is undocumented; off by default)",
    )
    parser.add_argument(
        "--no-dedupe-charges",
        action="store_true",
        help="charge again when a payment.uuid repeats (a gateway that ignores it), instead of "
        "answering with the first charge: shows a client that sends a charge twice",
    )
    parser.add_argument(
        "--webhook-log-limit",
        type=_positive_int,
        default=DEFAULT_WEBHOOK_LOG_LIMIT,
        metavar="N",
        help=f"keep the newest N webhook delivery attempts for the dashboard "
        f"(default {DEFAULT_WEBHOOK_LOG_LIMIT})",
    )
    parser.add_argument(
        "--reading",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="play one reading of the gateway where its behaviour is unknown, e.g. "
        "charges=pending (repeatable; --list-readings shows them all)",
    )
    parser.add_argument(
        "--readings",
        type=Path,
        default=None,
        metavar="FILE.json",
        help="readings file (as `wonder conformance` writes it); --reading overrides it",
    )
    parser.add_argument(
        "--list-readings",
        action="store_true",
        help="print every reading, its values, default and evidence, and exit",
    )
    parser.add_argument(
        "--pending-seconds",
        type=float,
        default=1.0,
        metavar="S",
        help="how long a pending charge or void stays pending (charges=pending, voids=pending; "
        "default 1)",
    )
    parser.add_argument(
        "--webhook-key-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the emulator's webhook public key (PEM) here, for webhook handlers in "
        "other languages",
    )
    parser.add_argument(
        "--key-out",
        type=Path,
        default=None,
        help="where to write a generated private key (default: next to --db or a temp dir)",
    )


def _write_private_key(path: Path, pem: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # O_CREAT's mode applies only to new files; an existing file keeps its mode otherwise.
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pem)


async def _serve(emu: Emulator, lines: list[str]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with emu:
        print(f"base_url     {emu.base_url}", flush=True)
        if emu.dashboard_url is not None:
            print(f"dashboard    {emu.dashboard_url}", flush=True)
        for line in lines:
            print(line, flush=True)
        # The public half only (the portal's "Webhook Public Key"): handlers in any language
        # verify the emulator's webhooks with it. Last, so the lines above stay NAME VALUE.
        print("webhook_public_key", flush=True)
        print(emu.webhook_public_key_pem.strip(), flush=True)
        await stop.wait()


def run_emulator(args: argparse.Namespace) -> int:
    """Run the emulator as configured by :func:`add_emulator_arguments`; return exit status.

    Prints ``app_id``, ``private_key`` (when generated) and, once listening, ``base_url``,
    ``dashboard`` (unless ``--no-dashboard``), one ``reading NAME=VALUE`` per non-default
    reading, ``webhook_key PATH`` (with ``--webhook-key-file``) lines, then the line
    ``webhook_public_key`` followed by that PEM; returns 0 after SIGINT/SIGTERM, 2 for
    bad options, 1 when it cannot listen. ``--list-readings`` prints the readings and
    returns 0 without serving.
    """
    if args.list_readings:
        print(describe())
        return 0
    try:
        base = dict(Readings.load(args.readings)) if args.readings is not None else None
        readings = Readings.parse(args.reading, base)
    except (ValueError, OSError) as exc:
        print(f"wonder emulator: {exc}", file=sys.stderr)
        return 2
    if args.public_key is not None and args.app_id is None:
        print("wonder emulator: --public-key needs --app-id", file=sys.stderr)
        return 2
    if args.app_id is not None and args.public_key is None:
        print("wonder emulator: --app-id needs --public-key (the app's PEM)", file=sys.stderr)
        return 2
    key_path: Path | None = None
    if args.public_key is None:
        if args.key_out is not None:
            key_path = args.key_out
        elif args.db is not None:
            key_path = Path(args.db).with_suffix(".key.pem")
        else:
            key_path = Path(tempfile.mkdtemp(prefix="wonder-emulator-")) / "private_key.pem"
    # Only a database makes an old key worth keeping: it still knows the key's app id.
    reuse = key_path is not None and args.db is not None and key_path.exists()
    try:
        emu = Emulator(
            host=args.host,
            port=args.port,
            db=args.db,
            faults=args.faults,
            app_id=args.app_id,
            public_key=args.public_key,
            private_key=key_path if reuse else None,
            dashboard=not args.no_dashboard,
            reject_replays=args.reject_replays,
            dedupe_charges=not args.no_dedupe_charges,
            readings=readings,
            pending_seconds=args.pending_seconds,
        )
    except (ValueError, ConfigurationError, OSError, sqlite3.Error) as exc:
        print(f"wonder emulator: {exc}", file=sys.stderr)
        return 2
    if args.seed is not None:
        emu.faults.seed(args.seed)
    emu.webhook_log_limit = args.webhook_log_limit
    print(f"app_id       {emu.app_id}", flush=True)
    if key_path is not None and emu.private_key_pem is not None:
        if not reuse:
            _write_private_key(key_path, emu.private_key_pem)
        print(f"private_key  {key_path}", flush=True)
    lines = [f"reading      {n}={v}" for n, v in readings.non_default().items()]
    if args.webhook_key_file is not None:
        try:
            args.webhook_key_file.write_text(emu.webhook_public_key_pem)
        except OSError as exc:
            emu.state.close()
            print(f"wonder emulator: --webhook-key-file: {exc}", file=sys.stderr)
            return 2
        lines.append(f"webhook_key  {args.webhook_key_file}")
    try:
        _loops.run(_serve(emu, lines))  # uvloop's loop when installed: the emulator's own
    except OSError as exc:
        print(f"wonder emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0
