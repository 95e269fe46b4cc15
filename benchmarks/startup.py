"""Start-up cost: fresh-process import times of aiohttp, wonder_async and wonder_sync, side by side.

Each measurement is a command run in a fresh Python process of this interpreter; the rounds
run every command once, interleaved, so a busy machine slows all of them alike. Two clocks:
the process's CPU time (user + system, from ``getrusage``: what start-up costs, and steady
when other processes compete for the cores) and its wall time (what a user waits, which a
busy machine inflates). Ratios are computed per round against the reference (``import
aiohttp``, the dependency every client must load) measured in that same round, then
summarised as min/median/max; the goals are judged on the median CPU-time ratio.

    python benchmarks/startup.py               # 7 rounds
    python benchmarks/startup.py --rounds 15   # steadier medians
    python -X importtime -c "import wonder_async" 2>&1 | sort -t'|' -k2 -n | tail   # where

To add a measurement, append a :class:`Measure` to :data:`MEASURES` (and a goal to
:data:`GOALS` if it has one).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measure:
    """One command to time in a fresh process; ``key`` names it in ratios and goals."""

    key: str
    label: str
    argv: tuple[str, ...]


def _python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def _key_file() -> str:
    """A throwaway RSA key for the "client ready" measurement (what a first call needs)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = Path(tempfile.gettempdir()) / f"wonder-startup-{os.getpid()}.pem"
    path.write_bytes(pem)
    return str(path)


KEY_FILE = _key_file()
#: The console script next to this interpreter (the venv's ``wonder``).
_WONDER = str(Path(sys.executable).with_name("wonder"))
#: Import, make a client (loads the key) and touch a resource (loads the models): everything
#: the lazy imports defer until the first call, which sends no request here.
_READY = (
    "from {pkg} import WonderClient\n"
    "c = WonderClient(app_id='a', private_key={key!r}, base_url='http://127.0.0.1:9')\n"
    "c.customers, c.payment_tokens, c.orders, c.payments\n"
)


#: The reference first; every other measurement is also shown as a ratio to it.
MEASURES: list[Measure] = [
    Measure("aiohttp", "import aiohttp", _python("import aiohttp")),
    Measure("python", "python -c pass (interpreter only)", _python("pass")),
    Measure("async", "import wonder_async", _python("import wonder_async")),
    Measure("sync", "import wonder_sync", _python("import wonder_sync")),
    Measure(
        "async_client",
        "from wonder_async import WonderClient",
        _python("from wonder_async import WonderClient"),
    ),
    Measure(
        "sync_client",
        "from wonder_sync import WonderClient",
        _python("from wonder_sync import WonderClient"),
    ),
    Measure("cli_help", "wonder --help", (_WONDER, "--help")),
    Measure("cli_orders_help", "wonder orders --help", (_WONDER, "orders", "--help")),
    Measure(
        "async_ready",
        "wonder_async client ready (key, resources)",
        _python(_READY.format(pkg="wonder_async", key=KEY_FILE)),
    ),
    Measure(
        "sync_ready",
        "wonder_sync client ready (key, resources)",
        _python(_READY.format(pkg="wonder_sync", key=KEY_FILE) + "c.close()\n"),
    ),
]

#: (measurement key, most allowed ratio to the reference), from issue #24.
GOALS: list[tuple[str, float]] = [
    ("async", 1.2),
    ("sync", 1.2),
    ("async_client", 1.2),
    ("sync_client", 1.2),
]
#: (measurement key, most allowed median wall seconds), from issue #24.
WALL_GOALS: list[tuple[str, float]] = [("cli_help", 0.25)]


def time_once(measure: Measure) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one fresh process running the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # Run outside the checkout, so the packages come from where they are installed.
    subprocess.run(measure.argv, check=True, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="fresh processes per command")
    parser.add_argument("--only", default=None, help="comma-separated measurement keys")
    args = parser.parse_args(argv)
    measures = MEASURES
    if args.only:
        wanted = set(args.only.split(",")) | {MEASURES[0].key}
        measures = [m for m in MEASURES if m.key in wanted]
    reference = measures[0]
    for m in measures:  # warm the file system cache and the bytecode caches
        time_once(m)
    cpu: dict[str, list[float]] = {m.key: [] for m in measures}
    wall: dict[str, list[float]] = {m.key: [] for m in measures}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for m in measures:
            c, w = time_once(m)
            cpu[m.key].append(c)
            wall[m.key].append(w)

    def ratios(times: dict[str, list[float]], key: str) -> list[float]:
        return [t / r for t, r in zip(times[key], times[reference.key], strict=True)]

    print(
        f"python {sys.version.split()[0]}, {args.rounds} rounds, a fresh process each; "
        f"load average before/after: {load:.2f}/{os.getloadavg()[0]:.2f}"
    )
    for clock, times in (("CPU time", cpu), ("wall time", wall)):
        print(f"\n[{clock}]")
        print(f"{'command':<44} {'min ms':>7} {'median':>7} {'max':>7}   x {reference.label}")
        for m in measures:
            ms = [t * 1000 for t in times[m.key]]
            line = f"{m.label:<44} {min(ms):7.0f} {statistics.median(ms):7.0f} {max(ms):7.0f}"
            if m is not reference:
                r = ratios(times, m.key)
                line += f"   {min(r):.2f}/{statistics.median(r):.2f}/{max(r):.2f}"
            print(line)
    print()
    print("Goals (verdict on the median of per-round CPU-time ratios; min/med/max shown)")
    labels = {m.key: m.label for m in measures}
    for key, limit in GOALS:
        if key not in cpu:
            continue
        r = ratios(cpu, key)
        ok = statistics.median(r) <= limit
        verdict = "MET   " if ok else "MISSED"
        goal = f"{labels[key]} <= {limit:g}x {reference.label}"
        print(f"  {verdict} {goal:<66} {min(r):.2f}/{statistics.median(r):.2f}/{max(r):.2f}")
    for key, seconds in WALL_GOALS:
        if key not in wall:
            continue
        median = statistics.median(wall[key])
        verdict = "MET   " if median <= seconds else "MISSED"
        goal = f"{labels[key]} <= {seconds:g} s wall (median)"
        print(f"  {verdict} {goal:<66} {min(wall[key]):.3f}/{median:.3f}/{max(wall[key]):.3f}")
    Path(KEY_FILE).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
