"""OpenTelemetry spans, events and metrics of real calls against the emulator (issue 14).

The OpenTelemetry SDK's in-memory exporter and metric reader are installed once for the
session (a process can set its global providers only once); each test reads what its own
calls produced.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import wonder_sync
from wonder_async import Card, NotFoundError, ServerError, ThreeDS, WonderClient

YEAR = dt.datetime.now(dt.timezone.utc).year + 2
THREE_DS = ThreeDS("https://shop.example/ok", "https://shop.example/fail")
CARD_NUMBER = "4242424242424242"
CVV = "739"
PREFIX = "/svc/payment/api/v1/openapi"


class Otel:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        trace.set_tracer_provider(provider)
        self.reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[self.reader]))
        self.tracer = trace.get_tracer("tests")

    def spans(self, prefix: str = "wonder ") -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.name.startswith(prefix)]

    def points(self) -> dict[str, list[tuple[dict[str, Any], Any]]]:
        """Metric name -> [(attributes, data point)] (cumulative since the session began)."""
        out: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        data = self.reader.get_metrics_data()
        if data is None:
            return out
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                if sm.scope.name != "wonder_async":
                    continue
                for metric in sm.metrics:
                    out.setdefault(metric.name, []).extend(
                        (dict(p.attributes or {}), p) for p in metric.data.data_points
                    )
        return out

    def total(self, name: str, **match: Any) -> float:
        """Sum of a counter (or count of a histogram) over points whose attributes match."""
        total = 0.0
        for attributes, point in self.points().get(name, []):
            if all(attributes.get(k) == v for k, v in match.items()):
                total += point.count if hasattr(point, "count") else point.value
        return total


_OTEL: Otel | None = None


@pytest.fixture(scope="module")
def _otel_module() -> Iterator[Otel]:
    global _OTEL
    if _OTEL is None:
        _OTEL = Otel()
    yield _OTEL
    _OTEL.exporter.shutdown()  # the calls of later test modules are not kept in memory


@pytest.fixture
def otel(_otel_module: Otel) -> Iterator[Otel]:
    _otel_module.exporter.clear()
    yield _otel_module
    _otel_module.exporter.clear()


def _client(emu: Any, **options: Any) -> WonderClient:
    return WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url, **options
    )


@pytest.fixture
async def wonder(wonder_emulator: Any, otel: Otel) -> AsyncIterator[WonderClient]:
    async with _client(wonder_emulator, max_retries=3) as client:
        yield client


async def _customer(wonder: WonderClient, ref: str = "u-1") -> Any:
    return await wonder.customers.upsert(reference_number=ref, name="Tai Man", phone="12345678")


@pytest.mark.anyio
async def test_one_client_span_per_call_under_the_callers_span(
    wonder: WonderClient, wonder_emulator: Any, otel: Otel
) -> None:
    """Each call is one CLIENT span named for the operation, a child of the caller's span."""
    with otel.tracer.start_as_current_span("checkout") as parent:
        customer = await _customer(wonder)
        await wonder.customers.get(customer.uuid)
    upsert, get = otel.spans()
    assert [upsert.name, get.name] == ["wonder customers.upsert", "wonder customers.get"]
    host, port = wonder_emulator.base_url.split("//")[1].split(":")
    for span, method in ((upsert, "POST"), (get, "GET")):
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        assert span.context.trace_id == parent.get_span_context().trace_id
        attributes = dict(span.attributes or {})
        assert attributes["http.request.method"] == method
        assert attributes["server.address"] == host
        assert attributes["server.port"] == int(port)
        assert attributes["http.response.status_code"] == 200
        assert attributes["wonder.attempts"] == 1
        assert len(str(attributes["wonder.request_id"])) >= 16
        assert "error.type" not in attributes
        assert "wonder.retry_reason" not in attributes
        assert span.status.status_code is StatusCode.UNSET
    assert dict(upsert.attributes or {})["url.template"] == f"{PREFIX}/customers"
    # The template, never the id the URL was built with.
    assert dict(get.attributes or {})["url.template"] == f"{PREFIX}/customers/{{uuid}}"
    assert customer.uuid not in str(get.attributes)


@pytest.mark.anyio
async def test_concurrent_calls_each_nest_under_their_own_task_span(
    wonder: WonderClient, otel: Otel
) -> None:
    """Spans follow the asyncio task that made the call, not whichever call ran last."""

    async def job(i: int) -> int:
        with otel.tracer.start_as_current_span(f"job-{i}") as span:
            await _customer(wonder, f"u-{i}")
            return span.get_span_context().span_id

    ids = await asyncio.gather(*(job(i) for i in range(8)))
    parents = sorted(s.parent.span_id for s in otel.spans() if s.parent is not None)
    assert parents == sorted(ids)


@pytest.mark.anyio
async def test_retries_are_events_and_the_span_tells_the_story(
    wonder: WonderClient, wonder_emulator: Any, otel: Otel
) -> None:
    """A 503 then a 429 then success: one span, two retry events, attempts=3, then 200."""
    customer = await _customer(wonder)
    otel.exporter.clear()
    retries_before = otel.total("wonder.client.retries", **{"wonder.operation": "customers.get"})
    wonder_emulator.faults.script("customers.get", ["503", "429@0.05", "ok"])
    await wonder.customers.get(customer.uuid)
    (span,) = otel.spans()
    attributes = dict(span.attributes or {})
    assert attributes["wonder.attempts"] == 3
    assert attributes["http.response.status_code"] == 200
    assert attributes["wonder.retry_reason"] == "http_429"
    retry_events = [e for e in span.events if e.name == "retry"]
    assert [dict(e.attributes or {})["wonder.attempt"] for e in retry_events] == [1, 2]
    assert [dict(e.attributes or {})["wonder.retry_reason"] for e in retry_events] == [
        "http_503",
        "http_429",
    ]
    assert [dict(e.attributes or {})["http.response.status_code"] for e in retry_events] == [
        503,
        429,
    ]
    assert dict(retry_events[1].attributes or {})["wonder.retry.delay"] == pytest.approx(0.05)
    retries_after = otel.total("wonder.client.retries", **{"wonder.operation": "customers.get"})
    assert retries_after - retries_before == 2


@pytest.mark.anyio
async def test_a_429_pauses_other_calls_and_their_spans_say_so(
    wonder: WonderClient, wonder_emulator: Any, otel: Otel
) -> None:
    """A Retry-After from one call pauses the next call too: a rate_limit.pause event."""
    await _customer(wonder, "p-1")
    retrying = asyncio.Event()

    class OnRetry(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("retrying"):
                retrying.set()

    handler = OnRetry(logging.INFO)
    logger = logging.getLogger("wonder")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        wonder_emulator.faults.script("echo", ["429@0.3"])
        first = asyncio.create_task(wonder.echo())
        await retrying.wait()  # the 429 was handled: the client-wide pause is on
        await wonder.customers.get_by_reference("p-1")
        await first
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    (other,) = otel.spans("wonder customers.get_by_reference")
    pauses = [e for e in other.events if e.name == "rate_limit.pause"]
    assert len(pauses) == 1
    assert 0 < dict(pauses[0].attributes or {})["wonder.pause.duration"] <= 0.3
    assert otel.total("wonder.client.rate_limit.pause.duration") >= 1


@pytest.mark.anyio
async def test_a_failed_call_is_an_error_span(wonder: WonderClient, otel: Otel) -> None:
    """A 404 ends the span with status ERROR, error.type and the response status."""
    with pytest.raises(NotFoundError):
        await wonder.customers.get("no-such-customer")
    (span,) = otel.spans()
    attributes = dict(span.attributes or {})
    assert span.status.status_code is StatusCode.ERROR
    assert attributes["error.type"] == "NotFoundError"
    assert attributes["http.response.status_code"] == 404
    assert attributes["wonder.attempts"] == 1


@pytest.mark.anyio
async def test_metrics_add_up_to_the_calls_made(
    wonder: WonderClient, wonder_emulator: Any, otel: Otel
) -> None:
    """Calls, attempts, retries and outcomes in the metrics equal what the test did."""
    op = {"wonder.operation": "customers.get_by_reference"}
    before = {
        "calls": otel.total("wonder.client.call.duration", **op),
        "ok": otel.total("wonder.client.call.duration", **op, **{"wonder.outcome": "success"}),
        "err": otel.total("wonder.client.call.duration", **op, **{"wonder.outcome": "error"}),
        "attempts": otel.total("wonder.client.attempts", **op),
        "retries": otel.total("wonder.client.retries", **op),
        "signing": otel.total("wonder.client.signing.duration", **op),
    }
    await _customer(wonder, "m-1")
    wonder_emulator.faults.script("customers.get_by_reference", ["502", "ok"])
    await asyncio.gather(*(wonder.customers.get_by_reference("m-1") for _ in range(5)))
    wonder_emulator.faults.script("customers.get_by_reference", ["500", "500"])
    with pytest.raises(ServerError):
        await wonder.with_options(max_retries=1).customers.get_by_reference("m-1")
    after = {
        "calls": otel.total("wonder.client.call.duration", **op),
        "ok": otel.total("wonder.client.call.duration", **op, **{"wonder.outcome": "success"}),
        "err": otel.total("wonder.client.call.duration", **op, **{"wonder.outcome": "error"}),
        "attempts": otel.total("wonder.client.attempts", **op),
        "retries": otel.total("wonder.client.retries", **op),
        "signing": otel.total("wonder.client.signing.duration", **op),
    }
    delta = {k: after[k] - before[k] for k in before}
    # 6 calls: 5 succeeded (one after a 502), one failed after 2 attempts.
    assert delta == {"calls": 6, "ok": 5, "err": 1, "attempts": 8, "retries": 2, "signing": 8}
    requests = wonder_emulator.stats["requests"]["customers.get_by_reference"]
    assert requests == 8
    in_flight = otel.total("wonder.client.calls.in_flight")
    assert in_flight == 0


@pytest.mark.anyio
async def test_no_card_data_or_key_in_any_attribute_event_or_metric(
    wonder: WonderClient, wonder_emulator: Any, otel: Otel
) -> None:
    """Binding a card (with a retry) leaves no card number, CVV or key text in telemetry."""
    customer = await _customer(wonder)
    card = Card(number=CARD_NUMBER, exp_month=12, exp_year=YEAR, holder_name="TAI MAN", cvv=CVV)
    wonder_emulator.faults.script("payment_tokens.create", ["429@0.01", "ok"])
    await wonder.payment_tokens.create(customer.uuid, card=card, three_ds=THREE_DS)
    (span,) = otel.spans("wonder payment_tokens.create")
    assert len([e for e in span.events if e.name == "retry"]) == 1
    values: list[str] = []
    for s in otel.spans(""):
        values += [str(v) for v in (s.attributes or {}).values()]
        values += [str(v) for e in s.events for v in (e.attributes or {}).values()]
        values.append(s.status.description or "")
    for points in otel.points().values():
        values += [str(v) for attributes, _ in points for v in attributes.values()]
    key_lines = [line for line in wonder_emulator.private_key_pem.splitlines() if len(line) > 20]
    for value in values:
        assert CARD_NUMBER not in value
        assert value != CVV
        assert not any(line in value for line in key_lines)


@pytest.mark.anyio
async def test_aiohttp_instrumentation_spans_are_children_of_ours(
    wonder_emulator: Any, otel: Otel
) -> None:
    """With opentelemetry-instrumentation-aiohttp-client, HTTP spans nest under the call."""
    aiohttp_client = pytest.importorskip("opentelemetry.instrumentation.aiohttp_client")
    instrumentor = aiohttp_client.AioHttpClientInstrumentor()
    instrumentor.instrument()
    try:
        async with _client(wonder_emulator) as wonder:
            wonder_emulator.faults.script("echo", ["503", "ok"])
            await wonder.echo()
    finally:
        instrumentor.uninstrument()
    (ours,) = otel.spans()
    http = [s for s in otel.spans("") if s is not ours and s.name.startswith("POST")]
    assert len(http) == 2  # one per attempt
    for span in http:
        assert span.parent is not None
        assert span.parent.span_id == ours.context.span_id
    assert ours.parent is None


def test_sync_client_spans_nest_under_the_calling_threads_span(
    wonder_emulator_thread: Any, otel: Otel
) -> None:
    """The blocking client runs calls on its loop thread; the caller's span still parents."""
    emu = wonder_emulator_thread
    with wonder_sync.WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        with otel.tracer.start_as_current_span("worker-job") as parent:
            customer = wonder.customers.upsert(
                reference_number="s-1", name="Tai Man", phone="12345678"
            )
            assert wonder.customers.get(customer.uuid).uuid == customer.uuid
        wonder.echo()  # no current span: a root span
    upsert, get, echo = otel.spans()
    assert [upsert.name, get.name, echo.name] == [
        "wonder customers.upsert",
        "wonder customers.get",
        "wonder echo",
    ]
    for span in (upsert, get):
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
    assert echo.parent is None


@pytest.mark.anyio
async def test_log_records_carry_structured_fields(
    wonder: WonderClient, wonder_emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Records of the wonder logger have request_id, operation, attempt, status, duration_ms."""
    customer = await _customer(wonder)
    wonder_emulator.faults.script("customers.get", ["503", "ok"])
    with caplog.at_level(logging.DEBUG, logger="wonder"):
        await wonder.customers.get(customer.uuid)
    records = [r for r in caplog.records if r.name == "wonder"]
    fields = [
        (r.levelname, r.operation, r.attempt, r.status)  # type: ignore[attr-defined]
        for r in records
    ]
    assert fields == [
        ("DEBUG", "customers.get", 1, 503),
        ("INFO", "customers.get", 1, 503),
        ("DEBUG", "customers.get", 2, 200),
    ]
    for record in records:
        assert len(record.request_id) >= 16  # type: ignore[attr-defined]
        assert record.duration_ms >= 0  # type: ignore[attr-defined]
    assert records[0].request_id != records[2].request_id  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_waits_for_a_pooled_connection_are_measured(wonder_emulator: Any, otel: Otel) -> None:
    """With pool_size=1 and slow answers, concurrent calls queue for the one connection."""
    before = otel.total("wonder.client.connection.wait_time")
    wonder_emulator.faults.add("echo", "latency", 1.0, 0.3)
    async with _client(wonder_emulator, pool_size=1) as wonder:
        await asyncio.gather(*(wonder.echo() for _ in range(3)))
    assert otel.total("wonder.client.connection.wait_time") - before >= 1


@pytest.mark.anyio
async def test_log_records_are_emitted_inside_the_calls_span(
    wonder: WonderClient, wonder_emulator: Any, otel: Otel
) -> None:
    """Log-record factories that read the current span (trace/log correlation) see the call."""
    seen: list[int] = []

    class CurrentSpan(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            seen.append(trace.get_current_span().get_span_context().span_id)
            return True

    logger = logging.getLogger("wonder")
    capture = CurrentSpan()
    level = logger.level
    logger.addFilter(capture)
    logger.setLevel(logging.DEBUG)
    try:
        wonder_emulator.faults.script("echo", ["503", "ok"])
        await wonder.echo()
    finally:
        logger.removeFilter(capture)
        logger.setLevel(level)
    (span,) = otel.spans()
    assert len(seen) == 3  # attempt 1 (DEBUG), the retry (INFO), attempt 2 (DEBUG)
    assert set(seen) == {span.context.span_id}
