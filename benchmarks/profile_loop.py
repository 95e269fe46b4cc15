"""Profile the event-loop thread per request: where a contender's loop-thread CPU goes.

Runs one or more ``run.py`` contenders against the same minimal peer (``peer.py``, separate
process) with :mod:`cProfile` enabled on the loop thread only (signing threads are not
profiled: cProfile is per thread), then prints, per contender:

* loop-thread CPU per request (profiled, so inflated ~2x) and function calls per request;
* the share of loop-thread time by package (``wonder_async``, ``aiohttp``, ``asyncio``, ...);
* the top SDK frames by own time (share of the loop thread's total).

    python benchmarks/profile_loop.py                                 # nosign pair, c=16
    python benchmarks/profile_loop.py --contenders wonder_async,floor --concurrency 64
    python benchmarks/profile_loop.py --dump prof.out                 # + pstats file(s)

For a sampling profile (all threads, native frames, no cProfile overhead) use py-spy:

    py-spy record --native -r 500 -o prof.svg -- \\
        python benchmarks/run.py --only wonder_async --requests 5000 --rounds 1 --quick
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import default_server_cpu, drive_async, make_signer, peer_process
from contenders import AsyncContender, Bench, setup, teardown
from run import build_configs

_GROUPS = (
    ("wonder_async", "wonder_async/"),
    ("benchmark harness", "benchmarks/"),
    ("aiohttp", "aiohttp/"),
    ("yarl/multidict", "yarl/"),
    ("yarl/multidict", "multidict/"),
    ("cattrs/attrs", "cattrs/"),
    ("cattrs/attrs", "attrs/"),
    ("cattrs/attrs", "attr/"),
    ("cattrs/attrs", "<attrs generated"),
    ("cattrs/attrs", "<cattrs generated"),
    ("json", "json/"),
    ("asyncio", "asyncio/"),
)


def _group(filename: str) -> str:
    for name, needle in _GROUPS:
        if needle in filename:
            return name
    if filename == "~":
        return "builtins (C: socket I/O, json, dict ...)"
    return "other"


def _short(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    idx = filename.rfind("wonder_async/")
    where = filename[idx:] if idx >= 0 else Path(filename).name
    return f"{where}:{line} {name}"


def report(stats: pstats.Stats, requests: int, top: int) -> dict[str, Any]:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    calls = sum(v[1] for v in raw.values())
    groups: dict[str, float] = defaultdict(float)
    sdk: list[tuple[float, int, str]] = []
    for func, (_cc, nc, tt, _ct, _callers) in raw.items():
        g = _group(func[0])
        groups[g] += tt
        if g == "wonder_async":
            sdk.append((tt, nc, _short(func)))
    print(
        f"  loop-thread CPU (profiled, ~2x inflated): {total / requests * 1e6:.0f} us/request, "
        f"{calls / requests:.0f} function calls/request"
    )
    print("  share of loop-thread time by package (own time):")
    for name, tt in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"    {tt / total * 100:5.1f} %  {tt / requests * 1e6:6.1f} us/req  {name}")
    print("  top frames overall (own time):")
    everything = sorted(((v[2], v[1], _short(f)) for f, v in raw.items()), reverse=True)
    for tt, nc, name in everything[:top]:
        print(f"    {tt / total * 100:5.1f} %  {nc / requests:5.2f} calls/req  {name}")
    print("  top SDK frames (own time, share of the loop thread):")
    for tt, nc, name in sorted(sdk, reverse=True)[:top]:
        print(f"    {tt / total * 100:5.1f} %  {nc / requests:5.2f} calls/req  {name}")
    return {"us_per_request": total / requests * 1e6, "calls_per_request": calls / requests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contenders", default="wonder_async_nosign,aiohttp_nosign_hop")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--dump", type=Path, default=None, help="write pstats per contender")
    parser.add_argument(
        "--no-cprofile",
        action="store_true",
        help="just run the requests (to sample the process with py-spy instead)",
    )
    args = parser.parse_args(argv)

    keys = args.contenders.split(",")
    configs = [c for c in build_configs(False) if c.key in keys and c.conc == args.concurrency]
    signer = make_signer()
    loop = asyncio.new_event_loop()
    try:
        with peer_process(default_server_cpu()) as peer:
            bench = Bench(signer, peer, loop)
            try:
                setup(bench, configs)
                for key in keys:
                    contender: AsyncContender = bench.async_contenders[key]
                    contender.prepare(args.concurrency)
                    loop.run_until_complete(drive_async(contender.one, 300, args.concurrency))
                    gc.collect()
                    prof = cProfile.Profile(time.thread_time)  # CPU, not wall: idle waits excluded
                    cpu0, loop0, times0 = time.process_time(), time.thread_time(), os.times()
                    if not args.no_cprofile:
                        prof.enable()
                    loop.run_until_complete(
                        drive_async(contender.one, args.requests, args.concurrency)
                    )
                    prof.disable()
                    cpu = time.process_time() - cpu0
                    if args.no_cprofile:
                        loop_cpu = time.thread_time() - loop0
                        times = os.times()
                        user, system = times.user - times0.user, times.system - times0.system
                        per = 1e6 / args.requests
                        print(
                            f"{key} @ c={args.concurrency}: {args.requests} requests, us/request: "
                            f"{cpu * per:.0f} CPU (all threads; user {user * per:.0f}, "
                            f"system {system * per:.0f}), loop thread {loop_cpu * per:.0f}, "
                            f"other threads {(cpu - loop_cpu) * per:.0f}"
                        )
                        continue
                    print(
                        f"\n{key} @ c={args.concurrency}, {args.requests} requests "
                        f"(process CPU incl. profiler: {cpu / args.requests * 1e6:.0f} us/req)"
                    )
                    stats = pstats.Stats(prof)
                    report(stats, args.requests, args.top)
                    if args.dump is not None:
                        out = args.dump.with_name(f"{args.dump.stem}-{key}{args.dump.suffix}")
                        stats.dump_stats(out)
                        print(f"  pstats written to {out}")
            finally:
                teardown(bench)
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
