"""A bounded fault soak: retries never duplicate, never lose, never outlast the deadline, and
no charge is made twice or reported wrongly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wonder_async.testing._readings import variants

ROOT = Path(__file__).resolve().parents[2]
#: The readings the soak's charges rest on (issue #22); the default run is the full soak,
#: each variant a smaller one (charges only matter there).
SOAK_READINGS = ("charges", "errors", "amounts")
RUNS = [({}, 1000, 100, 300)] + [(v, 200, 30, 120) for v in variants(SOAK_READINGS)]


def _run_id(run: tuple[dict[str, str], int, int, int]) -> str:
    readings = run[0]
    if not readings:
        return "defaults"
    return (
        "all-non-default"
        if len(readings) > 1
        else "+".join(f"{k}={v}" for k, v in readings.items())
    )


@pytest.mark.parametrize("run", RUNS, ids=_run_id)
def test_soak_under_twenty_percent_faults(run: tuple[dict[str, str], int, int, int]) -> None:
    """Upserts, bindings and charges under ~20% mixed faults (responses lost after processing
    included), under the defaults and each reading that bears on charges: all correct, nothing
    doubled, every charge as reported (a pending one waited for, never reported declined)."""
    readings, upserts, bindings, charges = run
    flags = [f"--reading={name}={value}" for name, value in readings.items()]
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--upserts", str(upserts),
         "--bindings", str(bindings), "--charges", str(charges), "--seed", "3", "--json", *flags],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout)
    assert figures["upserts ok"] == upserts
    assert figures["bindings ok"] == bindings
    assert figures["charges ok"] == charges
    if readings.get("charges") == "pending":
        assert figures["charges pending at first"] > 0
    assert figures["charges recovered by look-up"] > 0  # lost answers did happen
    assert figures["faults total"] > upserts // 10
    assert figures["retries and reconciliations"] > upserts // 10
    for key in (
        "references with two uuids",
        "upserts answered with a uuid the gateway does not hold",
        "customers with two tokens",
        "customers with no token",
        "deadline overruns",
        "orders charged twice",
        "charges reported ok but not in the ledger",
        "charges reported failed that went through",
    ):
        assert figures[key] == 0, key
