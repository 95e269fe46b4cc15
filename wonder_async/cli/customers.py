"""``wonder customers upsert|get|list``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._models import UpsertResult
from ._common import Progress, client, emit, error_record, run_async
from ._files import count_lines, is_jsonl, load_done, parse_shard, read_rows, shard_of

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``customers`` command group to the top-level subparsers."""
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
    upsert.set_defaults(handler=run_async(_bulk_upsert))
    get = csub.add_parser("get", parents=[common], help="one customer by uuid or reference")
    get.add_argument("uuid", nargs="?", default=None)
    get.add_argument("--reference", default=None, help="look up by your reference_number")
    get.set_defaults(handler=run_async(_get))
    lst = csub.add_parser("list", parents=[common], help="list customers")
    lst.add_argument("--page-size", type=int, default=100)
    lst.add_argument("--limit", type=int, default=0, help="stop after this many (0: all)")
    lst.set_defaults(handler=run_async(_list))


async def _get(args: argparse.Namespace) -> int:
    if (args.uuid is None) == (args.reference is None):
        print("wonder: give a UUID or --reference, not both", file=sys.stderr)
        return 2
    async with client(args) as wonder:
        customer = (
            await wonder.customers.get(args.uuid)
            if args.uuid
            else await wonder.customers.get_by_reference(args.reference)
        )
        emit(args, customer)
    return 0


async def _list(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        count = 0
        async for customer in wonder.customers.list(page_size=args.page_size):
            emit(args, customer)
            count += 1
            if args.limit and count >= args.limit:
                break
    return 0


async def _bulk_upsert(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.exists():  # noqa: ASYNC240 - one stat before the run starts
        print(f"wonder: no such file: {path}", file=sys.stderr)
        return 2
    shard, shards = parse_shard(args.shard)
    out_path = Path(args.out) if args.out else path.with_suffix(".results.jsonl")
    done = load_done(out_path) if args.resume else set()
    if not args.resume and out_path.exists() and out_path.stat().st_size:
        print(f"wonder: {out_path} exists; pass --resume to continue it", file=sys.stderr)
        return 2
    total = None
    if sys.stderr.isatty():  # a bar with an ETA needs the row count: one fast pass over bytes
        header = 0 if is_jsonl(path) else 1
        total = max(count_lines(path) - header, 0) // shards
    progress = Progress(total)
    ok = failed = skipped = 0
    in_flight: dict[int, int] = {}

    with out_path.open("a", encoding="utf-8") as out:

        def write(record: dict[str, Any]) -> None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

        def rows() -> Iterator[dict[str, Any]]:
            nonlocal failed, skipped
            index = 0
            for line, row, problem in read_rows(path):
                ref = row.get("reference_number") if row else None
                if shards > 1 and shard_of(ref if isinstance(ref, str) else "", shards) != shard:
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

        async with client(args) as wonder:
            result: UpsertResult
            async for result in wonder.customers.upsert_many(rows(), concurrency=args.concurrency):
                line = in_flight.pop(result.index)
                record: dict[str, Any] = {"line": line, "reference_number": result.reference_number}
                if result.customer is not None:
                    record.update(ok=True, uuid=result.customer.uuid)
                    ok += 1
                else:
                    assert result.error is not None
                    record.update(ok=False, **error_record(result.error))
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
