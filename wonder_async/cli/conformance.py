"""``wonder conformance``: which reading of the unknown gateway behaviours a sandbox follows.

Runs a short, bounded flow against the configured gateway (never production), decides each
reading of the emulator's registry, and writes ``readings.json`` (``wonder emulator
--readings`` loads it), ``shapes.json`` and a redacted ``log.jsonl``. Guide:
``docs/guides/conformance.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .._config import resolve_base_url, resolve_credentials
from .._errors import ConfigurationError
from ._common import run_async

__all__ = ["register"]


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"must be HOST:PORT (got {text!r})")
    return host.strip("[]") or "127.0.0.1", int(port)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number (got {text!r})")
    return value


def _count(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 20:
        raise argparse.ArgumentTypeError(f"must be an integer of at least 20 (got {text!r})")
    return value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``conformance`` to the top-level subparsers."""
    p = sub.add_parser(
        "conformance",
        parents=[common],
        help="find which reading of the unknown gateway behaviours a sandbox follows",
        description="Run a short, bounded flow against a sandbox (never production), decide "
        "each reading of the emulator's registry and write readings.json (for wonder emulator "
        "--readings), shapes.json and a redacted log.jsonl. Guide: docs/guides/conformance.md.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for the files (default ./wonder-conformance-RUNID)",
    )
    p.add_argument(
        "--customer-uuid",
        default=None,
        help="a customer with an already bound card (with --token): no binding",
    )
    p.add_argument("--token", default=None, help="that customer's bound payment token")
    p.add_argument("--card", default=None, help="test card to bind (default 4242424242424242)")
    p.add_argument(
        "--decline-card",
        default=None,
        help="test card whose charges are declined (default 4000000000009995)",
    )
    p.add_argument("--no-decline", action="store_true", help="skip the declined charge")
    p.add_argument("--currency", default="HKD", help="currency of the orders (default HKD)")
    p.add_argument(
        "--webhook-url",
        default=None,
        help="public URL that forwards to --listen; without it the webhook readings "
        "are not observed",
    )
    p.add_argument(
        "--listen",
        type=_host_port,
        default=None,
        metavar="HOST:PORT",
        help="where the webhook listener binds (default 127.0.0.1:8765)",
    )
    p.add_argument(
        "--webhook-wait",
        type=_positive,
        default=120.0,
        metavar="S",
        help="how long to wait for a webhook's retry after answering 503 (default 120)",
    )
    p.add_argument(
        "--three-ds-wait",
        type=_positive,
        default=300.0,
        metavar="S",
        help="how long to wait for the cardholder's 3-D Secure step (default 300)",
    )
    p.add_argument(
        "--settle-wait",
        type=_positive,
        default=30.0,
        metavar="S",
        help="how long to poll a pending charge or void (default 30)",
    )
    p.add_argument(
        "--poll-interval",
        type=_positive,
        default=1.0,
        metavar="S",
        help="first interval between polls; it grows to 5x (default 1)",
    )
    p.add_argument(
        "--call-timeout",
        type=_positive,
        default=20.0,
        metavar="S",
        help="deadline of each call (default 20)",
    )
    p.add_argument(
        "--max-calls",
        type=_count,
        default=150,
        metavar="N",
        help="cap on calls, cleanup included (default 150)",
    )
    p.add_argument(
        "--max-seconds",
        type=_positive,
        default=900.0,
        metavar="S",
        help="cap on the run's time, waits included (default 900)",
    )
    p.add_argument(
        "--no-compare",
        action="store_true",
        help="do not run the flow against an in-process emulator (shapes.json then "
        "has only the gateway's side)",
    )
    p.set_defaults(handler=run_async(_conformance))


async def _conformance(args: argparse.Namespace) -> int:
    from .._conformance import Budget, FlowSettings, Options, new_run_id, refuse_production, run

    if (args.customer_uuid is None) != (args.token is None):
        print("wonder conformance: --customer-uuid and --token go together", file=sys.stderr)
        return 2
    if args.listen is not None and args.webhook_url is None:
        print("wonder conformance: --listen needs --webhook-url", file=sys.stderr)
        return 2
    try:
        _, base_url = resolve_base_url(args.environment, args.base_url)
        refuse_production(base_url)
        key = os.fspath(args.private_key_file) if args.private_key_file else None
        app_id, private_key = resolve_credentials(args.app_id, key)
    except ConfigurationError as exc:
        print(f"wonder conformance: {exc}", file=sys.stderr)
        return 2
    run_id = new_run_id()
    settings = FlowSettings(
        run_id=run_id,
        currency=args.currency,
        customer_uuid=args.customer_uuid,
        token=args.token,
        webhook_url=args.webhook_url,
        three_ds_wait=args.three_ds_wait,
        settle_wait=args.settle_wait,
        poll_interval=args.poll_interval,
    )
    if args.card:
        settings.card = args.card
    if args.no_decline:
        settings.decline_card = None
    elif args.decline_card:
        settings.decline_card = args.decline_card
    options = Options(
        base_url=base_url,
        app_id=app_id,
        private_key=private_key,
        out_dir=args.out or Path(f"wonder-conformance-{run_id}"),
        settings=settings,
        budget=Budget(args.call_timeout, args.max_calls, args.max_seconds),
        listen=args.listen,
        webhook_wait=args.webhook_wait,
        compare=not args.no_compare,
    )
    try:
        result = await run(options)
    except ConfigurationError as exc:
        print(f"wonder conformance: {exc}", file=sys.stderr)
        return 2
    return 1 if result.stopped else 0
