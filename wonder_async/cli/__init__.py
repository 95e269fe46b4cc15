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
"""

from __future__ import annotations

import argparse
import sys

from .._errors import WonderError
from . import conformance, customers, emulator, payments, tokens
from ._common import Handler, connection_parser

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    common = connection_parser()
    parser = argparse.ArgumentParser(
        prog="wonder", description="Wonder Gateway Customer API from the command line."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    emulator.register(sub, common)
    customers.register(sub, common)
    tokens.register(sub, common)
    payments.register(sub, common)
    conformance.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``wonder`` command; return its exit status."""
    args = _parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except WonderError as exc:
        print(f"wonder: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wonder: interrupted", file=sys.stderr)
        return 130
