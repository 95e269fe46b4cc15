"""examples/observability_fastapi.py, instrumented as the OpenTelemetry docs show, exports over
OTLP a trace that tells the story: the request's server span, the SDK call inside it, the
retry as an event; and metrics that add up.

The app runs in a fresh interpreter (global providers are set once per process) under
FastAPI's TestClient, against the emulator; a minimal OTLP/HTTP collector here receives what
its exporters send.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

APP = """
import sys
from fastapi.testclient import TestClient

sys.path.insert(0, sys.argv[1])
from observability_fastapi import app

with TestClient(app) as client:
    answer = client.post("/members/u-42", params={"name": "Tai Man", "phone": "12345678"})
    assert answer.status_code == 200, answer.text
"""


class Collector:
    """An OTLP/HTTP receiver: keeps each POSTed protobuf body by path."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[bytes]] = {}
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.bodies.setdefault(self.path, []).append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    thread = threading.Thread(target=c.server.serve_forever, daemon=True)
    thread.start()
    yield c
    c.server.shutdown()
    c.server.server_close()
    thread.join()


def test_fastapi_recipe_exports_the_story_of_a_request_over_otlp(
    collector: Collector, wonder_emulator_thread: Any
) -> None:
    for module in ("fastapi", "opentelemetry.instrumentation.fastapi", "opentelemetry.proto"):
        pytest.importorskip(module, reason="pip install -e '.[examples]' for the recipe")
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    emu = wonder_emulator_thread
    emu.faults.script("customers.upsert", ["503", "ok"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WONDER_", "OTEL_"))}
    env |= {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "WONDER_APP_ID": emu.app_id,
        "WONDER_PRIVATE_KEY": emu.private_key_pem,
        "WONDER_BASE_URL": emu.base_url,
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(APP), str(EXAMPLES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    spans = []
    for body in collector.bodies.get("/v1/traces", []):
        request = ExportTraceServiceRequest.FromString(body)
        for rs in request.resource_spans:
            service = {a.key: a.value.string_value for a in rs.resource.attributes}
            assert service["service.name"] == "shop"
            spans += [s for ss in rs.scope_spans for s in ss.spans]
    by_name = {s.name: s for s in spans}
    server = by_name["POST /members/{ref}"]
    call = by_name["wonder customers.upsert"]
    assert call.parent_span_id == server.span_id
    assert call.trace_id == server.trace_id
    attributes = {a.key: a.value for a in call.attributes}
    assert attributes["wonder.attempts"].int_value == 2
    assert attributes["http.response.status_code"].int_value == 200
    assert attributes["url.template"].string_value.endswith("/customers")
    assert [e.name for e in call.events] == ["retry"]
    event = {a.key: a.value for a in call.events[0].attributes}
    assert event["wonder.retry_reason"].string_value == "http_503"

    points: dict[str, float] = {}
    for body in collector.bodies.get("/v1/metrics", []):
        request = ExportMetricsServiceRequest.FromString(body)
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    for p in getattr(metric, kind).data_points:
                        value = p.count if kind == "histogram" else p.as_int or p.as_double
                        points[metric.name] = value  # cumulative: the last export counts
    assert points["wonder.client.call.duration"] == 1
    assert points["wonder.client.attempts"] == 2
    assert points["wonder.client.retries"] == 1
