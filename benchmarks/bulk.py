"""Bulk sync: `wonder customers upsert` vs a hand-written aiohttp + Semaphore loop.

Starts `wonder emulator --db` in its own process, writes a CSV with 1% bad rows, and runs both
contenders as separate processes, round by round, on fresh reference numbers. Prints rows/s,
peak RSS of each process (from wait4), the ratio per round, and checks that every good row is
in the emulator's database exactly once and every bad row is reported in the results file.

    python benchmarks/bulk.py                    # 100,000 rows, 1 round (a few minutes)
    python benchmarks/bulk.py --rows 5000 --rounds 3
    python benchmarks/bulk.py --rows 20000 --kill-resume   # also: kill -9 mid-run, resume

The hand-written loop is what a careful user writes without the SDK: one aiohttp session, an
asyncio.Semaphore, the same signing (wonder_async._signing.Signer), signing inline.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 64


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_rows(path: Path, count: int, prefix: str) -> set[int]:
    """Write ``count`` rows, 1% of them bad (bad email, missing name, over-long name)."""
    bad: set[int] = set()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["reference_number", "name", "phone", "email"])
        for i in range(count):
            line = i + 2
            ref = f"{prefix}-{i}"
            if i % 100 == 99:
                bad.add(line)
                kind = (i // 100) % 3
                row = [ref, "N", "1", "bad-email"] if kind == 0 else (
                    [ref, "", "1", ""] if kind == 1 else [ref, "x" * 300, "1", ""]
                )  # fmt: skip
            else:
                row = [ref, f"Customer {i}", "12345678", f"c{i}@example.com"]
            writer.writerow(row)
    return bad


async def _baseline(rows: Path, base_url: str, app_id: str, key: Path, out: Path) -> None:
    """The hand-written contender: aiohttp, one session, Semaphore, inline signing."""
    import aiohttp

    from wonder_async._signing import Signer

    signer = Signer(app_id, key)
    path = "/svc/payment/api/v1/openapi/customers"
    sem = asyncio.Semaphore(CONCURRENCY)
    results = out.open("w")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as http:

        async def one(line: int, row: dict[str, str]) -> None:
            try:
                body = json.dumps({"customer": {k: v for k, v in row.items() if v}}).encode()
                headers = signer.sign("POST", path, body)
                headers["Content-Type"] = "application/json"
                async with http.post(base_url + path, data=body, headers=headers) as resp:
                    doc = await resp.json(content_type=None)
                ok = resp.status == 200
                results.write(json.dumps({"line": line, "ok": ok, "status": resp.status}) + "\n")
                _ = doc
            finally:
                sem.release()

        tasks = set()
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


#: Runs argv[1:] and prints its "seconds peak_rss_kb exit_code cpu_seconds". Linux counts the
#: memory of the process a child was forked (or vforked) from in the child's ru_maxrss (exec
#: keeps the old image's high-water mark), so a child started straight from this script would
#: report at least this script's own RSS -- which grows with the data it seeds and checks.
#: Started from this small launcher instead, the child's peak is its own (the floor is the
#: launcher's ~10 MB).
_LAUNCHER = (
    "import os, subprocess, sys, time\n"
    "started = time.monotonic()\n"
    "proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "print(time.monotonic() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status),\n"
    "      usage.ru_utime + usage.ru_stime)\n"
)


def _run_child_cpu(args: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """Run a child; return (seconds, its own peak RSS MB, exit code, its CPU seconds).

    CPU seconds (user + system, all its threads) are what a busy shared machine distorts
    least: rows/s there depends on how much of the cores the other jobs left.
    """
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *args], env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    seconds, rss_kb, code, cpu = launched.stdout.split()
    return float(seconds), int(rss_kb) / 1024, int(code), float(cpu)


def _run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Run a child; return (seconds, its own peak RSS MB, exit code)."""
    return _run_child_cpu(args, env)[:3]


def _db_refs(db: Path, prefix: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        values = [
            json.loads(v)["reference_number"] for (v,) in conn.execute("SELECT v FROM customers")
        ]
    return [r for r in values if r.startswith(prefix + "-")]


def _check(db: Path, prefix: str, rows: int, bad: set[int], out: Path, sdk: bool) -> str:
    """Good rows present exactly once; every row has a result; the SDK reports each bad row."""
    refs = _db_refs(db, prefix)
    problems = []
    if len(refs) != len(set(refs)):
        problems.append("duplicates")
    records = [json.loads(x) for x in out.read_text().splitlines()]
    if sorted(r["line"] for r in records) != list(range(2, rows + 2)):
        problems.append("rows without exactly one result")
    if sdk:
        # The hand-written loop validates nothing, so the gateway takes some bad rows; only
        # the SDK's run is held to "every good row in, every bad row reported with its field".
        failed = {r["line"] for r in records if not r["ok"]}
        if len(set(refs)) != rows - len(bad):
            problems.append(f"{len(set(refs))} of {rows - len(bad)} good rows present")
        if failed != bad:
            problems.append(f"{len(failed)} rows reported failed, {len(bad)} bad")
        if not all("field" in r for r in records if not r["ok"]):
            problems.append("a bad row without its field")
    return "ok" if not problems else "; ".join(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--kill-resume", action="store_true", help="also test kill -9 + resume")
    parser.add_argument("--baseline-worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_worker:
        rows, base_url, app_id, key, out = args.baseline_worker
        asyncio.run(_baseline(Path(rows), base_url, app_id, Path(key), Path(out)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="wonder-bulk-"))
    db, key = work / "emu.db", work / "key.pem"
    port = _free_port()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "wonder_async.testing", "--port", str(port), "--db", str(db),
         "--key-out", str(key)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert emulator.stdout is not None
    app_id = emulator.stdout.readline().split()[-1]
    while not emulator.stdout.readline().startswith("base_url"):
        pass
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WONDER_APP_ID": app_id, "WONDER_PRIVATE_KEY_FILE": str(key),
           "WONDER_BASE_URL": base_url}  # fmt: skip
    idle_rss = _run_child([sys.executable, "-m", "wonder_async.cli", "--help"], env)[1]
    print(
        f"{args.rows} rows/round, 1% bad, concurrency {CONCURRENCY}, emulator --db in its own "
        f"process; {os.cpu_count()} CPUs; idle `wonder` process RSS {idle_rss:.0f} MB"
    )
    print(
        f"{'round':>5} {'contender':<34} {'rows/s':>8} {'CPU us/row':>10} {'peak RSS MB':>12} "
        f"{'check':<10}"
    )
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    try:
        for rnd in range(args.rounds):
            rates: dict[str, float] = {}
            cpus: dict[str, float] = {}
            for name in ("handwritten", "wonder"):
                prefix = f"r{rnd}{name[0]}"
                rows = work / f"{prefix}.csv"
                out = work / f"{prefix}.jsonl"
                bad = write_rows(rows, args.rows, prefix)
                if name == "wonder":
                    cmd = [sys.executable, "-m", "wonder_async.cli", "customers", "upsert",
                           "--file", str(rows), "--out", str(out), "--concurrency",
                           str(CONCURRENCY)]  # fmt: skip
                else:
                    cmd = [sys.executable, __file__, "--baseline-worker", str(rows), base_url,
                           app_id, str(key), str(out)]  # fmt: skip
                seconds, rss, _code, cpu = _run_child_cpu(cmd, env)
                rates[name] = args.rows / seconds
                cpus[name] = cpu / args.rows * 1e6
                check = _check(db, prefix, args.rows, bad, out, sdk=name == "wonder")
                label = (
                    "wonder customers upsert"
                    if name == "wonder"
                    else "hand-written aiohttp+Semaphore"
                )
                print(
                    f"{rnd:>5} {label:<34} {rates[name]:>8.0f} {cpus[name]:>10.0f} {rss:>12.0f} "
                    f"{check:<10}"
                )
            ratios.append(rates["wonder"] / rates["handwritten"])
            cpu_ratios.append(cpus["wonder"] / cpus["handwritten"])
        print(
            f"ratio wonder/hand-written per round: min {min(ratios):.2f}  "
            f"median {statistics.median(ratios):.2f}  max {max(ratios):.2f}"
        )
        print(
            f"client CPU per row wonder/hand-written: min {min(cpu_ratios):.2f}  "
            f"median {statistics.median(cpu_ratios):.2f}  max {max(cpu_ratios):.2f}"
        )
        if args.kill_resume:
            _kill_resume(work, db, env, args.rows)
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=10)
        emulator.stdout.close()
    return 0


def _kill_resume(work: Path, db: Path, env: dict[str, str], count: int) -> None:
    prefix = "kr"
    rows, out = work / "kr.csv", work / "kr.jsonl"
    bad = write_rows(rows, count, prefix)
    cmd = [sys.executable, "-m", "wonder_async.cli", "customers", "upsert", "--file", str(rows),
           "--out", str(out), "--concurrency", str(CONCURRENCY)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not out.exists() or len(out.read_bytes().splitlines()) < count // 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(out.read_bytes().splitlines())
    _run_child([*cmd, "--resume"], env)
    lines = [json.loads(x)["line"] for x in out.read_text().splitlines()]
    dupes = len(lines) - len(set(lines))
    check = _check(db, prefix, count, bad, out, sdk=True)
    print(f"kill -9 after {done_before} rows, then --resume: {len(set(lines))} rows recorded, "
          f"{dupes} recorded twice, database check: {check}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
