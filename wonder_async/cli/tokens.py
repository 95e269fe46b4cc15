"""``wonder tokens list|check|delete|export``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Final, TextIO

from .._bulk import CustomerTokens
from .._errors import NotFoundError
from .._models import PaymentToken
from . import COMMANDS
from ._common import Progress, client, emit, plural, run_async

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``tokens`` command group to the top-level subparsers."""
    tokens = sub.add_parser("tokens", help=COMMANDS["tokens"][1])
    tsub = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    tlist = tsub.add_parser("list", parents=[common], help="list a customer's tokens")
    tlist.add_argument("customer", help="customer uuid")
    tlist.add_argument("--token-type", default=None, help="only this token_type, e.g. CreditCard")
    tlist.set_defaults(handler=run_async(_list))
    tcheck = tsub.add_parser("check", parents=[common], help="current state of a token")
    tcheck.add_argument("customer", help="customer uuid")
    tcheck.add_argument("token")
    tcheck.add_argument("--verify-uuid", default=None)
    tcheck.set_defaults(handler=run_async(_check))
    tdelete = tsub.add_parser("delete", parents=[common], help="delete a token")
    tdelete.add_argument("customer", help="customer uuid")
    tdelete.add_argument("token")
    tdelete.set_defaults(handler=run_async(_delete))
    texport = tsub.add_parser(
        "export",
        parents=[common],
        help="stream every customer's tokens to a JSONL file",
        description=(
            "Page through all customers and list each one's tokens, writing one JSON object "
            "per token to --out: customer_uuid, customer_reference, token, token_type, state, "
            "default, card (masked), brand, exp_month, exp_year (and error_code for a failed "
            "bind). Memory stays bounded. A checkpoint (OUT.checkpoint) is saved as it goes; "
            "after a kill, --resume continues where it stopped and writes no token twice. "
            "Exits 1 if a customer's tokens could not be read (rerun with --resume)."
        ),
    )
    texport.add_argument("--out", required=True, help="tokens.jsonl")
    texport.add_argument("--concurrency", type=int, default=32, help="token lists in flight")
    texport.add_argument("--token-type", default=None, help="only this token_type, e.g. CreditCard")
    texport.add_argument(
        "--page-size", type=int, default=1000, help="customers per list call (1-1000)"
    )
    texport.add_argument(
        "--resume", action="store_true", help="continue an export stopped before the end"
    )
    texport.set_defaults(handler=run_async(_export))


async def _list(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        emit(args, await wonder.payment_tokens.list(args.customer, token_type=args.token_type))
    return 0


async def _check(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        token = await wonder.payment_tokens.check(
            args.customer, args.token, verify_uuid=args.verify_uuid
        )
        emit(args, token)
    return 0


async def _delete(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        await wonder.payment_tokens.delete(args.customer, args.token)
        emit(args, {"deleted": args.token})
    return 0


# --- export -------------------------------------------------------------------------------

_CHECKPOINT_EVERY: Final = 0.5  # seconds between checkpoints


def _token_line(customer: CustomerTokens, token: PaymentToken) -> dict[str, Any]:
    card = token.credit_card
    line: dict[str, Any] = {
        "customer_uuid": customer.customer.uuid,
        "customer_reference": customer.customer.reference_number,
        "token": token.token,
        "token_type": token.token_type,
        "state": token.state,
        "default": token.default,
        "card": card.number if card else None,
        "brand": card.brand if card else None,
        "exp_month": card.exp_month if card else None,
        "exp_year": card.exp_year if card else None,
    }
    if token.error_code:
        line["error_code"] = token.error_code
    return line


class _Checkpoint:
    """``OUT.checkpoint``: how far an export got, saved atomically (write, then rename).

    ``resume_offset``: every customer before it is in the file; ``bytes``: the file's length
    then (a resume cuts anything after it); ``customers``: uuids of the customers written at
    or after ``resume_offset - page_size``, skipped on resume so none is written twice.
    """

    def __init__(self, out: Path, token_type: str | None, page_size: int) -> None:
        self.path = out.with_name(out.name + ".checkpoint")
        self.token_type = token_type
        self.page_size = page_size
        self.resume_offset = 0
        self.bytes = 0
        self.written: dict[int, str] = {}
        self.complete = False
        # Customers from the checkpoint a resume started at: their offsets were not saved, so
        # they are kept until the export is a page past the point it resumed from.
        self.carried: list[str] = []
        self.carried_until = 0

    def load(self) -> str | None:
        """Read the saved checkpoint; return what is wrong with it, if anything."""
        if not self.path.exists():
            return f"no checkpoint {self.path}; start again with a fresh --out"
        data = json.loads(self.path.read_text(encoding="utf-8"))
        if data.get("token_type") != self.token_type or data.get("page_size") != self.page_size:
            return (
                "--token-type and --page-size must be those of the stopped export "
                f"({data.get('token_type')!r}, {data.get('page_size')})"
            )
        self.resume_offset = int(data["resume_offset"])
        self.bytes = int(data["bytes"])
        self.carried = [str(u) for u in data.get("customers", [])]
        self.carried_until = self.resume_offset + self.page_size
        self.complete = bool(data.get("complete"))
        return None

    def save(self, out: TextIO) -> None:
        out.flush()
        self.bytes = out.tell()
        floor = self.resume_offset - self.page_size
        self.written = {o: u for o, u in self.written.items() if o >= floor}
        if self.resume_offset >= self.carried_until:
            self.carried = []
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "resume_offset": self.resume_offset,
                    "bytes": self.bytes,
                    "customers": [*self.carried, *self.written.values()],
                    "token_type": self.token_type,
                    "page_size": self.page_size,
                    "complete": self.complete,
                }
            ),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)


async def _export(args: argparse.Namespace) -> int:
    out_path = Path(args.out)
    checkpoint = _Checkpoint(out_path, args.token_type, args.page_size)
    if args.resume:
        problem = checkpoint.load()
        if problem:
            print(f"wonder: {problem}", file=sys.stderr)
            return 2
        if checkpoint.complete:
            print(f"wonder: {out_path} is already complete", file=sys.stderr)
            return 0
        with out_path.open("r+b") as f:  # noqa: ASYNC230 - before the first request
            if f.seek(0, os.SEEK_END) < checkpoint.bytes:
                print(f"wonder: {out_path} is shorter than its checkpoint says", file=sys.stderr)
                return 2
            f.truncate(checkpoint.bytes)  # lines after the last checkpoint are written again
    elif out_path.exists() and out_path.stat().st_size:  # noqa: ASYNC240 - one stat up front
        print(f"wonder: {out_path} exists; pass --resume to continue it", file=sys.stderr)
        return 2
    else:
        out_path.write_bytes(b"")  # noqa: ASYNC240 - before the first request
    progress = Progress(None)
    customers = tokens = 0
    failed: CustomerTokens | None = None
    last_save = time.monotonic()
    with out_path.open("a", encoding="utf-8") as out:  # noqa: ASYNC230 - buffered appends
        checkpoint.save(out)
        async with client(args) as wonder:
            export = wonder.payment_tokens.export(
                concurrency=args.concurrency,
                token_type=args.token_type,
                page_size=args.page_size,
                start_offset=checkpoint.resume_offset,
                skip_customers=checkpoint.carried,
            )
            async for result in export:
                if result.error is not None and not isinstance(result.error, NotFoundError):
                    failed = result  # stop here: the checkpoint stays before this customer
                    break
                for token in result.tokens:  # a customer deleted meanwhile has none (404)
                    out.write(json.dumps(_token_line(result, token), ensure_ascii=False) + "\n")
                tokens += len(result.tokens)
                customers += 1
                checkpoint.written[result.offset] = result.customer.uuid or ""
                checkpoint.resume_offset = result.resume_offset
                progress.tick(True)
                if time.monotonic() - last_save >= _CHECKPOINT_EVERY:
                    checkpoint.save(out)
                    last_save = time.monotonic()
            checkpoint.complete = failed is None
            checkpoint.save(out)
    progress.show(final=True)
    summary: dict[str, Any] = {
        "customers": customers,
        "tokens": tokens,
        "complete": failed is None,
        "out": str(out_path),
        "seconds": round(time.monotonic() - progress.started, 2),
    }
    if failed is not None:
        summary["error"] = f"{type(failed.error).__name__}: {failed.error}"
        summary["customer_uuid"] = failed.customer.uuid
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"exported {plural(tokens, 'token')} of {plural(customers, 'customer')} to {out_path}"
        )
        if failed is not None:
            print(
                f"wonder: stopped at customer {failed.customer.uuid}: {summary['error']}; "
                "rerun with --resume to continue",
                file=sys.stderr,
            )
    return 0 if failed is None else 1
