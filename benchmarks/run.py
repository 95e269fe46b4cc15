"""Signed customer upserts/s: the SDK vs the floor, the usual alternatives and the signing ceiling.

Every contender sends the same signed ``POST /svc/payment/api/v1/openapi/customers`` (body
``{"customer": {...}}``, the four signing headers from the SDK's own ``Signer``) to a minimal
keep-alive peer running in a separate process (``peer.py``), so only client work is measured.
Contenders run interleaved, round-robin, for several rounds in one run; ratios are computed per
round against a reference measured in that same round, then summarised as min/median/max.

    python benchmarks/run.py            # full run, a few minutes; writes benchmarks/results.json
    python benchmarks/run.py --quick    # smoke run, well under a minute
    python benchmarks/plot.py           # benchmarks/throughput.png from results.json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    APP_ID,
    ASYNC_CONCURRENCY,
    HERE,
    ROUND_TIMEOUT,
    SYNC_THREADS,
    cpu_model,
    default_server_cpu,
    drive_async,
    drive_threads,
    make_signer,
    peer_process,
    percentile,
    sign_only,
)
from contenders import Bench, setup, teardown
from report import (
    IDEAL_TERMS,
    Config,
    Record,
    cpu_budget,
    goals,
    ideal_summary,
    print_budget,
    print_goals,
    print_ideal,
    print_table,
    summarise,
)

# --- the harness ----------------------------------------------------------------------------


def run_one(bench: Bench, cfg: Config, n: int, rnd: int) -> Record:
    gc.collect()
    server0 = bench.peer.cpu_seconds()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if cfg.kind == "async":
        contender = bench.async_contenders[cfg.key]
        contender.prepare(cfg.conc)
        lat = bench.loop.run_until_complete(
            asyncio.wait_for(drive_async(contender.one, n, cfg.conc), ROUND_TIMEOUT)
        )
    else:
        pool = bench.pools[(cfg.key, cfg.conc)]
        if cfg.kind == "sync":
            lat = drive_threads(bench.sync_contenders[cfg.key].one, n, pool, cfg.conc)
        else:
            lat = drive_threads(sign_only(bench.signer), n, pool, cfg.conc)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server = bench.peer.cpu_seconds() - server0
    lat.sort()
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    return Record(cfg.key, cfg.conc, rnd, n, wall, cpu, p50, p99, server)


# Contenders run only when --only names them or with --before: the SDK and the floor as they
# were before issue 26 (same code, its signing-thread tuning, sync signing and loop reverted),
# side by side with the current ones. Their ratio column is before / current.
_B = "before issue 26"
EXTRA_CONFIGS = (
    *(
        Config("floor_before", f"floor, {_B}", "async", c, "floor", section="async (concurrency)")
        for c in ASYNC_CONCURRENCY[1:]
    ),
    *(
        Config(
            "wonder_async_before",
            f"wonder_async, {_B}",
            "async",
            c,
            "wonder_async",
            section="async (concurrency)",
        )
        for c in ASYNC_CONCURRENCY[1:]
    ),
    Config("wonder_sync_before", f"wonder_sync, {_B}", "sync", 8, "wonder_sync", section="sync"),
    Config(
        "wonder_sync_callers_sign",
        "wonder_sync, every caller signs",
        "sync",
        8,
        "wonder_sync",
        section="sync",
    ),
    Config(
        "wonder_sync_asyncio",
        "wonder_sync on asyncio's loop",
        "sync",
        8,
        "wonder_sync",
        section="sync",
    ),
)
EXTRA_KEYS = frozenset(c.key for c in EXTRA_CONFIGS)


def build_configs(emulator: bool, extra: frozenset[str] = frozenset()) -> list[Config]:
    cpus = os.cpu_count() or 1
    configs: list[Config] = []
    async_rows = [
        ("floor", "floor: aiohttp + best signing", None),
        ("wonder_async", "wonder_async.WonderClient", "floor"),
        ("aiohttp_inline", "aiohttp + inline signing", "floor"),
        ("httpx", "httpx.AsyncClient + signing", "floor"),
    ]
    for c in ASYNC_CONCURRENCY:
        for key, label, ref in async_rows:
            configs.append(Config(key, label, "async", c, ref, section="async (concurrency)"))
    for t in SYNC_THREADS:
        configs.append(
            Config("requests", "requests.Session + signing", "sync", t, None, section="sync")
        )
        configs.append(
            Config("wonder_sync", "wonder_sync.WonderClient", "sync", t, "requests", section="sync")
        )
    configs += [c for c in EXTRA_CONFIGS if c.key in extra]
    if not emulator:  # constant headers would (rightly) be refused by the emulator
        for c in ASYNC_CONCURRENCY:
            configs.append(
                Config(
                    "aiohttp_nosign",
                    "raw aiohttp, signing excluded",
                    "async",
                    c,
                    None,
                    "cpu",
                    "signing excluded: CPU/request",
                )
            )
            if c > 1:
                configs.append(
                    Config(
                        "aiohttp_nosign_hop",
                        "raw aiohttp + signing-thread hop",
                        "async",
                        c,
                        "aiohttp_nosign",
                        "cpu",
                        "signing excluded: CPU/request",
                    )
                )
            configs.append(
                Config(
                    "wonder_async_nosign",
                    "wonder_async, signing excluded",
                    "async",
                    c,
                    "aiohttp_nosign",
                    "cpu",
                    "signing excluded: CPU/request",
                )
            )
    configs.append(
        Config(
            "ceiling",
            f"signing ceiling: Signer.sign x{cpus} threads",
            "sign",
            cpus,
            None,
            section="no I/O",
        )
    )
    return configs


def rotate(configs: list[Config], by: int) -> Iterator[Config]:
    k = by % len(configs)
    yield from configs[k:] + configs[:k]


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 short rounds")
    parser.add_argument("--requests", type=int, default=None, help="requests per contender/round")
    parser.add_argument("--rounds", type=int, default=None, help="measured rounds")
    parser.add_argument("--json", type=Path, default=None, help="write raw and summary results")
    parser.add_argument(
        "--server-cpu",
        type=int,
        default=None,
        help="core to pin the peer to (default: the last core; -1: no pinning)",
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="run against wonder_async.testing.Emulator (checks signatures)",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated contender ids to run (plus the ideal bound's terms: "
        + ",".join(IDEAL_TERMS)
        + ", unless --no-ideal)",
    )
    parser.add_argument(
        "--no-ideal", action="store_true", help="with --only: not the ideal bound's terms"
    )
    parser.add_argument(
        "--before",
        action="store_true",
        help="also run the SDK and the floor as before issue 26, side by side",
    )
    parser.add_argument("--plot", action="store_true", help="also write throughput.png")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="sys.setswitchinterval for this benchmark process (seconds; CPython's default is "
        "0.005): an experiment on GIL hand-offs, never something the SDK sets",
    )
    parser.add_argument(
        "--report", type=Path, default=None, help="print the tables of a saved --json run"
    )
    args = parser.parse_args(argv)
    if args.report is not None:
        return reprint(args.report)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)

    n = args.requests or (300 if args.quick else 1200)
    rounds = args.rounds or (2 if args.quick else 6)
    warmup = max(20, min(n, 300) // 2)
    json_path: Path | None = args.json
    if json_path is None and not args.quick:
        json_path = HERE / ("results-emulator.json" if args.emulator else "results.json")
    server_cpu = default_server_cpu() if args.server_cpu is None else args.server_cpu
    if server_cpu is not None and server_cpu < 0:
        server_cpu = None

    signer = make_signer()
    extra: list[str] = []
    if args.emulator:
        try:
            import wonder_async.testing  # noqa: F401
        except ImportError as exc:
            print(f"--emulator: wonder_async.testing is not importable ({exc}); skipped")
            return 0
        from cryptography.hazmat.primitives import serialization

        pem = signer._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"wonder-bench-{os.getpid()}.pem"  # noqa: S108
        key_file.write_bytes(pem)
        extra = ["--emulator-public-key", str(key_file), "--app-id", APP_ID]

    wanted = set(args.only.split(",")) if args.only else set()
    extra_keys = frozenset(wanted | (EXTRA_KEYS if args.before else set()))
    configs = build_configs(args.emulator, extra_keys)
    if args.only:
        wanted |= extra_keys
        if not args.no_ideal:
            wanted |= set(IDEAL_TERMS)
        configs = [c for c in configs if c.key in wanted]
    cpus = os.cpu_count() or 1
    server = "wonder_async.testing.Emulator" if args.emulator else "minimal asyncio peer"
    pin = f"pinned to core {server_cpu}" if server_cpu is not None else "not pinned"
    meta: dict[str, Any] = {
        "cpus": cpus,
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "httpx": httpx.__version__,
        "requests": requests.__version__,
        "server": server,
        "server_cpu": server_cpu,
        "requests_per_round": n,
        "rounds": rounds,
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "loadavg_before": os.getloadavg(),
        "switch_interval": sys.getswitchinterval(),
    }
    print(
        f"{cpus} cores ({meta['cpu_model']}), Python {meta['python']}, aiohttp {meta['aiohttp']}, "
        f"httpx {meta['httpx']}, requests {meta['requests']}\n"
        f"server: {server} in a separate process, {pin}; client process not pinned; "
        f"switch interval {sys.getswitchinterval() * 1e3:g} ms\n"
        f"{rounds} rounds x {len(configs)} contender/concurrency pairs x {n} requests, "
        f"round-robin (+1 warm-up round of {warmup})",
        flush=True,
    )
    started = time.perf_counter()
    records: list[Record] = []
    loop = asyncio.new_event_loop()
    try:
        with peer_process(server_cpu, extra) as peer:
            bench = Bench(signer, peer, loop)
            try:
                setup(bench, configs)
                for cfg in configs:
                    run_one(bench, cfg, warmup, -1)
                for rnd in range(rounds):
                    for cfg in rotate(configs, rnd):
                        records.append(run_one(bench, cfg, n, rnd))
                    print(
                        f"  round {rnd + 1}/{rounds} done ({time.perf_counter() - started:.0f}s)",
                        flush=True,
                    )
            finally:
                teardown(bench)
    finally:
        loop.close()
        if extra:
            Path(extra[1]).unlink(missing_ok=True)

    meta["loadavg_after"] = os.getloadavg()
    rows = summarise(configs, records, cpus)
    print(
        f"\nSigned customer upserts against the {server} "
        f"(median over {rounds} rounds of {n} requests; 'of ideal': req/s over the round's "
        "ideal bound, min/med/max)"
    )
    print_table(rows)
    ideal = ideal_summary(records, cpus)
    meta["ideal"] = ideal
    print_ideal(ideal, cpus, rows)
    goal_rows = goals(records, args.emulator, cpus)
    print_goals(goal_rows)
    budget = cpu_budget(rows, cpus)
    if budget is not None:
        meta["cpu_budget"] = budget
        print_budget(budget, cpus)
    print(
        f"load average before/after: {meta['loadavg_before'][0]:.2f}/"
        f"{meta['loadavg_after'][0]:.2f} (other processes compete for the same cores)"
    )
    print(f"\ntotal {time.perf_counter() - started:.0f}s")
    if json_path is not None:
        doc = {
            "meta": meta,
            "summary": rows,
            "goals": goal_rows,
            "records": [r.__dict__ for r in records],
        }
        json_path.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"results written to {json_path}")
        if args.plot:
            from plot import plot

            print(f"plot written to {plot(json_path, json_path.with_name('throughput.png'))}")
    return 0


def reprint(path: Path) -> int:
    """The summary tables, ideal bound and goals of a run saved with ``--json``."""
    doc = json.loads(path.read_text())
    meta = doc["meta"]
    records = [Record(**r) for r in doc["records"]]
    keys = {r.key for r in records}
    emulator = "Emulator" in meta["server"]
    configs = [c for c in build_configs(emulator, EXTRA_KEYS) if c.key in keys]
    cpus = meta["cpus"]
    rows = summarise(configs, records, cpus)
    print(f"{meta['command']}  ({meta['cpu_model']}, {cpus} cores, Python {meta['python']})")
    print_table(rows)
    print_ideal(ideal_summary(records, cpus), cpus, rows)
    print_goals(goals(records, emulator, cpus))
    budget = cpu_budget(rows, cpus)
    if budget is not None:
        print_budget(budget, cpus)
    print(
        f"load average before/after: {meta['loadavg_before'][0]:.2f}/{meta['loadavg_after'][0]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
