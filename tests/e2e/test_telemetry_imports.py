"""The cost promises of the optional OpenTelemetry support, checked in fresh interpreters.

* ``opentelemetry`` not importable (as if ``wonder-gateway[otel]`` was not installed):
  importing the SDK and making async and blocking calls imports nothing from it;
* the API installed but no SDK configured: importing ``wonder_async`` imports nothing from
  it, and calls import the API only, never the OpenTelemetry SDK.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

CALLS = """
import asyncio, json, sys

import wonder_sync
from wonder_async import WonderClient
from wonder_async.testing import Emulator

after_import = sorted(m for m in sys.modules if m.startswith("opentelemetry"))


async def main() -> str:
    async with Emulator() as emu:
        async with WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder:
            customer = await wonder.customers.upsert(
                reference_number="i-1", name="Tai Man", phone="12345678"
            )
            await asyncio.gather(*(wonder.customers.get(customer.uuid) for _ in range(3)))
            return await wonder.echo()


echoed = asyncio.run(main())
with Emulator.in_thread() as emu:
    with wonder_sync.WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        wonder.echo()
print(json.dumps({
    "echoed": echoed,
    "after_import": after_import,
    "after_calls": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
}))
"""

BLOCKER = """
import sys


class BlockOpenTelemetry:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, BlockOpenTelemetry())
"""


def _run(script: str) -> dict[str, object]:
    # No provider named through the environment: the application configured nothing.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_PYTHON_")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_without_opentelemetry_nothing_is_imported_and_calls_work() -> None:
    """With the module missing, async and blocking calls work and import no opentelemetry."""
    result = _run(BLOCKER + CALLS)
    assert result == {"echoed": "Hello,Wonder!", "after_import": [], "after_calls": []}


def test_api_without_sdk_imports_only_the_api_and_only_on_first_call() -> None:
    """Installed but unconfigured: import stays free; calls load the API, never the SDK."""
    pytest.importorskip("opentelemetry.trace")
    result = _run(CALLS)
    assert result["echoed"] == "Hello,Wonder!"
    assert result["after_import"] == []
    after_calls = result["after_calls"]
    assert isinstance(after_calls, list)
    assert "opentelemetry.trace" in after_calls
    assert not [m for m in after_calls if m.startswith("opentelemetry.sdk")]


LATE_SETUP = """
import asyncio, json

from wonder_async import WonderClient
from wonder_async.testing import Emulator


async def main() -> dict[str, list[str]]:
    async with Emulator() as emu:
        async with WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder:
            await wonder.echo()  # nothing configured yet: not observed
            from opentelemetry import metrics, trace
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import InMemoryMetricReader
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )

            exporter = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            await wonder.echo("traced")
            spans = [s.name for s in exporter.get_finished_spans()]
            reader = InMemoryMetricReader()
            metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
            await wonder.echo("metered")
            data = reader.get_metrics_data()
            names = sorted(
                m.name
                for rm in data.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
            )
            return {"spans": spans, "metrics": names}


print(json.dumps(asyncio.run(main())))
"""


def test_providers_set_after_the_first_calls_are_used_from_the_next_call_on() -> None:
    """An application may configure OpenTelemetry late: later calls are traced and metered."""
    pytest.importorskip("opentelemetry.sdk")
    result = _run(LATE_SETUP)
    assert result["spans"] == ["wonder echo"]
    assert "wonder.client.call.duration" in result["metrics"]
