"""The ``wonder`` command: demo, emulator, bulk upsert, and one-off calls for scripts.

Credentials come from the same environment variables as the client (``WONDER_APP_ID``,
``WONDER_PRIVATE_KEY`` / ``WONDER_PRIVATE_KEY_FILE``, ``WONDER_ENVIRONMENT``,
``WONDER_BASE_URL``) or from ``--app-id``, ``--private-key-file``, ``--environment`` and
``--base-url``. Exit status: 0 success, 1 an API call or a bulk row failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import attrs

from ._client import WonderClient
from ._errors import ValidationError, WonderError
from ._models import UpsertResult

__all__ = ["main"]


# --- output helpers -----------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if attrs.has(type(value)):
        data = attrs.asdict(value, recurse=True)
        extra = data.pop("extra", None) or {}
        return {**{k: v for k, v in data.items() if v is not None}, **extra}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _emit(args: argparse.Namespace, value: Any) -> None:
    data = _jsonable(value)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        if isinstance(row, dict):
            print("  ".join(f"{k}={_short(v)}" for k, v in row.items()))
        else:
            print(row)


def _short(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


def _error_record(exc: BaseException) -> dict[str, Any]:
    record: dict[str, Any] = {"error": str(exc), "error_type": type(exc).__name__}
    if isinstance(exc, ValidationError):
        record["field"] = exc.field
        record["rule"] = exc.rule
    if isinstance(exc, WonderError):
        record["retryable"] = exc.retryable
        if exc.request_id:
            record["request_id"] = exc.request_id
    return record


# --- client construction ------------------------------------------------------------------


def _client(args: argparse.Namespace, **kw: Any) -> WonderClient:
    key: str | None = None
    if args.private_key_file:
        key = os.fspath(args.private_key_file)
    return WonderClient(
        app_id=args.app_id,
        private_key=key,
        environment=args.environment,
        base_url=args.base_url,
        **kw,
    )


# --- bulk upsert --------------------------------------------------------------------------


@attrs.define
class _Progress:
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
            text = f"{self.done} rows  {rate:7.0f} rows/s  failed {self.failed}"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            count += chunk.count(b"\n")
    return count


def _read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield ``(line_number, row, parse_error)`` lazily from a CSV or JSONL file."""
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, None, f"not valid JSON: {exc.msg}"
                    continue
                if not isinstance(row, dict):
                    yield number, None, "not a JSON object"
                    continue
                yield number, {k: _cell(v) for k, v in row.items()}, None
        return
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            number = reader.line_num
            if None in row:
                yield number, None, "more cells than header columns"
                continue
            yield number, {k: v for k, v in row.items() if v not in (None, "")}, None


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


def _shard_of(reference_number: str, count: int) -> int:
    return zlib.crc32(reference_number.encode()) % count


def _parse_shard(text: str | None) -> tuple[int, int]:
    if text is None:
        return 0, 1
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise SystemExit("--shard must look like i/n, e.g. 0/4") from None
    if not (count >= 1 and 0 <= index < count):
        raise SystemExit("--shard i/n needs 0 <= i < n")
    return index, count


def _load_done(out: Path) -> set[int]:
    """Lines already finished in a results file (done, or failed for good); trims a torn tail."""
    done: set[int] = set()
    if not out.exists():
        return done
    with out.open("rb+") as f:
        data = f.read()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            f.truncate(keep)  # a kill mid-write left half a line; its row is simply redone
        for raw in io.BytesIO(data[:keep]):
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if record.get("ok") or not record.get("retryable", False):
                done.add(int(record["line"]))
    return done


async def _bulk_upsert(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.exists():  # noqa: ASYNC240 - one stat before the run starts
        print(f"wonder: no such file: {path}", file=sys.stderr)
        return 2
    shard, shards = _parse_shard(args.shard)
    out_path = Path(args.out) if args.out else path.with_suffix(".results.jsonl")
    done = _load_done(out_path) if args.resume else set()
    if not args.resume and out_path.exists() and out_path.stat().st_size:
        print(f"wonder: {out_path} exists; pass --resume to continue it", file=sys.stderr)
        return 2
    total = None
    if sys.stderr.isatty():  # a bar with an ETA needs the row count: one fast pass over bytes
        header = 0 if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else 1
        total = max(_count_lines(path) - header, 0) // shards
    progress = _Progress(total)
    ok = failed = skipped = 0
    in_flight: dict[int, int] = {}

    with out_path.open("a", encoding="utf-8") as out:

        def write(record: dict[str, Any]) -> None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

        def rows() -> Iterator[dict[str, Any]]:
            nonlocal failed, skipped
            index = 0
            for line, row, problem in _read_rows(path):
                ref = row.get("reference_number") if row else None
                if shards > 1 and _shard_of(ref if isinstance(ref, str) else "", shards) != shard:
                    continue
                if line in done:
                    skipped += 1
                    continue
                if row is None:
                    write({"line": line, "ok": False, "error": problem, "retryable": False})
                    failed += 1
                    progress.tick(False)
                    continue
                in_flight[index] = line
                index += 1
                yield row

        async with _client(args) as wonder:
            result: UpsertResult
            async for result in wonder.customers.upsert_many(rows(), concurrency=args.concurrency):
                line = in_flight.pop(result.index)
                record: dict[str, Any] = {"line": line, "reference_number": result.reference_number}
                if result.customer is not None:
                    record.update(ok=True, uuid=result.customer.uuid)
                    ok += 1
                else:
                    assert result.error is not None
                    record.update(ok=False, **_error_record(result.error))
                    failed += 1
                write(record)
                progress.tick(result.ok)
    progress.show(final=True)
    summary = {
        "upserted": ok,
        "failed": failed,
        "skipped": skipped,
        "results": str(out_path),
        "seconds": round(time.monotonic() - progress.started, 2),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"upserted {ok}, failed {failed}, skipped {skipped} (already done); "
            f"results in {out_path}"
        )
    return 1 if failed else 0


# --- one-off commands ---------------------------------------------------------------------


async def _one_off(args: argparse.Namespace) -> int:
    async with _client(args) as wonder:
        cmd = args.command
        if cmd == "echo":
            _emit(args, {"message": await wonder.echo(args.message)})
        elif cmd == "customers" and args.action == "get":
            if (args.uuid is None) == (args.reference is None):
                print("wonder: give a UUID or --reference, not both", file=sys.stderr)
                return 2
            customer = (
                await wonder.customers.get(args.uuid)
                if args.uuid
                else await wonder.customers.get_by_reference(args.reference)
            )
            _emit(args, customer)
        elif cmd == "customers" and args.action == "list":
            count = 0
            async for customer in wonder.customers.list(page_size=args.page_size):
                _emit(args, customer)
                count += 1
                if args.limit and count >= args.limit:
                    break
        elif cmd == "tokens" and args.action == "list":
            _emit(args, await wonder.payment_tokens.list(args.customer, token_type=args.type))
        elif cmd == "tokens" and args.action == "check":
            token = await wonder.payment_tokens.check(
                args.customer, args.token, verify_uuid=args.verify_uuid
            )
            _emit(args, token)
        elif cmd == "tokens" and args.action == "delete":
            await wonder.payment_tokens.delete(args.customer, args.token)
            _emit(args, {"deleted": args.token})
    return 0


# --- argument parsing ---------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
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

    parser = argparse.ArgumentParser(
        prog="wonder", description="Wonder Gateway Customer API from the command line."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser(
        "demo",
        help="walk the whole customer/token/3DS/order flow against an embedded emulator",
        description="Start the emulator in-process and walk the whole flow; no credentials.",
    )
    emulator = sub.add_parser(
        "emulator",
        help="run the stateful Wonder Gateway emulator",
        description="Serve the Wonder Gateway emulator for tests and clients in any language.",
    )
    from .testing._standalone import add_emulator_arguments

    add_emulator_arguments(emulator)

    echo = sub.add_parser("echo", parents=[common], help="signature self-test against /echo")
    echo.add_argument("message", nargs="?", default="Hello,Wonder!")

    customers = sub.add_parser("customers", help="customer profiles")
    csub = customers.add_subparsers(dest="action", required=True, metavar="ACTION")
    upsert = csub.add_parser(
        "upsert",
        parents=[common],
        help="bulk upsert customers from a CSV or JSONL file",
        description=(
            "Upsert every row of a CSV (header row) or JSONL file. Columns: reference_number, "
            "name, phone, email, dial_code, company_name, default_payment_method, "
            "default_payment_token. Writes one JSON line per row to --out; exits 1 if any "
            "row failed."
        ),
    )
    upsert.add_argument("--file", required=True, help="rows.csv or rows.jsonl")
    upsert.add_argument("--concurrency", type=int, default=32, help="upserts in flight")
    upsert.add_argument("--out", default=None, help="results file (default: FILE.results.jsonl)")
    upsert.add_argument("--shard", default=None, help="i/n: only rows whose ref hashes to i")
    upsert.add_argument("--resume", action="store_true", help="skip rows already finished in --out")
    get = csub.add_parser("get", parents=[common], help="one customer by uuid or reference")
    get.add_argument("uuid", nargs="?", default=None)
    get.add_argument("--reference", default=None, help="look up by your reference_number")
    lst = csub.add_parser("list", parents=[common], help="list customers")
    lst.add_argument("--page-size", type=int, default=100)
    lst.add_argument("--limit", type=int, default=0, help="stop after this many (0: all)")

    tokens = sub.add_parser("tokens", help="payment tokens of a customer")
    tsub = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    tlist = tsub.add_parser("list", parents=[common], help="list a customer's tokens")
    tlist.add_argument("customer", help="customer uuid")
    tlist.add_argument("--type", default=None, help="token_type filter, e.g. CreditCard")
    tcheck = tsub.add_parser("check", parents=[common], help="current state of a token")
    tcheck.add_argument("customer", help="customer uuid")
    tcheck.add_argument("token")
    tcheck.add_argument("--verify-uuid", default=None)
    tdelete = tsub.add_parser("delete", parents=[common], help="delete a token")
    tdelete.add_argument("customer", help="customer uuid")
    tdelete.add_argument("token")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``wonder`` command; return its exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from ._demo import run_demo

            return asyncio.run(run_demo())
        if args.command == "emulator":
            from .testing._standalone import run_emulator

            return run_emulator(args)
        if args.command == "customers" and args.action == "upsert":
            return asyncio.run(_bulk_upsert(args))
        return asyncio.run(_one_off(args))
    except WonderError as exc:
        print(f"wonder: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("wonder: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
