"""The ``wonder`` command: demo, emulator, bulk upsert, billing runs, token export, and
one-off calls for scripts.

Credentials come from the same environment variables as the client (``WONDER_APP_ID``,
``WONDER_PRIVATE_KEY`` / ``WONDER_PRIVATE_KEY_FILE``, ``WONDER_ENVIRONMENT``,
``WONDER_BASE_URL``) or from ``--app-id``, ``--private-key-file``, ``--environment`` and
``--base-url``. Exit status: 0 success, 1 an API call or a bulk row failed, 2 bad usage.

One module per command group (:mod:`.customers`, :mod:`.tokens`, :mod:`.payments` with
orders, :mod:`.emulator` with demo and echo), each with a
``register(subparsers, common)`` that adds its parsers and sets a ``handler`` default;
:mod:`._common` holds credentials, output and progress, :mod:`._files` bulk input/results files.

Start-up: this module imports nothing of the SDK. ``wonder --help`` lists the commands from
:data:`COMMANDS`; only the module of the command being run (and what it needs) is imported.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Final

from .._version import __version__

__all__ = ["COMMANDS", "main"]

#: Each command: the module that registers it, and its one-line help.
COMMANDS: Final = {
    "demo": ("emulator", "walk the customer/token/3DS/order flow against an embedded emulator"),
    "emulator": ("emulator", "run the stateful Wonder Gateway emulator"),
    "echo": ("emulator", "signature self-test against /echo"),
    "customers": ("customers", "customer profiles"),
    "tokens": ("tokens", "payment tokens of a customer"),
    "payments": ("payments", "charge saved payment tokens"),
    "orders": ("payments", "orders and their transactions"),
    "conformance": (
        "conformance",
        "find which reading of the unknown gateway behaviours a sandbox follows",
    ),
}


def _parser(command: str | None) -> argparse.ArgumentParser:
    """The parser, with the full options of ``command``'s module and a stub for the rest."""
    parser = argparse.ArgumentParser(
        prog="wonder", description="Wonder Gateway Customer API from the command line."
    )
    parser.add_argument("--version", action="version", version=f"wonder {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = COMMANDS[command][0] if command in COMMANDS else None
    for name, (module, text) in COMMANDS.items():
        if name in sub.choices:
            continue
        if module == chosen:
            from ._common import connection_parser

            importlib.import_module(f"{__name__}.{module}").register(sub, connection_parser())
        else:
            sub.add_parser(name, help=text)
    return parser


def _leaf(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the command the arguments chose, e.g. ``orders list``'s."""
    while True:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        name = getattr(args, actions[0].dest, None) if actions else None
        if name is None:
            return parser
        parser = actions[0].choices[name]


def main(argv: list[str] | None = None) -> int:
    """Run the ``wonder`` command; return its exit status."""
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = _parser(command)
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # in the usage of the subcommand they were given to, not the top level's
        _leaf(parser, args).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("wonder: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from .._errors import WonderError

        if not isinstance(exc, WonderError):
            raise
        print(f"wonder: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
