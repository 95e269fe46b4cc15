"""``wonder tokens list|check|delete``."""

from __future__ import annotations

import argparse
from typing import Any

from ._common import client, emit, run_async

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``tokens`` command group to the top-level subparsers."""
    tokens = sub.add_parser("tokens", help="payment tokens of a customer")
    tsub = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    tlist = tsub.add_parser("list", parents=[common], help="list a customer's tokens")
    tlist.add_argument("customer", help="customer uuid")
    tlist.add_argument("--type", default=None, help="token_type filter, e.g. CreditCard")
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


async def _list(args: argparse.Namespace) -> int:
    async with client(args) as wonder:
        emit(args, await wonder.payment_tokens.list(args.customer, token_type=args.type))
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
