"""A bounded fault soak: retries never duplicate, never lose, never outlast the deadline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_soak_under_twenty_percent_faults() -> None:
    """1,000 upserts and 100 bindings under ~20% mixed faults: all correct, none doubled."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--upserts", "1000",
         "--bindings", "100", "--seed", "3", "--json"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
    assert figures["upserts ok"] == 1000
    assert figures["bindings ok"] == 100
    assert figures["faults total"] > 100
    assert figures["retries and reconciliations"] > 100
    for key in (
        "references with two uuids",
        "upserts answered with a uuid the gateway does not hold",
        "customers with two tokens",
        "customers with no token",
        "deadline overruns",
    ):
        assert figures[key] == 0, key
