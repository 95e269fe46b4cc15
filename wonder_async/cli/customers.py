"""``wonder customers upsert|get|list``."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .._client import WonderClient
from .._errors import NotFoundError
from . import COMMANDS
from ._common import client, emit, run_async
from ._files import Outcome, add_bulk_arguments, run_file

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``customers`` command group to the top-level subparsers."""
    customers = sub.add_parser("customers", help=COMMANDS["customers"][1])
    csub = customers.add_subparsers(dest="action", required=True, metavar="ACTION")
    upsert = csub.add_parser(
        "upsert",
        parents=[common],
        help="bulk upsert customers from a CSV or JSONL file",
        description=(
            "Upsert every row of a CSV (header row) or JSONL file. Columns: reference_number, "
            "name, phone, email, dial_code, company_name, default_payment_method, "
            "default_payment_token. Writes one JSON line per row to --out; exits 1 while "
            "any row of the file stands failed, also after --resume (which retries rows that "
            "failed with a retryable error, and rows edited since they failed)."
        ),
    )
    add_bulk_arguments(upsert, concurrency=32, what="upserts")
    upsert.set_defaults(handler=run_async(_bulk_upsert))
    get = csub.add_parser(
        "get", parents=[common], help="one customer by uuid or by your reference number"
    )
    get.add_argument("uuid", nargs="?", default=None, help="Wonder's customer uuid")
    get.add_argument("--reference-number", default=None, help="look up by your reference")
    get.set_defaults(handler=run_async(_get))
    lst = csub.add_parser("list", parents=[common], help="list customers")
    lst.add_argument("--page-size", type=int, default=100)
    lst.add_argument("--limit", type=int, default=0, help="stop after this many (0: all)")
    lst.set_defaults(handler=run_async(_list))


async def _get(args: argparse.Namespace) -> int:
    if (args.uuid is None) == (args.reference_number is None):
        print("wonder: give a customer uuid or --reference-number, not both", file=sys.stderr)
        return 2
    async with client(args) as wonder:
        if args.uuid is None:
            customer = await wonder.customers.get_by_reference(args.reference_number)
        else:
            try:
                customer = await wonder.customers.get(args.uuid)
            except NotFoundError:
                if not _looks_like_uuid(args.uuid):
                    print(
                        f"wonder: {args.uuid!r} is not a customer uuid; to look a customer up "
                        f"by your reference: wonder customers get --reference-number {args.uuid}",
                        file=sys.stderr,
                    )
                raise
        emit(args, customer)
    return 0


def _looks_like_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


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
    async def start(wonder: WonderClient, rows: Iterator[dict[str, Any]]) -> AsyncIterator[Outcome]:
        async for result in wonder.customers.upsert_many(rows, concurrency=args.concurrency):
            fields: dict[str, Any] = {"reference_number": result.reference_number}
            if result.customer is not None:
                fields["uuid"] = result.customer.uuid
            yield Outcome(result.index, fields, result.error)

    return await run_file(args, verb="upserted", start=start)
