"""OpenTelemetry traces and metrics, and log fields, for a flow with one retry.

Needs ``pip install 'wonder-gateway[otel]' opentelemetry-sdk``. Runs against the emulator
(which fails the first upsert with a 503) and prints the trace, the metrics and the log
records, where an application would export them (OTLP, see the comments).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from wonder_async import WonderClient
from wonder_async.testing import Emulator

# --8<-- [start:setup]
# Once at start-up, as the OpenTelemetry docs show; the SDK uses the global providers.
# In production: BatchSpanProcessor(OTLPSpanExporter()) and
# PeriodicExportingMetricReader(OTLPMetricExporter()) from opentelemetry-exporter-otlp.
spans = InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(tracer_provider)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

# Structured fields of the `wonder` logger's records, for any formatter.
handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(
    logging.Formatter(
        "log %(levelname)s %(operation)s attempt=%(attempt)s status=%(status)s "
        "request_id=%(request_id)s"
    )
)
logging.getLogger("wonder").addHandler(handler)
logging.getLogger("wonder").setLevel(logging.INFO)  # a line per retry; DEBUG: per attempt
# --8<-- [end:setup]

tracer = trace.get_tracer("shop")


async def flow(emu: Emulator) -> None:
    emu.faults.script("customers.upsert", ["503", "ok"])  # the first attempt fails
    async with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        # Your web framework's instrumentation opens a span like this one per request.
        with tracer.start_as_current_span("POST /members/{ref}"):
            customer = await wonder.customers.upsert(
                reference_number="u-42", name="Tai Man", phone="12345678"
            )
            await wonder.orders.create(
                reference_number="o-1",
                charge_fee="21.00",
                currency="HKD",
                customer_uuid=customer.uuid,
            )


def print_trace(finished: tuple[ReadableSpan, ...]) -> None:
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(finished, key=lambda s: s.start_time or 0):
        children.setdefault(span.parent.span_id if span.parent else None, []).append(span)

    def show(span: ReadableSpan, depth: int) -> None:
        a = dict(span.attributes or {})
        line = "  " * depth + span.name
        if "wonder.attempts" in a:
            line += (
                f"  {a['http.request.method']} {a['url.template']} -> "
                f"{a['http.response.status_code']}, attempts={a['wonder.attempts']}"
            )
        print(line)
        for event in span.events:
            e: dict[str, Any] = dict(event.attributes or {})
            print(
                "  " * (depth + 1) + f"event {event.name}: attempt {e['wonder.attempt']} "
                f"failed with {e['wonder.retry_reason']}, retried after "
                f"{e['wonder.retry.delay']:.2f} s"
            )
        for child in children.get(span.context.span_id, []):
            show(child, depth + 1)

    for root in children.get(None, []):
        show(root, 0)


def print_metrics() -> None:
    data = reader.get_metrics_data()
    assert data is not None
    for scope in data.resource_metrics[0].scope_metrics:
        if scope.scope.name != "wonder_async":
            continue
        for metric in sorted(scope.metrics, key=lambda m: m.name):
            for point in metric.data.data_points:
                a = dict(point.attributes or {})
                value = getattr(point, "count", None)
                value = getattr(point, "value", None) if value is None else value
                labels = ", ".join(f"{k}={v}" for k, v in sorted(a.items()))
                print(f"metric {metric.name} [{metric.unit}] {{{labels}}}: {value}")


async def main() -> None:
    async with Emulator() as emu:
        await flow(emu)
    print_trace(spans.get_finished_spans())
    print_metrics()


asyncio.run(main())
