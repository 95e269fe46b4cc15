"""Smoke test: the benchmark runs end to end (tiny load; timings are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


@pytest.mark.timeout(60)
def test_benchmark_quick_mode_prints_the_table() -> None:
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--requests", "30", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "contender" in proc.stdout
    assert "req/s" in proc.stdout
    assert "wonder_async.WonderClient" in proc.stdout
    assert "Goals" in proc.stdout
