"""An aiohttp web app whose traces show each SDK call inside the request that made it.

Needs ``pip install 'wonder-gateway[otel]' opentelemetry-sdk``. A small middleware opens a
``SERVER`` span per request (continuing the caller's trace from its ``traceparent`` header);
the SDK's ``wonder <operation>`` spans nest under it on their own. ``python
examples/otel_aiohttp_server.py`` serves the app on a local port against an in-process
emulator, sends it one request from a traced caller and prints the trace. In production:
``web.run_app(make_app())`` with the ``WONDER_*`` environment variables, and an OTLP exporter
(see the comments).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from wonder_async import WonderClient
from wonder_async.testing import Emulator

# Once at start-up, as the OpenTelemetry docs show; the SDK uses the global tracer provider.
# In production: BatchSpanProcessor(OTLPSpanExporter()) from opentelemetry-exporter-otlp (or
# ConsoleSpanExporter() from opentelemetry-sdk to see spans on stdout).
spans = InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(tracer_provider)

tracer = trace.get_tracer("shop.web")
WONDER = web.AppKey("wonder", WonderClient)


@web.middleware
async def traced(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A SERVER span per request, current while the handler runs, named by its route."""
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched route"
    with tracer.start_as_current_span(
        f"{request.method} {route}",
        context=propagate.extract(request.headers),  # the caller's trace, if it sent one
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": request.method, "http.route": route},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        status = 500
        try:
            response = await handler(request)
            status = response.status
        except web.HTTPException as exc:  # an answer (404, 400...), not a crash
            status = exc.status
            raise
        except Exception as exc:
            span.record_exception(exc)
            raise
        finally:
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                span.set_status(trace.StatusCode.ERROR)
        return response


async def sign_up(request: web.Request) -> web.Response:
    wonder = request.app[WONDER]
    name, phone = request.query.get("name"), request.query.get("phone")
    if not name or not phone:
        raise web.HTTPBadRequest(text="name and phone are required")
    customer = await wonder.customers.upsert(
        reference_number=request.match_info["ref"], name=name, phone=phone
    )
    return web.json_response({"uuid": customer.uuid})


def make_app(**client_settings: Any) -> web.Application:
    """The app; ``client_settings`` go to ``WonderClient`` (default: the WONDER_* variables)."""

    async def wonder_client(app: web.Application) -> AsyncIterator[None]:
        # One client for the app's life, shared by every request.
        async with WonderClient(**client_settings) as wonder:
            app[WONDER] = wonder
            yield

    app = web.Application(middlewares=[traced])
    app.cleanup_ctx.append(wonder_client)
    app.router.add_post("/members/{ref}", sign_up)
    return app


def print_trace(finished: Sequence[ReadableSpan]) -> None:
    """Each trace, then its spans with their ids, each indented under its parent."""
    by_id = {span.context.span_id: span for span in finished}

    def depth(span: ReadableSpan) -> int:
        levels = 0
        while span.parent is not None and span.parent.span_id in by_id:
            span, levels = by_id[span.parent.span_id], levels + 1
        return levels

    for trace_id in dict.fromkeys(span.context.trace_id for span in finished):
        print(f"trace {trace_id:032x}")
        for span in sorted(finished, key=lambda s: s.start_time or 0):
            if span.context.trace_id != trace_id:
                continue
            parent = f"{span.parent.span_id:016x}" if span.parent is not None else "-"
            status = (span.attributes or {}).get("http.response.status_code")
            print(
                "  " * (depth(span) + 1)
                + f"{span.name}  {span.kind.name}  span={span.context.span_id:016x} "
                + f"parent={parent}"
                + (f" -> {status}" if status is not None else "")
            )


async def main() -> None:
    async with Emulator() as emu:
        app = make_app(app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/members/u-42"
        try:
            # A caller with a trace of its own (another service, a browser's instrumentation)
            # sends it in a traceparent header; the server span joins that trace.
            async with aiohttp.ClientSession() as session:
                with tracer.start_as_current_span("checkout", kind=trace.SpanKind.CLIENT):
                    headers: dict[str, str] = {}
                    propagate.inject(headers)
                    params = {"name": "Tai Man", "phone": "12345678"}
                    async with session.post(url, params=params, headers=headers) as resp:
                        print(f"POST /members/u-42 -> {resp.status} {await resp.text()}")
        finally:
            await runner.cleanup()
    print_trace(spans.get_finished_spans())


if __name__ == "__main__":
    asyncio.run(main())
