"""Billing run and token export: `wonder payments charge` / `wonder tokens export` vs hand-written.

Starts the emulator (in memory) in its own process, binds a few customers' cards, writes a
billing file of Direct Payment rows (1% bad) and runs, each as its own process:

* `wonder payments charge --file ... --concurrency 64`: before charging, the SDK reads the
  orders of each batch of 100 rows in one orders-list call (filter reference_number _in) and
  charges only rows whose payment_uuid is not on their order yet -- about 1.01 signed calls
  per row, "never twice" without trusting the gateway to dedupe `payment.uuid`;
* hand-written aiohttp + Semaphore loops doing the same signed charges with 0, 1 or 2
  per-row look-ups first (no validation, no retries, no results file). The goal is wonder >=
  0.9x of the charge-only loop ("hand").

Prints rows/s, peak RSS (wait4) and its growth over an idle `wonder` process (goal < 100 MB for
100,000 rows), and checks the emulator's ledger: every good row charged exactly once. Then
seeds customers x 2 tokens and runs `wonder tokens export` at two sizes side by side
(tokens/s, peak RSS and its growth per 1,000 customers -- bounded memory means ~0; a line per
token, none twice). `benchmarks/export_heap.py` shows where the export's memory goes.

    python benchmarks/billing.py                 # 100,000 charges; export of 5,000 and 20,000 x 2
    python benchmarks/billing.py --skip-billing  # only the export: RSS at 5,000 and 20,000
    python benchmarks/billing.py --skip-billing --export-customers 1000,4000   # quicker
    python benchmarks/billing.py --rows 2000 --rounds 3 --skip-export   # ratios, interleaved
    python benchmarks/billing.py --quick         # CI smoke: 1,000 charges; export of 300 x 2
    python benchmarks/billing.py --rows 100000 --only wonder --skip-export   # RSS at 100k
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bulk import _free_port, _run_child, _run_child_cpu

CONCURRENCY = 64
_LABELS = {
    "hand": "hand-written aiohttp: charge",
    "hand1": "hand-written: look-up by uuid + charge",
    "hand2": "hand-written: look-ups by uuid, by order + charge",
    "wonder": "wonder payments charge (batch look-up + charge)",
}
_LOOKUPS = {"hand": 0, "hand1": 1, "hand2": 2}
ROOT = Path(__file__).resolve().parent.parent


def _start_emulator(work: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    key = work / "key.pem"
    port = _free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "wonder_async.testing", "--port", str(port), "--key-out", str(key)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert emulator.stdout is not None
    app_id = emulator.stdout.readline().split()[-1]
    while not emulator.stdout.readline().startswith("base_url"):
        pass
    env = {**os.environ, "WONDER_APP_ID": app_id, "WONDER_PRIVATE_KEY_FILE": str(key),
           "WONDER_BASE_URL": f"http://127.0.0.1:{port}"}  # fmt: skip
    return emulator, env


async def _seed(env: dict[str, str], customers: int, tokens: int, prefix: str) -> list[Any]:
    """Customers with ``tokens`` bound cards each; return ``(customer_uuid, token)`` pairs."""
    from wonder_async import Card, ThreeDS

    three_ds = ThreeDS("https://shop.example/ok", "https://shop.example/fail")
    year = time.gmtime().tm_year + 3
    pairs: list[Any] = []
    async with _client(env) as wonder:
        rows = (
            {"reference_number": f"{prefix}-{i}", "name": "N", "phone": "12345678"}
            for i in range(customers)
        )
        uuids = [r.customer.uuid async for r in wonder.customers.upsert_many(rows, concurrency=64)
                 if r.customer is not None]  # fmt: skip
        sem = asyncio.Semaphore(64)

        async def bind(uuid: str) -> None:
            async with sem:
                card = Card(number="4242424242424242", exp_month=12, exp_year=year,
                            holder_name="TAI MAN", cvv="123")  # fmt: skip
                token = await wonder.payment_tokens.create(uuid, card=card, three_ds=three_ds)
                pairs.append((uuid, token.token))

        await asyncio.gather(*(bind(u) for u in uuids for _ in range(tokens)))
    return pairs


def _write_charges(path: Path, count: int, prefix: str, owners: list[Any]) -> set[int]:
    """Direct Payment rows over the owners' tokens; 1% bad (amount or currency). Bad lines."""
    bad: set[int] = set()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["reference_number", "customer_uuid", "currency", "token", "amount"])
        for i in range(count):
            customer, token = owners[i % len(owners)]
            amount, currency = f"{10 + i % 90}.{i % 100:02d}", "HKD"
            if i % 100 == 99:
                bad.add(i + 2)
                amount, currency = ("-5", "HKD") if i % 200 == 99 else (amount, "hkd")
            writer.writerow([f"{prefix}-{i}", customer, currency, token, amount])
    return bad


async def _handwritten(rows: Path, env: dict[str, str], out: Path, lookups: int) -> None:
    """The hand-written contender: aiohttp, one session, Semaphore, inline signing; before each
    charge ``lookups`` reads (1: by transaction uuid; 2: also by order reference, as the SDK)."""
    import aiohttp

    from wonder_async import charge_uuid
    from wonder_async._signing import Signer
    from wonder_async._wire import Paths

    signer = Signer(env["WONDER_APP_ID"], Path(env["WONDER_PRIVATE_KEY_FILE"]))
    base = env["WONDER_BASE_URL"]
    sem = asyncio.Semaphore(CONCURRENCY)
    results = out.open("w")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:

        async def post(path: str, payload: dict[str, Any]) -> tuple[int, Any]:
            body = json.dumps(payload, separators=(",", ":")).encode()
            headers = signer.sign("POST", path, body)
            headers["Content-Type"] = "application/json"
            async with http.post(base + path, data=body, headers=headers) as resp:
                return resp.status, await resp.json(content_type=None)

        async def one(line: int, row: dict[str, str]) -> None:
            try:
                uuid = charge_uuid(row["reference_number"], row["amount"], row["token"])
                keys = [{"transaction": {"uuid": uuid}},
                        {"order": {"reference_number": row["reference_number"]}}]  # fmt: skip
                for key in keys[:lookups]:
                    status, _ = await post(Paths.ORDER_CHECK, key)
                    if status == 200:
                        results.write(json.dumps({"line": line, "ok": True}) + "\n")
                        return
                order = {"reference_number": row["reference_number"],
                         "charge_fee": row["amount"], "currency": row["currency"]}  # fmt: skip
                payment = {"uuid": uuid, "payment_token": {
                    "amount": row["amount"], "token": row["token"], "consume_mode": "sales",
                    "entry_type": "mit"}}  # fmt: skip
                status, _ = await post(
                    Paths.OPEN_PAYMENTS,
                    {"order": order, "customer_uuid": row["customer_uuid"], "payment": payment},
                )
                results.write(json.dumps({"line": line, "ok": status == 200}) + "\n")
            finally:
                sem.release()

        tasks: set[asyncio.Future[None]] = set()
        with rows.open(newline="") as f:
            reader = csv.DictReader(f)
            for row in reader:
                await sem.acquire()
                task = asyncio.ensure_future(one(reader.line_num, row))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.wait(list(tasks))
    results.close()


def _client(env: dict[str, str]) -> Any:
    from wonder_async import WonderClient

    return WonderClient(
        app_id=env["WONDER_APP_ID"],
        private_key=env["WONDER_PRIVATE_KEY_FILE"],
        base_url=env["WONDER_BASE_URL"],
    )


async def _ledger(env: dict[str, str], prefix: str) -> Counter[str]:
    """Successful sales per order reference of this contender, as the emulator lists them."""
    booked: Counter[str] = Counter()
    async with _client(env) as wonder:
        async for order in wonder.orders.list(page_size=1000):
            if (order.reference_number or "").startswith(prefix + "-"):
                booked[order.reference_number] += sum(
                    1 for t in order.transactions if t.type == "Sales" and t.success
                )
    return booked


def _check(
    env: dict[str, str], prefix: str, count: int, bad: set[int], out: Path, sdk: bool
) -> str:
    booked = asyncio.run(_ledger(env, prefix))
    good = {f"{prefix}-{line - 2}" for line in range(2, count + 2) if line not in bad}
    problems = []
    if any(n > 1 for n in booked.values()):
        problems.append(f"{sum(n > 1 for n in booked.values())} rows charged twice")
    if sdk:
        if {ref for ref, n in booked.items() if n == 1} != good:
            problems.append(f"{sum(booked.values())} of {len(good)} good rows charged")
        records = [json.loads(x) for x in out.read_text().splitlines()]
        failed = {r["line"] for r in records if not r["ok"]}
        if failed != bad or not all("field" in r for r in records if not r["ok"]):
            problems.append(f"{len(failed)} rows reported failed, {len(bad)} bad")
    return "ok" if not problems else "; ".join(problems)


def _export(work: Path, env: dict[str, str], sizes: list[int], idle_rss: float,
            payers: list[Any]) -> None:  # fmt: skip
    """Export at each size (customers seeded cumulatively, x 2 tokens), side by side: peak RSS
    and its growth over idle at each, then the growth per 1,000 more customers -- ~0 when the
    export's memory is bounded, whatever the size."""
    pairs = list(payers)
    rows: list[tuple[int, float]] = []
    print(f"{'export':>7} {'customers':>10} {'tokens/s':>9} {'peak RSS MB':>12} "
          f"{'over idle':>10}  check")  # fmt: skip
    for size in sizes:
        started = time.monotonic()
        more = size - (len(pairs) - len(payers)) // 2
        pairs += asyncio.run(_seed(env, more, 2, f"exp{size}")) if more > 0 else []
        seeded = time.monotonic() - started
        out = work / f"tokens-{size}.jsonl"
        cmd = [sys.executable, "-m", "wonder_async.cli", "tokens", "export", "--out", str(out),
               "--concurrency", str(CONCURRENCY)]  # fmt: skip
        seconds, rss, code = _run_child(cmd, env)
        tokens = [json.loads(x)["token"] for x in out.read_text().splitlines()]
        out.unlink()
        expected = {token for _, token in pairs}
        check = (
            "ok"
            if len(tokens) == len(expected) and set(tokens) == expected and code == 0
            else f"MISMATCH: {len(tokens)} lines, {len(set(tokens))} distinct, "
            f"{len(expected)} seeded"
        )
        rows.append((size, rss))
        print(
            f"{'export:':>7} {size:>10} {len(tokens) / seconds:>9.0f} {rss:>12.0f} "
            f"{rss - idle_rss:>+10.0f}  check: {check} (every token in the emulator once; "
            f"seeded in {seeded:.0f}s, export {seconds:.1f}s)"
        )
    if len(rows) > 1:
        (small, rss_small), (big, rss_big) = rows[0], rows[-1]
        per_k = (rss_big - rss_small) / max(big - small, 1) * 1000
        print(
            f"export peak RSS growth from {small} to {big} customers: "
            f"{rss_big - rss_small:+.1f} MB ({per_k:+.2f} MB per 1,000 customers)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of --rows")
    parser.add_argument(
        "--export-customers",
        default="5000,20000",
        help="comma-separated export sizes, run side by side (customers seeded cumulatively)",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 rows, export of 300 x 2")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--skip-billing", action="store_true", help="only the export")
    parser.add_argument(
        "--only", default=",".join(_LABELS), help=f"contenders, from {','.join(_LABELS)}"
    )
    parser.add_argument("--handwritten-worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.handwritten_worker:
        rows, out, lookups, env_json = args.handwritten_worker
        asyncio.run(_handwritten(Path(rows), json.loads(env_json), Path(out), int(lookups)))
        return 0
    sizes = sorted(int(x) for x in str(args.export_customers).split(","))
    if args.quick:
        args.rows, sizes = min(args.rows, 1000), [min(x, 300) for x in sizes]

    work = Path(tempfile.mkdtemp(prefix="wonder-billing-"))
    emulator, env = _start_emulator(work)
    try:
        idle_rss = _run_child([sys.executable, "-m", "wonder_async.cli", "--help"], env)[1]
        owners = asyncio.run(_seed(env, 20, 1, "payer"))
        names = [] if args.skip_billing else args.only.split(",")
        print(
            f"{0 if args.skip_billing else args.rows} charges/contender, 1% bad, concurrency "
            f"{CONCURRENCY}, emulator in its own process; {os.cpu_count()} CPUs; "
            f"idle `wonder` RSS {idle_rss:.0f} MB"
        )
        if names:
            print(
                f"{'round':>5} {'contender':<52} {'rows/s':>8} {'CPU us/row':>10} "
                f"{'peak RSS MB':>12} {'check'}"
            )
        rates: dict[str, list[float]] = {name: [] for name in names}
        # interleaved, start rotated: a noisy machine's drift
        for rnd in range(args.rounds if names else 0):
            for name in names[rnd % len(names) :] + names[: rnd % len(names)]:
                prefix = f"{name}r{rnd}"
                rows, out = work / f"{prefix}.csv", work / f"{prefix}.jsonl"
                bad = _write_charges(rows, args.rows, prefix, owners)
                if name == "wonder":
                    cmd = [sys.executable, "-m", "wonder_async.cli", "payments", "charge",
                           "--file", str(rows), "--out", str(out), "--concurrency",
                           str(CONCURRENCY)]  # fmt: skip
                else:
                    cmd = [sys.executable, __file__, "--handwritten-worker", str(rows), str(out),
                           str(_LOOKUPS[name]), json.dumps(env)]  # fmt: skip
                seconds, rss, _code, cpu = _run_child_cpu(cmd, env)
                rates[name].append(args.rows / seconds)
                check = _check(env, prefix, args.rows, bad, out, sdk=name == "wonder")
                print(
                    f"{rnd:>5} {_LABELS[name]:<52} {rates[name][-1]:>8.0f} "
                    f"{cpu / args.rows * 1e6:>10.0f} {rss:>12.0f} {check:<10}"
                )
                if name == "wonder":
                    print(f"      peak RSS growth over idle: {rss - idle_rss:.0f} MB")
        for name in names:
            if name != "wonder" and "wonder" in rates:
                ratios = [w / h for w, h in zip(rates["wonder"], rates[name], strict=True)]
                print(
                    f"ratio wonder / {_LABELS[name]} per round: min {min(ratios):.2f}  "
                    f"median {statistics.median(ratios):.2f}  max {max(ratios):.2f}"
                )
        if not args.skip_export:
            _export(work, env, sorted(set(sizes)), idle_rss, owners)
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=10)
        assert emulator.stdout is not None
        emulator.stdout.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
