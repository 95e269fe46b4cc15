"""Start-up time of the ``wonder`` command, next to ``import aiohttp`` in the same run.

Each contender is a fresh interpreter, run ``--runs`` times (default 9), interleaved round by
round so a load spike on a shared machine hits all of them alike; printed is the median
wall time of each, its ratio to ``import aiohttp`` of the same run, and the goal (issue 24:
``wonder --help`` <= 0.25 s). ``wonder --help`` imports no command module (see
``wonder_async/cli/__init__.py``); the last column counts the ``wonder_async`` modules each
command has loaded when it exits, to show what a command pulls in.

    python benchmarks/startup.py             # 9 runs each, a few seconds
    python benchmarks/startup.py --runs 21
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

#: ``wonder ARGS`` in a child that prints how many wonder_async modules it loaded, on stderr.
_CLI: Final = (
    "import sys\n"
    "from wonder_async.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(sum(m.startswith('wonder_async') for m in sys.modules), file=sys.stderr)\n"
)
GOAL_HELP: Final = 0.25  # seconds, wonder --help


def contenders(python: str) -> dict[str, list[str]]:
    """Name -> the command line of each contender."""
    script = Path(python).with_name("wonder")
    wonder = [str(script)] if script.exists() else [python, "-m", "wonder_async.cli"]
    return {
        "python -c pass": [python, "-c", "pass"],
        "import aiohttp": [python, "-c", "import aiohttp"],
        "wonder --help": [*wonder, "--help"],
        "wonder --version": [*wonder, "--version"],
        "wonder orders --help": [*wonder, "orders", "--help"],
        "import wonder_async": [python, "-c", "import wonder_async"],
    }


def _modules(python: str, args: list[str]) -> int:
    done = subprocess.run(
        [python, "-c", _CLI, *args], capture_output=True, text=True, check=True, timeout=60
    )
    return int(done.stderr.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each contender")
    args = parser.parse_args()
    python = sys.executable
    commands = contenders(python)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the file cache once
        subprocess.run(cmd, capture_output=True, check=True, timeout=60)
    for _ in range(args.runs):
        for name, cmd in commands.items():
            started = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, timeout=60)
            times[name].append(time.perf_counter() - started)
    median = {name: statistics.median(values) for name, values in times.items()}
    loaded = {
        "wonder --help": _modules(python, ["--help"]),
        "wonder --version": _modules(python, ["--version"]),
        "wonder orders --help": _modules(python, ["orders", "--help"]),
    }
    reference = median["import aiohttp"]
    print(f"median of {args.runs} runs each, interleaved ({python})")
    print(f"{'command':<22} {'median s':>9} {'min s':>7} {'max s':>7} {'/ aiohttp':>10}  modules")
    for name, values in times.items():
        print(
            f"{name:<22} {median[name]:9.3f} {min(values):7.3f} {max(values):7.3f} "
            f"{median[name] / reference:10.2f}  {loaded.get(name, '')}"
        )
    help_time = median["wonder --help"]
    verdict = "met" if help_time <= GOAL_HELP else "NOT met"
    print(f"goal wonder --help <= {GOAL_HELP:.2f} s: {verdict} ({help_time:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
