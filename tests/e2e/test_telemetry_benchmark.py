"""Smoke test: benchmarks/otel.py runs end to end (tiny load; timings are never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk")

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "otel.py"


@pytest.mark.timeout(120)
def test_otel_benchmark_quick_mode_prints_its_table() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--requests", "64", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for mode in ("no-otel", "api-no-sdk", "sdk"):
        assert f"\n{mode} " in proc.stdout
    assert "sdk cost per call" in proc.stdout
    # The no-otel worker really ran without OpenTelemetry; the unconfigured one without the SDK.
    loaded = proc.stdout.split("opentelemetry packages loaded: ")[1]
    assert loaded.startswith("no-otel=none, ")
    assert "'sdk'" not in loaded.split("api-no-sdk=")[1].split(", sdk=")[0]
