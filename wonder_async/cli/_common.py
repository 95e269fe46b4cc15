"""What every command group shares: credentials, the client, output, and progress display."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final, TextIO

import attrs

from .. import _loops
from .._client import WonderClient
from .._errors import ConfigurationError, ValidationError, WonderError
from ._human import human_lines, plural

__all__ = [
    "Handler",
    "Progress",
    "client",
    "connection_parser",
    "emit",
    "error_record",
    "jsonable",
    "plural",
    "run_async",
]

Handler = Callable[[argparse.Namespace], int]
"""What a command does: parsed arguments in, exit status out (set as ``handler`` default)."""


def run_async(command: Callable[[argparse.Namespace], Awaitable[int]]) -> Handler:
    """A handler that runs an async command on a fresh event loop (uvloop's if installed)."""

    def handler(args: argparse.Namespace) -> int:
        async def go() -> int:
            return await command(args)

        return _loops.run(go())

    return handler


# --- credentials and the client -----------------------------------------------------------


def connection_parser() -> argparse.ArgumentParser:
    """A parent parser with the connection options and ``--json``, for API commands."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection (defaults from WONDER_* environment variables)")
    group.add_argument("--app-id", default=None, help="AppID (default: $WONDER_APP_ID)")
    group.add_argument(
        "--private-key-file",
        type=Path,
        default=None,
        help="PEM private key file (default: $WONDER_PRIVATE_KEY or $WONDER_PRIVATE_KEY_FILE)",
    )
    group.add_argument(
        "--environment",
        choices=["sandbox", "production", "alpha"],
        default=None,
        help="gateway environment (default: $WONDER_ENVIRONMENT or sandbox)",
    )
    group.add_argument("--base-url", default=None, help="override the host, e.g. an emulator")
    common.add_argument("--json", action="store_true", help="print JSON, one object per line")
    return common


#: The client's settings as the command line names them, for its configuration errors.
_OPTION_OF: Final = {
    "app_id": "--app-id",
    "private_key": "--private-key-file",
    "environment": "--environment",
    "base_url": "--base-url",
}


def client(args: argparse.Namespace, **kw: Any) -> WonderClient:
    """A client from the connection options, falling back to the environment variables.

    :raises ConfigurationError: in command-line words (``--app-id``, not ``app_id=``).
    """
    key: str | None = None
    if args.private_key_file:
        key = os.fspath(args.private_key_file)
    try:
        return WonderClient(
            app_id=args.app_id,
            private_key=key,
            environment=args.environment,
            base_url=args.base_url,
            **kw,
        )
    except ConfigurationError as exc:
        raise ConfigurationError(_cli_words(str(exc))) from None


def _cli_words(message: str) -> str:
    """``app_id: pass app_id= or set WONDER_APP_ID`` -> ``--app-id: pass --app-id or set ...``."""
    for setting, option in _OPTION_OF.items():
        message = message.replace(f"pass {setting}=", f"pass {option}")
        if message.startswith(f"{setting}:"):
            message = option + message[len(setting) :]
    return message


# --- output -------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Models as plain dicts, nested ones too (``None`` fields dropped, ``extra`` merged in);
    lists and tuples item-wise."""
    if attrs.has(type(value)):
        data = {f.name: getattr(value, f.name) for f in attrs.fields(type(value))}
        extra = data.pop("extra", None) or {}
        return {**{k: jsonable(v) for k, v in data.items() if v is not None}, **extra}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def emit(args: argparse.Namespace, value: Any) -> None:
    """Print a result, a list item by item: one JSON object per item with ``--json``, else
    readable lines (see :mod:`._human`)."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if args.json:
            print(json.dumps(jsonable(item), ensure_ascii=False))
        else:
            for line in human_lines(item):
                print(line)


def error_record(exc: BaseException) -> dict[str, Any]:
    """The fields a results line carries for a failed row (never card data: messages are safe)."""
    record: dict[str, Any] = {"error": str(exc), "error_type": type(exc).__name__}
    if isinstance(exc, ValidationError):
        record["field"] = exc.field
        record["rule"] = exc.rule
    code = getattr(exc, "code", None)
    if code:
        record["code"] = code  # the gateway's error code, e.g. a decline reason
    if isinstance(exc, WonderError):
        record["retryable"] = exc.retryable
        if exc.request_id:
            record["request_id"] = exc.request_id
    return record


# --- progress -----------------------------------------------------------------------------


@attrs.define
class Progress:
    """Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds if not."""

    total: int | None
    stream: TextIO = sys.stderr
    tty: bool = attrs.field(factory=lambda: sys.stderr.isatty())
    done: int = 0
    failed: int = 0
    started: float = attrs.field(factory=time.monotonic)
    last: float = 0.0

    def tick(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        now = time.monotonic()
        if now - self.last >= (0.1 if self.tty else 5.0):
            self.last = now
            self.show()

    def show(self, final: bool = False) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        total = self.total
        if total:
            left = max(total - self.done, 0)
            eta = f"ETA {left / rate:5.0f}s" if rate > 0 else "ETA    ?s"
            frac = min(self.done / total, 1.0)
            width = 30
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            text = (
                f"[{bar}] {self.done}/{total} {frac:6.1%}  {rate:7.0f} rows/s  {eta}  "
                f"failed {self.failed}"
            )
        else:
            text = f"{plural(self.done, 'row')}  {rate:7.0f} rows/s  failed {self.failed}"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
