"""A FastAPI app whose traces show each SDK call inside the request that made it, over OTLP.

Install: pip install 'wonder-gateway[otel]' fastapi uvicorn opentelemetry-sdk
         opentelemetry-exporter-otlp-proto-http opentelemetry-instrumentation-fastapi
Run:     OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 WONDER_APP_ID=...
         WONDER_PRIVATE_KEY_FILE=private_key.pem uvicorn observability_fastapi:app
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from wonder_async import WonderClient

# Once at start-up, as the OpenTelemetry docs show. The exporters send to
# OTEL_EXPORTER_OTLP_ENDPOINT (an OpenTelemetry Collector, Jaeger, Grafana Tempo...).
resource = Resource.create({"service.name": "shop"})
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(tracer_provider)
meter_provider = MeterProvider(
    resource=resource, metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())]
)
metrics.set_meter_provider(meter_provider)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One client for the app's life (WONDER_APP_ID, WONDER_PRIVATE_KEY_FILE, ...).
    async with WonderClient() as wonder:
        app.state.wonder = wonder
        yield
    tracer_provider.shutdown()  # send what is still buffered before the process ends
    meter_provider.shutdown()


app = FastAPI(lifespan=lifespan)
FastAPIInstrumentor.instrument_app(app)  # a SERVER span per request: the SDK's spans nest in it


@app.post("/members/{ref}")
async def sign_up(ref: str, name: str, phone: str, request: Request) -> dict[str, str]:
    wonder: WonderClient = request.app.state.wonder
    customer = await wonder.customers.upsert(reference_number=ref, name=name, phone=phone)
    return {"uuid": customer.uuid}
