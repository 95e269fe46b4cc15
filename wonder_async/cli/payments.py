"""``wonder payments charge|create`` and ``wonder orders get|list|void|refund``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .._bulk import CHARGE_NAMESPACE
from .._client import WonderClient
from .._errors import WonderError
from . import COMMANDS
from ._common import client, emit, run_async
from ._files import Outcome, add_bulk_arguments, run_file

__all__ = ["ChargePending", "register"]


class ChargePending(WonderError):
    """A billing row whose charge the gateway has not settled yet (not paid, not declined).

    Recorded with ``"status": "pending"`` and ``retryable`` true, so ``--resume`` takes the
    row again: its ``payment_uuid`` is looked up, never charged twice, and the row is
    recorded as it has settled by then.
    """

    retryable = True


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``payments`` and ``orders`` command groups to the top-level subparsers."""
    payments = sub.add_parser("payments", help=COMMANDS["payments"][1])
    psub = payments.add_subparsers(dest="action", required=True, metavar="ACTION")
    charge = psub.add_parser(
        "charge",
        parents=[common],
        help="billing run: charge every row of a CSV or JSONL file, each at most once",
        description=(
            "Charge every row of a CSV (header row) or JSONL file. Columns: token, amount, and "
            "the order: reference_number (or number) of an existing order, or reference_number "
            "+ currency [+ customer_uuid, tips, note, due_date, callback_url, redirect_url] to "
            "create it and pay in one call; optional consume_mode, payment_uuid. A row without "
            "payment_uuid is charged with uuid5(" + str(CHARGE_NAMESPACE) + ", "
            "'REFERENCE_NUMBER|AMOUNT|TOKEN'), AMOUNT as two-place text ('21.00'), so "
            "running the same file again -- after a kill, without --resume, on another machine "
            "-- finds earlier charges instead of charging twice. Writes one JSON line per row "
            "to --out (status succeeded, pending or failed); a pending row (charged, not "
            "settled by the gateway yet) is settled by --resume, which looks it up and never "
            "charges it again. Exits 1 while any row of the file stands failed (declined, "
            "refused) or pending."
        ),
    )
    add_bulk_arguments(charge, concurrency=16, what="charges")
    charge.set_defaults(handler=run_async(_charge))

    create = psub.add_parser(
        "create",
        parents=[common],
        help="charge a saved token once, for an existing order or a new one",
        description=(
            "Charge --token for the order named by --reference-number or --number; with "
            "--currency (and --customer-uuid) the order is created and paid in one call."
        ),
    )
    create.add_argument("--token", required=True, help="the customer's payment token")
    create.add_argument("--amount", required=True, help='e.g. "21.00"')
    create.add_argument("--reference-number", default=None, help="your order reference")
    create.add_argument("--number", default=None, help="Wonder's order number")
    create.add_argument("--currency", default=None, help="create the order: ISO 4217, e.g. HKD")
    create.add_argument("--customer-uuid", default=None, help="create the order for a customer")
    create.add_argument("--consume-mode", default="sales", choices=["sales", "pre_authorize"])
    create.add_argument(
        "--payment-uuid",
        default=None,
        help="your id of this charge (a repeat never charges twice)",
    )
    create.set_defaults(handler=run_async(_create))

    orders = sub.add_parser("orders", help=COMMANDS["orders"][1])
    osub = orders.add_subparsers(dest="action", required=True, metavar="ACTION")
    get = osub.add_parser("get", parents=[common], help="an order with its transactions")
    _order_key_arguments(get, transaction=True)
    get.set_defaults(handler=run_async(_get))
    lst = osub.add_parser("list", parents=[common], help="list orders, one per line")
    lst.add_argument("--customer-uuid", default=None, help="only this customer's orders")
    lst.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="FIELD:OP=VALUE",
        help="Query DSL filter, e.g. correspondence_state:_eq=paid (repeatable)",
    )
    lst.add_argument("--page-size", type=int, default=100)
    lst.add_argument("--limit", type=int, default=0, help="stop after this many (0: all)")
    lst.set_defaults(handler=run_async(_list))
    void = osub.add_parser(
        "void", parents=[common], help="void a transaction, or a whole unpaid order"
    )
    _order_key_arguments(void, transaction=False)
    void.add_argument("--transaction-uuid", default=None, help="the sale to void")
    void.set_defaults(handler=run_async(_void))
    refund = osub.add_parser("refund", parents=[common], help="refund all or part of a sale")
    _order_key_arguments(refund, transaction=False)
    refund.add_argument("--transaction-uuid", required=True, help="the sale to refund")
    refund.add_argument("--amount", required=True, help='e.g. "5.00"')
    refund.set_defaults(handler=run_async(_refund))


def _order_key_arguments(parser: argparse.ArgumentParser, *, transaction: bool) -> None:
    parser.add_argument("--number", default=None, help="Wonder's order number")
    parser.add_argument("--reference-number", default=None, help="your order reference")
    if transaction:
        parser.add_argument(
            "--transaction-uuid", default=None, help="a transaction's uuid (a payment_uuid)"
        )


# --- payments -----------------------------------------------------------------------------


async def _charge(args: argparse.Namespace) -> int:
    async def start(wonder: WonderClient, rows: Iterator[dict[str, Any]]) -> AsyncIterator[Outcome]:
        async for result in wonder.payments.create_many(rows, concurrency=args.concurrency):
            fields: dict[str, Any] = {
                "reference_number": result.reference_number,
                "payment_uuid": result.payment_uuid,
            }
            payment = result.payment
            if payment is not None:
                fields.update(
                    status=payment.status,
                    transaction_uuid=payment.transaction.uuid,
                    amount=payment.transaction.amount,
                    order_number=payment.order.number,
                    correspondence_state=payment.order.correspondence_state,
                    recovered=payment.recovered,
                )
            error = result.error
            if error is None and result.pending:
                error = ChargePending(
                    f"charged, pending at the gateway (payment_uuid {result.payment_uuid}): "
                    "run again with --resume to settle it; it is looked up, never charged twice"
                )
            elif error is not None:
                fields["status"] = "failed"
            yield Outcome(result.index, fields, error)

    return await run_file(args, verb="charged", start=start)


async def _create(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        if args.currency is not None or args.customer_uuid is not None:
            if args.number is not None:
                print("wonder: a new order takes --reference-number, not --number", file=sys.stderr)
                return 2
            payment = await wonder.payments.create_with_order(
                reference_number=args.reference_number,
                customer_uuid=args.customer_uuid,
                currency=args.currency,
                token=args.token,
                amount=args.amount,
                consume_mode=args.consume_mode,
                payment_uuid=args.payment_uuid,
            )
        else:
            payment = await wonder.payments.create(
                token=args.token,
                amount=args.amount,
                reference_number=args.reference_number,
                number=args.number,
                consume_mode=args.consume_mode,
                payment_uuid=args.payment_uuid,
            )
        emit(args, payment)
    return 0


# --- orders -------------------------------------------------------------------------------


async def _get(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        order = await wonder.orders.get(
            number=args.number,
            reference_number=args.reference_number,
            transaction_uuid=args.transaction_uuid,
        )
        emit(args, order)
    return 0


def _filters(texts: list[str]) -> dict[str, dict[str, str]]:
    filters: dict[str, dict[str, str]] = {}
    for text in texts:
        field, sep, rest = text.partition(":")
        op, eq, value = rest.partition("=")
        if not (sep and eq and field and op):
            raise ValueError(f"--filter {text!r} must look like FIELD:OP=VALUE")
        filters.setdefault(field, {})[op] = value
    return filters


async def _list(args: argparse.Namespace) -> int:
    try:
        filters = _filters(args.filter)
    except ValueError as exc:
        print(f"wonder: {exc}", file=sys.stderr)
        return 2
    async with client(args) as wonder:
        count = 0
        listed = wonder.orders.list(
            customer_uuid=args.customer_uuid, filters=filters or None, page_size=args.page_size
        )
        async for order in listed:
            emit(args, order)
            count += 1
            if args.limit and count >= args.limit:
                break
    return 0


async def _void(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        order = await wonder.orders.void(
            number=args.number,
            reference_number=args.reference_number,
            transaction_uuid=args.transaction_uuid,
        )
        emit(args, order)
    return 0


async def _refund(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        refund = await wonder.orders.refund(
            number=args.number,
            reference_number=args.reference_number,
            transaction_uuid=args.transaction_uuid,
            amount=args.amount,
        )
        emit(args, refund)
    return 0
