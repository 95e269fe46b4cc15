"""Smoke test: the billing/export benchmark runs end to end (tiny load; timings never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wonder_async.testing import ROUTES

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "billing.py"

pytestmark = pytest.mark.skipif(
    "payments.create" not in ROUTES, reason="this emulator does not take charges yet"
)


@pytest.mark.timeout(120)
def test_billing_benchmark_quick_checks_the_ledger() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--rows", "200", "--export-customers", "20"],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "wonder payments charge" in out
    assert out.count(" ok ") >= 4  # every contender's ledger check
    assert "ratio wonder / hand-written" in out
    assert "median" in out
    assert "export:" in out
    assert "check: ok" in out
