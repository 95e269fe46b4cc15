"""Fault soak: many upserts, card bindings and charges against the emulator injecting faults.

Prints calls, faults injected by kind, retries, successes, duplicates and deadline overruns.
Every upsert must end with the right customer, no reference_number may map to two uuids, no
call may outlast its deadline, no binding attempt may leave two tokens, and every charge must
end in the gateway's ledger exactly as the SDK reported it: charged once when it returned a
Payment, not at all when it raised; never twice. Half the charges carry the caller's own
``payment_uuid``, half let the SDK make one.

    python benchmarks/soak.py                       # 5,000 upserts, 500 bindings, 500 charges
    python benchmarks/soak.py --upserts 1000 --faults '*:503=0.3,reset_after=0.1' --json

Card binding is not idempotent, so the SDK does not repeat it after an ambiguous failure; this
script reconciles the way the SDK's error tells users to: list the customer's tokens, and only
bind again when the card is not there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

from wonder_async import (
    Card,
    NotFoundError,
    OutcomeUnknownError,
    ThreeDS,
    WonderClient,
    WonderError,
)
from wonder_async.testing import Emulator, Readings, parse_faults

DEFAULT_FAULTS = (
    "*:latency=0.04@20ms,reset=0.03,reset_after=0.03,500=0.03,503=0.03,429=0.03@0.2,truncated=0.03"
)
TIMEOUT = 15.0  # per-call deadline; --timeout changes it
# Scheduling slack on a loaded 2-core machine: a call "overruns" only beyond deadline + this.
SLACK = 0.25


async def _upserts(
    wonder: WonderClient, count: int, concurrency: int, stats: Counter[str], timeout: float
) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        ref = f"soak-{i % max(count // 2, 1)}"  # every reference is upserted twice
        async with sem:
            started = time.monotonic()
            try:
                customer = await wonder.customers.upsert(
                    reference_number=ref, name=f"Name {ref}", phone="12345678"
                )
            except WonderError as exc:
                stats[f"upsert failed: {type(exc).__name__}"] += 1
                return
            finally:
                if time.monotonic() - started > timeout + SLACK:
                    stats["deadline overruns"] += 1
            stats["upserts ok"] += 1
            seen.setdefault(ref, set()).add(customer.uuid or "")
            if customer.reference_number != ref or customer.name != f"Name {ref}":
                stats["wrong customer"] += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    return seen


async def _bindings(
    wonder: WonderClient, count: int, concurrency: int, stats: Counter[str]
) -> list[str]:
    sem = asyncio.Semaphore(concurrency)
    year = time.gmtime().tm_year + 2
    card = Card(number="4242424242424242", exp_month=12, exp_year=year, holder_name="SOAK")
    three_ds = ThreeDS("https://shop.example/ok", "https://shop.example/fail")
    uuids: list[str] = []

    async def one(i: int) -> None:
        async with sem:
            customer = await wonder.customers.upsert(
                reference_number=f"bind-{i}", name="Binder", phone="1"
            )
            assert customer.uuid is not None
            uuids.append(customer.uuid)
            for _attempt in range(10):
                try:
                    await wonder.payment_tokens.create(customer.uuid, card=card, three_ds=three_ds)
                    stats["bindings ok"] += 1
                    return
                except WonderError:
                    stats["binding reconciliations"] += 1
                    tokens = await wonder.payment_tokens.list(customer.uuid)
                    if tokens:  # the ambiguous attempt did bind the card
                        stats["bindings ok"] += 1
                        return
            stats["bindings failed"] += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    return uuids


async def _order_for(wonder: WonderClient, ref: str, customer_uuid: str) -> None:
    """Create the order; order creation is not repeated blindly, so reconcile by looking up."""
    for _attempt in range(10):
        try:
            await wonder.orders.create(
                reference_number=ref,
                charge_fee="10.00",
                currency="HKD",
                customer_uuid=customer_uuid,
            )
            return
        except WonderError:
            try:
                await wonder.orders.get(reference_number=ref)
                return
            except NotFoundError:
                continue
            except WonderError:
                continue
    raise RuntimeError(f"could not create order {ref}")


async def _charges(
    wonder: WonderClient,
    count: int,
    concurrency: int,
    customer_uuids: list[str],
    stats: Counter[str],
) -> dict[str, str]:
    """Charge one order per call; return each order reference's outcome as the SDK told it."""
    sem = asyncio.Semaphore(concurrency)
    outcomes: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for uuid in customer_uuids[: min(count, len(customer_uuids))]:
        listed = await wonder.payment_tokens.list(uuid)
        if listed and listed[0].token:
            tokens[uuid] = listed[0].token
    owners = list(tokens)

    async def one(i: int) -> None:
        ref = f"soak-order-{i}"
        customer_uuid = owners[i % len(owners)]
        async with sem:
            await _order_for(wonder, ref, customer_uuid)
            try:
                payment = await wonder.payments.create(
                    reference_number=ref,
                    token=tokens[customer_uuid],
                    amount="10.00",
                    payment_uuid=f"soak-charge-{i}" if i % 2 else None,
                )
                if payment.pending:  # --reading charges=pending: neither paid nor declined yet
                    stats["charges pending at first"] += 1
                    payment = await wonder.payments.wait(payment, timeout=30, interval=0.05)
                if not payment.succeeded:
                    stats["charges still pending"] += 1
                    outcomes[ref] = "unknown"
                    return
            except OutcomeUnknownError:
                stats["charges outcome unknown"] += 1
                outcomes[ref] = "unknown"
                return
            except WonderError as exc:
                stats[f"charges failed: {type(exc).__name__}"] += 1
                outcomes[ref] = "failed"
                return
            stats["charges ok"] += 1
            if payment.recovered:
                stats["charges recovered by look-up"] += 1
            outcomes[ref] = "charged"

    if owners:
        await asyncio.gather(*(one(i) for i in range(count)))
    return outcomes


async def _ledger(wonder: WonderClient, outcomes: dict[str, str]) -> Counter[str]:
    """Compare what the SDK reported with the gateway's ledger (faults off by now)."""
    verdict: Counter[str] = Counter()
    for ref, told in outcomes.items():
        order = await wonder.orders.get(reference_number=ref)
        charged = sum(1 for t in order.transactions if t.type == "Sales" and t.success)
        if charged > 1:
            verdict["orders charged twice"] += 1
        if told == "charged" and charged == 0:
            verdict["charges reported ok but not in the ledger"] += 1
        if told == "failed" and charged:
            verdict["charges reported failed that went through"] += 1
    return verdict


async def run_soak(
    *,
    upserts: int,
    bindings: int,
    concurrency: int,
    faults: str,
    charges: int = 0,
    seed: int,
    timeout: float = TIMEOUT,
    max_retries: int = 8,
    readings: dict[str, str] | None = None,
    pending_seconds: float = 0.2,
) -> dict[str, Any]:
    """Run the soak and return its figures (the emulator playing ``readings``)."""
    stats: Counter[str] = Counter()
    with Emulator.in_thread(readings=readings, pending_seconds=pending_seconds) as emu:
        emu.faults.seed(seed)
        parse_faults(faults, emu.faults)
        async with WonderClient(
            app_id=emu.app_id,
            private_key=emu.private_key_pem,
            base_url=emu.base_url,
            timeout=timeout,
            attempt_timeout=min(2.0, timeout),
            max_retries=max_retries,
        ) as wonder:
            started = time.monotonic()
            seen = await _upserts(wonder, upserts, concurrency, stats, timeout)
            customer_uuids = await _bindings(wonder, bindings, concurrency, stats)
            outcomes = await _charges(wonder, charges, concurrency, customer_uuids, stats)
            elapsed = time.monotonic() - started
            emu.faults.clear()
            ledger = await _ledger(wonder, outcomes)
        truth = dict(emu.state.by_ref)
        tokens_per_customer = Counter(t["customer_uuid"] for t in emu.state.tokens.values())
        requests = sum(emu.stats["requests"].values())
        injected = dict(emu.stats["faults"])
    duplicates = sum(len(v) > 1 for v in seen.values())
    wrong_uuid = sum(truth.get(ref) not in v for ref, v in seen.items())
    double_tokens = sum(tokens_per_customer[u] > 1 for u in customer_uuids)
    missing_tokens = sum(tokens_per_customer[u] == 0 for u in customer_uuids)
    return {
        "upsert calls": upserts,
        "binding attempts": bindings,
        "http requests": requests,
        "retries and reconciliations": requests - upserts - 2 * bindings,
        "faults injected": injected,
        "faults total": sum(v for k, v in injected.items() if k != "latency"),
        **dict(stats),
        "references with two uuids": duplicates,
        "upserts answered with a uuid the gateway does not hold": wrong_uuid,
        "customers with two tokens": double_tokens,
        "customers with no token": missing_tokens,
        "charge calls": charges,
        "orders charged twice": ledger["orders charged twice"],
        "charges reported ok but not in the ledger": ledger[
            "charges reported ok but not in the ledger"
        ],
        "charges reported failed that went through": ledger[
            "charges reported failed that went through"
        ],
        "deadline overruns": stats["deadline overruns"],
        "seconds": round(elapsed, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upserts", type=int, default=5000)
    parser.add_argument("--bindings", type=int, default=500)
    parser.add_argument("--charges", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--faults", default=DEFAULT_FAULTS, help="emulator fault spec")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="per-call deadline, s")
    parser.add_argument("--max-retries", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--reading",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="play this reading of the real gateway (repeatable; wonder emulator --list-readings)",
    )
    parser.add_argument("--pending-seconds", type=float, default=0.2)
    args = parser.parse_args()
    figures = asyncio.run(
        run_soak(
            upserts=args.upserts,
            bindings=args.bindings,
            charges=args.charges,
            concurrency=args.concurrency,
            faults=args.faults,
            seed=args.seed,
            timeout=args.timeout,
            max_retries=args.max_retries,
            readings=Readings.parse(args.reading).non_default(),
            pending_seconds=args.pending_seconds,
        )
    )
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"fault spec: {args.faults}")
        for key, value in figures.items():
            print(f"{key:<58} {value}")
    bad = (
        figures["references with two uuids"]
        + figures["upserts answered with a uuid the gateway does not hold"]
        + figures["customers with two tokens"]
        + figures["orders charged twice"]
        + figures["charges reported ok but not in the ledger"]
        + figures["charges reported failed that went through"]
        + figures["deadline overruns"]
        + figures.get("wrong customer", 0)
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
