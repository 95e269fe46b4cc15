"""The request pipeline against a scripted server that verifies every signature independently."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import KeyPair
from tests.independent_signing import verify
from wonder_async import (
    APIConnectionError,
    APITimeoutError,
    Card,
    ServerError,
    ThreeDS,
    ValidationError,
    WonderClient,
)

OK = {"code": 200, "message": "success"}


@attrs.define
class Scripted:
    """A server answering from a script of (status, body, headers) and recording requests."""

    public: Any
    script: list[tuple[int, Any, dict[str, str]]] = attrs.Factory(list)
    seen: list[dict[str, Any]] = attrs.Factory(list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        ok = verify(self.public, dict(request.headers), request.method, request.raw_path, body)
        self.seen.append(
            {"method": request.method, "uri": request.raw_path, "body": body, "verified": ok,
             "headers": dict(request.headers), "at": time.monotonic()}
        )  # fmt: skip
        if not ok:
            return web.json_response({"code": "E000002", "message": "bad signature"}, status=401)
        if self.script:
            status, doc, headers = self.script.pop(0)
        else:
            data = {
                "customer": {"uuid": "c-1"},
                "payment_token": {"token": "t-1", "state": "success"},
            }
            status, doc, headers = 200, {**OK, "data": data}, {}
        text = doc if isinstance(doc, str) else json.dumps(doc)
        return web.Response(status=status, text=text, headers=headers)


@pytest.fixture
async def server(key_pair: KeyPair) -> AsyncIterator[tuple[Scripted, str]]:
    scripted = Scripted(key_pair.public)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield scripted, str(srv.make_url("")).rstrip("/")


def _client(key_pair: KeyPair, base_url: str, **kw: Any) -> WonderClient:
    kw.setdefault("max_retries", 3)
    return WonderClient(app_id="app-1", private_key=key_pair.private_pem, base_url=base_url, **kw)


def _card() -> Card:
    return Card(number="4242424242424242", exp_month=12, exp_year=2099, holder_name="T M")


@pytest.mark.anyio
async def test_every_request_is_signed_over_path_query_and_body(
    server: tuple[Scripted, str], key_pair: KeyPair
) -> None:
    """Signatures verify for GET with query, PUT and DELETE with bodies; ids are fresh."""
    scripted, url = server
    async with _client(key_pair, url) as wonder:
        await wonder.customers.upsert(reference_number="r/1 ü", name="N", phone="1")
        await wonder.customers.get_by_reference("r/1 ü")
        await wonder.customers.update("c-1", email="a@b.co")
        await wonder.payment_tokens.delete("c-1", "tok")
        _ = [c async for c in wonder.customers.list(page_size=7)]
    assert [s["verified"] for s in scripted.seen] == [True] * 5
    assert scripted.seen[1]["uri"].endswith("/customers/ref/r%2F1%20%C3%BC")
    assert scripted.seen[4]["uri"].endswith("/customers?limit=7&offset=0")
    assert json.loads(scripted.seen[3]["body"]) == {"token": "tok"}
    assert len({s["headers"]["X-Request-ID"] for s in scripted.seen}) == 5
    assert len({s["headers"]["Nonce"] for s in scripted.seen}) == 5


@pytest.mark.anyio
async def test_safe_call_retries_5xx_then_succeeds(
    server: tuple[Scripted, str], key_pair: KeyPair
) -> None:
    """An idempotent upsert is retried after 503 and a garbled 200, each retry re-signed."""
    scripted, url = server
    scripted.script = [(503, {"code": 503, "message": "busy"}, {}), (200, '{"code":20', {})]
    async with _client(key_pair, url) as wonder:
        customer = await wonder.customers.upsert(reference_number="r", name="N", phone="1")
    assert customer.uuid == "c-1"
    assert len(scripted.seen) == 3
    assert all(s["verified"] for s in scripted.seen)


@pytest.mark.anyio
async def test_unsafe_call_is_not_repeated_and_says_how_to_reconcile(
    server: tuple[Scripted, str], key_pair: KeyPair
) -> None:
    """Card binding that got a 500 is sent once; the error points at payment_tokens.list."""
    scripted, url = server
    scripted.script = [(500, {"code": 500, "message": "boom"}, {})]
    async with _client(key_pair, url) as wonder:
        with pytest.raises(ServerError) as info:
            await wonder.payment_tokens.create(
                "c-1", card=_card(), three_ds=ThreeDS("https://a.example/s", "https://a.example/f")
            )
    assert len(scripted.seen) == 1
    assert "payment_tokens.list('c-1')" in str(info.value)
    assert "4242424242424242" not in str(info.value)
    assert info.value.attempts == 1


@pytest.mark.anyio
async def test_429_retry_after_is_honoured_even_for_unsafe_calls(
    server: tuple[Scripted, str], key_pair: KeyPair
) -> None:
    """A 429 with Retry-After: 1 delays the retry by about a second, for orders too."""
    scripted, url = server
    scripted.script = [
        (429, {"code": 429, "message": "slow"}, {"Retry-After": "1"}),
        (200, {**OK, "data": {"order": {"number": "n-1"}, "payment_link": "https://p"}}, {}),
    ]
    async with _client(key_pair, url) as wonder:
        order = await wonder.orders.create(
            reference_number="o-1", charge_fee="1.00", currency="HKD", with_payment_link=True
        )
    assert (order.number, order.payment_link) == ("n-1", "https://p")
    assert scripted.seen[0]["uri"].endswith("/orders?with_payment_link=true")
    gap = scripted.seen[1]["at"] - scripted.seen[0]["at"]
    assert 0.9 <= gap < 3


@pytest.mark.anyio
async def test_refused_connection_is_retried_for_unsafe_calls(key_pair: KeyPair) -> None:
    """Connect refused proves nothing was sent: even create is retried, then fails clearly."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with _client(key_pair, f"http://127.0.0.1:{port}", max_retries=2) as wonder:
        with pytest.raises(APIConnectionError) as info:
            await wonder.orders.create(reference_number="o-1", charge_fee="1", currency="HKD")
    assert info.value.sent is False
    assert info.value.attempts == 3


@pytest.mark.anyio
async def test_total_deadline_bounds_retries(
    server: tuple[Scripted, str], key_pair: KeyPair
) -> None:
    """With a 1.5 s deadline and Retry-After 1 on every answer, the call ends within it."""
    scripted, url = server
    scripted.script = [(503, {"code": 503, "message": "busy"}, {"Retry-After": "1"})] * 10
    async with _client(key_pair, url, timeout=1.5, max_retries=10) as wonder:
        started = time.monotonic()
        with pytest.raises(ServerError) as info:
            await wonder.customers.get("c-1")
        elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert "deadline" in str(info.value)


@pytest.mark.anyio
async def test_slow_attempt_times_out(key_pair: KeyPair) -> None:
    """An attempt that outlasts attempt_timeout raises APITimeoutError with attempts counted."""

    async def slow(_request: web.Request) -> web.Response:
        await __import__("asyncio").sleep(5)
        return web.json_response(OK)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", slow)
    async with TestServer(app, host="127.0.0.1") as srv:
        url = str(srv.make_url("")).rstrip("/")
        async with _client(key_pair, url, attempt_timeout=0.2, timeout=0.5) as wonder:
            with pytest.raises(APITimeoutError) as info:
                await wonder.customers.get("c-1")
    assert info.value.attempts >= 1


@pytest.mark.anyio
async def test_validation_error_sends_nothing(
    server: tuple[Scripted, str], key_pair: KeyPair
) -> None:
    """Bad input raises ValidationError and no request reaches the server."""
    scripted, url = server
    async with _client(key_pair, url) as wonder:
        with pytest.raises(ValidationError, match=r"customer\.phone"):
            await wonder.customers.upsert(reference_number="r", name="N", phone="")
        with pytest.raises(ValidationError, match=r"order\.charge_fee"):
            await wonder.orders.create(reference_number="o", charge_fee=1.5, currency="HKD")  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="page_size"):
            _ = [c async for c in wonder.customers.list(page_size=1001)]
    assert scripted.seen == []


@pytest.mark.anyio
async def test_logs_attempts_without_secrets(
    server: tuple[Scripted, str], key_pair: KeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    """DEBUG logs each attempt and INFO each retry, with no card number or key material."""
    scripted, url = server
    scripted.script = [(503, {"code": 503, "message": "busy"}, {})]
    caplog.set_level(logging.DEBUG, logger="wonder")
    async with _client(key_pair, url) as wonder:
        await wonder.customers.get("c-1")
        await wonder.payment_tokens.create(
            "c-1", card=_card(), three_ds=ThreeDS("https://a.example/s", "https://a.example/f")
        )
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "retrying GET" in text
    assert "4242424242424242" not in text
    assert "PRIVATE KEY" not in text
    assert {r.levelname for r in caplog.records} == {"DEBUG", "INFO"}


@pytest.mark.anyio
async def test_closed_client_raises_clearly(key_pair: KeyPair) -> None:
    """Calls after close() raise a clear error; close() is idempotent."""
    wonder = _client(key_pair, "http://127.0.0.1:9")
    await wonder.close()
    await wonder.close()
    with pytest.raises(Exception, match="closed"):
        await wonder.customers.get("c-1")


@pytest.mark.anyio
async def test_429_pauses_the_whole_client(server: tuple[Scripted, str], key_pair: KeyPair) -> None:
    """After one 429 with Retry-After: 1, no request of any task is sent for about a second."""
    import asyncio

    scripted, url = server
    scripted.script = [(429, {"code": 429, "message": "slow"}, {"Retry-After": "1"})]
    async with _client(key_pair, url) as wonder:
        first = asyncio.create_task(wonder.customers.get("c-0"))
        for _ in range(500):  # until the 429 has arrived and the pause is on (at most 10 s)
            if wonder._shared.paused_until:
                break
            await asyncio.sleep(0.02)
        await asyncio.gather(first, *(wonder.customers.get(f"c-{i}") for i in range(1, 10)))
    limited_at = scripted.seen[0]["at"]
    later = [s["at"] - limited_at for s in scripted.seen[1:]]
    assert len(later) == 10
    assert min(later) >= 0.9


@pytest.mark.anyio
async def test_cancellation_leaves_the_pool_healthy(key_pair: KeyPair) -> None:
    """Cancelling in-flight calls (task cancel and anyio scope) leaves the client usable."""
    import asyncio

    import anyio

    gate = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/slow"):
            await gate.wait()
        return web.json_response({**OK, "data": {"customer": {"uuid": "c-1"}}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    async with TestServer(app, host="127.0.0.1") as srv:
        url = str(srv.make_url("")).rstrip("/")
        async with _client(key_pair, url) as wonder:
            tasks = [asyncio.create_task(wonder.customers.get("slow")) for _ in range(5)]
            await asyncio.sleep(0.1)
            for task in tasks:
                task.cancel()
            with anyio.move_on_after(0.1):
                await wonder.customers.get("slow")
            gate.set()
            results = await asyncio.gather(*(wonder.customers.get("fast") for _ in range(20)))
            assert {c.uuid for c in results} == {"c-1"}
            assert wonder._shared.inflight == 0


def _signing_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("wonder-sign")]


@pytest.mark.anyio
async def test_concurrent_calls_are_each_signed_and_close_ends_the_signing_threads(
    server: tuple[Scripted, str], key_pair: KeyPair
) -> None:
    """Many calls at once (signed on worker threads) each carry their own valid signature;
    closing the client (with signatures still queued) answers every call and ends the threads."""
    import asyncio

    scripted, url = server
    assert _signing_threads() == []
    wonder = _client(key_pair, url, sign_threads=2)
    results = await asyncio.gather(
        *(
            wonder.customers.upsert(reference_number=f"r-{i}", name="N", phone="1")
            for i in range(40)
        )
    )
    assert [c.uuid for c in results] == ["c-1"] * 40
    assert len(scripted.seen) == 40
    assert all(seen["verified"] for seen in scripted.seen)
    assert len({seen["headers"]["Nonce"] for seen in scripted.seen}) == 40
    assert sorted(json.loads(s["body"])["customer"]["reference_number"] for s in scripted.seen) == (
        sorted(f"r-{i}" for i in range(40))
    )
    assert 1 <= len(_signing_threads()) <= 2
    # Calls still waiting for a signature when the client closes fail clearly, never hang.
    pending = [
        asyncio.ensure_future(wonder.customers.upsert(reference_number="late", name="N", phone="1"))
        for _ in range(8)
    ]
    await asyncio.sleep(0)
    await wonder.close()
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    assert all(str(o).startswith("this WonderClient is closed;") for o in outcomes), outcomes
    assert _signing_threads() == []
