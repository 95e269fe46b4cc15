"""Optional OpenTelemetry traces and metrics for every SDK call (``wonder-gateway[otel]``).

Cost model, cheapest first:

* the ``opentelemetry-api`` package is not installed: :data:`TELEMETRY` is ``None`` and the
  pipeline does one module-level ``None`` check per call; nothing from ``opentelemetry`` is
  ever imported;
* the API is installed but the application configured no SDK (the global tracer and meter
  providers are still the API's proxies): the API is imported on the first call, and each
  call costs two provider look-ups, then nothing else;
* an SDK is configured: one ``CLIENT`` span per call named ``wonder <operation>`` (current
  while the call runs, so aiohttp instrumentation spans become its children), retry and
  rate-limit events, and the ``wonder.client.*`` metrics.

Only low-cardinality, non-secret values become attributes: the path *template* (never the
URL with ids or the query), the operation, status codes, error class names, the gateway's
request id. Never a body, a card field or key material.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ._errors import APIConnectionError, APIStatusError, APITimeoutError, WonderError
from ._wire import Paths

if TYPE_CHECKING:
    from contextvars import Token

    import aiohttp
    from opentelemetry.context import Context
    from opentelemetry.metrics import Histogram
    from opentelemetry.trace import Span, Tracer

    from ._request import Request

__all__ = ["TELEMETRY", "Call", "Telemetry"]

SCOPE: Final = "wonder_async"
# OpenTelemetry's recommended boundaries for HTTP client durations, in seconds.
_DURATION_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
_SIGNING_BUCKETS: Final = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)


def retry_reason(exc: BaseException) -> str:
    """A short, low-cardinality name for why an attempt failed: ``http_429``, ``timeout``..."""
    if isinstance(exc, APIStatusError):
        return f"http_{exc.status}"
    if isinstance(exc, APITimeoutError):
        return "timeout"
    if isinstance(exc, APIConnectionError):
        return "connection_error"
    return type(exc).__qualname__


@lru_cache(maxsize=32)
def _server(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


@lru_cache(maxsize=1)  # built on first use: the regexes cost ~2 ms at import
def _templates() -> tuple[frozenset[str], tuple[tuple[re.Pattern[str], str], ...]]:
    exact: set[str] = set()
    patterns: list[tuple[re.Pattern[str], str]] = []
    for name, value in vars(Paths).items():
        if not name.isupper() or not isinstance(value, str):
            continue
        if "{" in value:
            regex = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(value))
            patterns.append((re.compile(regex + r"\Z"), value))
        else:
            exact.add(value)
    return frozenset(exact), tuple(patterns)


def url_template(uri: str) -> str | None:
    """The :class:`Paths` template ``uri`` was built from (ids and query removed), or None."""
    path = uri.partition("?")[0]
    exact, patterns = _templates()
    if path in exact:
        return path
    for pattern, template in patterns:
        if pattern.match(path):
            return template
    return None


class Telemetry:
    """The process-wide link to OpenTelemetry; the API is imported on the first call.

    Counts (attempts, retries, calls in flight) are kept here in plain integers and reported
    through asynchronous instruments when a metric reader collects, so a call pays for two
    histogram records and its span, not for five synchronous instrument updates.
    """

    def __init__(self) -> None:
        self._loaded = False
        self._tracing = False
        self._metering = False
        self._lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.attempts: dict[str, int] = {}
        self.retries: dict[tuple[str, str], int] = {}
        self.trace: Any = None  # the opentelemetry.trace module, once loaded
        self.metrics: Any = None  # the opentelemetry.metrics module
        self.context: Any = None  # the opentelemetry.context module
        self.client_kind: Any = None
        self.error_status: Any = None
        self.tracer: Tracer | None = None
        self.duration: Histogram | None = None
        self.signing: Histogram | None = None
        self.pause: Histogram | None = None
        self.pool_wait: Histogram | None = None

    def _load(self) -> bool:
        global TELEMETRY
        try:
            from opentelemetry import context, metrics, trace
        except ImportError:  # a namespace package without the API: behave as not installed
            TELEMETRY = None
            return False
        from . import __version__

        self.trace, self.metrics, self.context = trace, metrics, context
        self.client_kind = trace.SpanKind.CLIENT
        self.error_status = trace.StatusCode.ERROR
        self.tracer = trace.get_tracer(SCOPE, __version__)
        meter = metrics.get_meter(SCOPE, __version__)
        self.duration = meter.create_histogram(
            "wonder.client.call.duration",
            unit="s",
            description="Duration of SDK calls, retries and backoff included.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.signing = meter.create_histogram(
            "wonder.client.signing.duration",
            unit="s",
            description="Time to sign a request (RSA-SHA256), thread-pool wait included.",
            explicit_bucket_boundaries_advisory=_SIGNING_BUCKETS,
        )
        self.pause = meter.create_histogram(
            "wonder.client.rate_limit.pause.duration",
            unit="s",
            description="Time a call waited because the gateway answered 429 Retry-After.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.pool_wait = meter.create_histogram(
            "wonder.client.connection.wait_time",
            unit="s",
            description="Time a request waited for a free connection of the pool.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        observation = metrics.Observation

        def observe(counts: dict[Any, int], names: tuple[str, ...]) -> Any:
            def callback(_options: Any) -> list[Any]:
                with self._lock:
                    items = list(counts.items())
                return [
                    observation(
                        value, dict(zip(names, k if isinstance(k, tuple) else (k,), strict=True))
                    )
                    for k, value in items
                ]

            return callback

        op = ("wonder.operation",)
        meter.create_observable_counter(
            "wonder.client.attempts",
            [observe(self.attempts, op)],
            unit="{attempt}",
            description="HTTP requests sent (first attempts and retries).",
        )
        meter.create_observable_counter(
            "wonder.client.retries",
            [observe(self.retries, (*op, "wonder.retry_reason"))],
            unit="{retry}",
            description="Failed attempts that were tried again.",
        )
        meter.create_observable_up_down_counter(
            "wonder.client.calls.in_flight",
            [observe(self.in_flight, op)],
            unit="{call}",
            description="SDK calls started and not yet finished.",
        )
        self._loaded = True
        return True

    def _configured(self) -> tuple[bool, bool]:
        """Whether an SDK set the global tracer / meter provider (they are set once)."""
        tracing, metering = self._tracing, self._metering
        if tracing and metering:
            return True, True
        if not tracing:
            trace = self.trace
            tracing = self._tracing = not isinstance(
                trace.get_tracer_provider(), trace.ProxyTracerProvider
            )
        if not metering:
            # The API has no public proxy class for meters; the proxy is what
            # get_meter_provider returns before anything was set.
            metering = self._metering = (
                type(self.metrics.get_meter_provider()).__name__ != "_ProxyMeterProvider"
            )
        return tracing, metering

    def start_call(self, request: Request, base_url: str) -> Call | None:
        """Begin observing one SDK call, or None when no SDK is configured."""
        if not self._loaded and not self._load():
            return None
        tracing, metering = self._configured()
        if not (tracing or metering):
            return None
        return Call(self, request, base_url, tracing, metering)

    def count(self, counts: dict[Any, int], key: Any, n: int) -> None:
        with self._lock:
            counts[key] = counts.get(key, 0) + n

    def record_signing(self, request: Request, seconds: float) -> None:
        """Record signing done outside a call (the blocking client signs in its thread)."""
        if self._loaded and self._configured()[1]:
            assert self.signing is not None
            self.signing.record(seconds, {"wonder.operation": request.operation})

    def trace_configs(self) -> list[aiohttp.TraceConfig]:
        """aiohttp hooks for connection-pool waits, when metrics are configured."""
        if not self._loaded and not self._load():
            return []
        if not self._configured()[1]:
            return []
        import aiohttp

        histogram = self.pool_wait
        assert histogram is not None
        config = aiohttp.TraceConfig()

        async def queued_start(_s: Any, ctx: Any, _p: Any) -> None:
            ctx.wonder_queued = time.perf_counter()

        async def queued_end(_s: Any, ctx: Any, _p: Any) -> None:
            started = getattr(ctx, "wonder_queued", None)
            if started is not None:
                histogram.record(time.perf_counter() - started)

        config.on_connection_queued_start.append(queued_start)
        config.on_connection_queued_end.append(queued_end)
        return [config]


class Call:
    """One SDK call being observed: its span (current while it runs) and its metrics."""

    __slots__ = ("_done", "_metering", "_reason", "_started", "_tel", "_token", "operation", "span")

    def __init__(
        self, tel: Telemetry, request: Request, base_url: str, tracing: bool, metering: bool
    ) -> None:
        self._tel = tel
        self._metering = metering
        self._done = False
        self._reason: str | None = None
        self.operation = request.operation or "request"
        self.span: Span | None = None
        self._token: Token[Context] | None = None
        if tracing:
            assert tel.tracer is not None
            host, port = _server(base_url)
            attributes: dict[str, str | int] = {
                "http.request.method": request.method,
                "server.address": host,
                "server.port": port,
                "wonder.operation": self.operation,
            }
            template = url_template(request.uri)
            if template is not None:
                attributes["url.template"] = template
            span = tel.tracer.start_span(
                f"wonder {self.operation}", kind=tel.client_kind, attributes=attributes
            )
            if span.is_recording():
                self.span = span
                self._token = tel.context.attach(tel.trace.set_span_in_context(span))
        if metering:
            tel.count(tel.in_flight, self.operation, 1)
        self._started = time.perf_counter()

    def signed(self, seconds: float) -> None:
        """Signing one attempt took ``seconds``."""
        if self._metering:
            assert self._tel.signing is not None
            self._tel.signing.record(seconds, {"wonder.operation": self.operation})

    def paused(self, seconds: float) -> None:
        """The call is about to wait ``seconds`` for a client-wide 429 pause to end."""
        if self.span is not None:
            self.span.add_event("rate_limit.pause", {"wonder.pause.duration": seconds})
        if self._metering:
            assert self._tel.pause is not None
            self._tel.pause.record(seconds, {"wonder.operation": self.operation})

    def retry(self, attempt: int, exc: BaseException, delay: float) -> None:
        """Attempt ``attempt`` failed with ``exc``; the next starts after ``delay`` seconds."""
        reason = self._reason = retry_reason(exc)
        if self.span is not None:
            event: dict[str, str | int | float] = {
                "wonder.attempt": attempt,
                "wonder.retry_reason": reason,
                "wonder.retry.delay": delay,
                "error.type": type(exc).__qualname__,
            }
            if isinstance(exc, APIStatusError):
                event["http.response.status_code"] = exc.status
            if isinstance(exc, WonderError) and exc.request_id:
                event["wonder.request_id"] = exc.request_id
            self.span.add_event("retry", event)
        if self._metering:
            self._tel.count(self._tel.retries, (self.operation, reason), 1)

    def finish(
        self,
        attempts: int,
        *,
        status: int | None = None,
        request_id: str | None = None,
        exc: BaseException | None = None,
    ) -> None:
        """End the call: set the outcome on the span, detach it, record the metrics."""
        if self._done:
            return
        self._done = True
        elapsed = time.perf_counter() - self._started
        if exc is None:
            outcome = "success"
        elif isinstance(exc, Exception):
            outcome = "error"
        else:
            outcome = "cancelled"
        error_type = type(exc).__qualname__ if exc is not None else None
        if isinstance(exc, WonderError):
            request_id = request_id or exc.request_id
            attempts = exc.attempts or attempts
            if isinstance(exc, APIStatusError):
                status = exc.status
        tel = self._tel
        span = self.span
        if span is not None:
            attributes: dict[str, str | int] = {"wonder.attempts": attempts}
            if status is not None:
                attributes["http.response.status_code"] = status
            if request_id:
                attributes["wonder.request_id"] = request_id
            if self._reason is not None:
                attributes["wonder.retry_reason"] = self._reason
            if error_type is not None:
                attributes["error.type"] = error_type
            span.set_attributes(attributes)
            if outcome == "error":
                span.set_status(tel.error_status, str(exc))
            span.end()
            if self._token is not None:
                tel.context.detach(self._token)
        if self._metering:
            with tel._lock:
                tel.in_flight[self.operation] -= 1
                if attempts:
                    tel.attempts[self.operation] = tel.attempts.get(self.operation, 0) + attempts
            labels = {"wonder.operation": self.operation, "wonder.outcome": outcome}
            if error_type is not None:
                labels["error.type"] = error_type
            assert tel.duration is not None
            tel.duration.record(elapsed, labels)


def _api_installed() -> bool:
    try:
        return importlib.util.find_spec("opentelemetry") is not None
    except (ImportError, ValueError):  # a blocked or half-removed module
        return False


#: None when ``opentelemetry-api`` is not installed: the pipeline's zero-cost check.
TELEMETRY: Telemetry | None = Telemetry() if _api_installed() else None
