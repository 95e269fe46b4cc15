"""Summarise a ``py-spy record -t -f raw`` profile: per thread, where the samples are.

Each sample is attributed to its innermost Python frame's package (``wonder_async``,
``aiohttp``, ``asyncio``, ...); the loop thread's innermost SDK frames are listed too.

    py-spy record -r 250 -t -f raw -o spy.txt -- \\
        python benchmarks/profile_loop.py --no-cprofile --contenders wonder_async --concurrency 64
    python benchmarks/spy_summary.py spy.txt
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

_PACKAGES = (
    ("wonder_async/", "wonder_async"),
    ("aiohttp/", "aiohttp"),
    ("asyncio/", "asyncio"),
    ("selectors.py", "selectors (epoll wait)"),
    ("cattrs/", "cattrs/attrs"),
    ("attr/", "cattrs/attrs"),
    ("opentelemetry/", "opentelemetry API"),
    ("benchmarks/", "benchmark harness"),
    ("run.py", "benchmark harness"),
    ("profile_loop.py", "benchmark harness"),
    ("threading.py", "threading (lock/condition waits)"),
)


def _where(frame: str) -> str:
    match = re.search(r"\(([^()]*\.py):\d+\)$", frame)
    return match.group(1) if match else ""


def _package(where: str) -> str:
    for needle, name in _PACKAGES:
        if needle in where:
            return name
    return Path(where).name or "native"


def _thread(first: str, stack: str) -> str:
    if "MainThread" in first:
        return "loop (MainThread)"
    if "_SignPool._run" in stack or "BatchSigner._job" in stack:
        return "signing threads"
    return "other threads"


def summarise(path: Path, top: int) -> None:
    threads: Counter[str] = Counter()
    packages: defaultdict[str, Counter[str]] = defaultdict(Counter)
    sdk: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        thread = _thread(frames[0], stack)
        python = [f for f in frames[1:] if _where(f)]
        leaf = python[-1] if python else frames[-1]
        where = _where(leaf)
        package = _package(where)
        threads[thread] += n
        packages[thread][package] += n
        if thread.startswith("loop") and package == "wonder_async":
            sdk[f"{leaf.split(' (')[0]} ({where.split('wonder_async/')[-1]})"] += n
    for thread, total in threads.most_common():
        print(f"{thread}: {total} samples")
        for package, n in packages[thread].most_common(top):
            print(f"  {n / total * 100:5.1f} %  {package}")
    loop = threads["loop (MainThread)"] or 1
    print("innermost SDK frames on the loop thread (share of its samples):")
    for frame, n in sdk.most_common(top):
        print(f"  {n / loop * 100:5.1f} %  {frame}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", type=Path, help="py-spy raw output (record -t -f raw)")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    summarise(args.raw, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
