"""Fault soak: many upserts and card bindings against the emulator injecting faults.

Prints calls, faults injected by kind, retries, successes, duplicates and deadline overruns.
Every upsert must end with the right customer, no reference_number may map to two uuids, no
call may outlast its deadline, and no binding attempt may leave two tokens.

    python benchmarks/soak.py                       # 5,000 upserts + 500 bindings, 20% faults
    python benchmarks/soak.py --upserts 1000 --faults '*:503=0.3,reset_after=0.1' --json

Card binding is not idempotent, so the SDK does not repeat it after an ambiguous failure; this
script reconciles the way the SDK's error tells users to: list the customer's tokens, and only
bind again when the card is not there.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from collections import Counter
from typing import Any

from wonder_async import Card, ThreeDS, WonderClient, WonderError
from wonder_async.testing import Emulator, parse_faults

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
    year = dt.datetime.now(dt.timezone.utc).year + 2
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


async def run_soak(
    *,
    upserts: int,
    bindings: int,
    concurrency: int,
    faults: str,
    seed: int,
    timeout: float = TIMEOUT,
    max_retries: int = 8,
) -> dict[str, Any]:
    """Run the soak and return its figures."""
    stats: Counter[str] = Counter()
    with Emulator.in_thread() as emu:
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
            elapsed = time.monotonic() - started
        emu.faults.clear()
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
        "deadline overruns": stats["deadline overruns"],
        "seconds": round(elapsed, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upserts", type=int, default=5000)
    parser.add_argument("--bindings", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--faults", default=DEFAULT_FAULTS, help="emulator fault spec")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="per-call deadline, s")
    parser.add_argument("--max-retries", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = asyncio.run(
        run_soak(
            upserts=args.upserts,
            bindings=args.bindings,
            concurrency=args.concurrency,
            faults=args.faults,
            seed=args.seed,
            timeout=args.timeout,
            max_retries=args.max_retries,
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
        + figures["deadline overruns"]
        + figures.get("wrong customer", 0)
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
