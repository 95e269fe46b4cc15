"""Where `wonder tokens export` memory goes: tracemalloc snapshots diffed at two points.

Starts the emulator in its own process (its state is not counted), seeds ``--customers``
customers x 2 tokens, then runs ``wonder tokens export`` *in this process* under tracemalloc.
A watcher thread takes a snapshot when the output file holds the tokens of ``--at`` customers
(default 2,000 and 10,000) and prints the allocation sites that grew between them, plus the
live objects by type (gc) at each point and tracemalloc's peak. Growth that scales with the
number of customers exported shows up here; a bounded export shows (almost) none.

    python benchmarks/export_heap.py                        # 12,000 customers; diff 2k -> 10k
    python benchmarks/export_heap.py --customers 3000 --at 500,2500 --top 15
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from billing import _seed, _start_emulator


def _types() -> Counter[str]:
    return Counter(type(o).__name__ for o in gc.get_objects())


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=12_000)
    parser.add_argument("--at", default="2000,10000", help="two customer counts to diff")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    first, second = (int(x) for x in args.at.split(","))
    work = Path(tempfile.mkdtemp(prefix="wonder-export-heap-"))
    emulator, env = _start_emulator(work)
    try:
        started = time.monotonic()
        asyncio.run(_seed(env, args.customers, 2, "heap"))
        print(f"seeded {args.customers} x 2 tokens in {time.monotonic() - started:.0f}s")
        os.environ.update(env)
        out = work / "tokens.jsonl"
        snaps: dict[int, tuple[tracemalloc.Snapshot, Counter[str], float]] = {}
        done = threading.Event()

        def watch() -> None:
            targets = [first, second]
            while targets and not done.is_set():
                lines = out.read_bytes().count(b"\n") if out.exists() else 0
                if lines >= 2 * targets[0]:
                    snaps[targets[0]] = (tracemalloc.take_snapshot(), _types(), _rss_mb())
                    targets.pop(0)
                time.sleep(0.01)

        from wonder_async.cli import main as cli

        tracemalloc.start(8)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        code = cli(["tokens", "export", "--out", str(out), "--concurrency", str(args.concurrency)])
        done.set()
        watcher.join()
        _, peak = tracemalloc.get_traced_memory()
        print(f"export exit {code}; tracemalloc peak {peak / 2**20:.1f} MB")
        if len(snaps) < 2:
            print(f"export ended before {second} customers were written")
            return 1
        (s1, t1, r1), (s2, t2, r2) = snaps[first], snaps[second]
        print(f"RSS at {first}: {r1:.1f} MB, at {second}: {r2:.1f} MB")
        print(f"\ntop allocation sites grown from {first} to {second} customers:")
        for stat in s2.compare_to(s1, "traceback")[: args.top]:
            print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+8d} blocks")
            for frame in stat.traceback.format(limit=4):
                print(f"      {frame.strip()}")
        print(
            f"\nlargest live allocation sites at {second} customers (what a bounded export holds):"
        )
        for stat in s2.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)]).statistics(
            "traceback"
        )[: args.top]:
            print(f"  {stat.size / 1024:9.1f} KiB {stat.count:8d} blocks")
            for frame in stat.traceback.format(limit=3):
                print(f"      {frame.strip()}")
        print(f"\nlive objects by type grown from {first} to {second} customers:")
        for name, grown in (t2 - t1).most_common(args.top):
            print(f"  {name:<32} +{grown}")
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=10)
        assert emulator.stdout is not None
        emulator.stdout.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
