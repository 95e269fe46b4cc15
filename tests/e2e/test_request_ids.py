"""Results with their request, over real sockets: raw answers, last_request_id, error headers.

Both clients, against the emulator; one small aiohttp server stands in for a gateway that
answers with its own ``X-Request-ID`` (the emulator sends none), to show which id is which.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

import wonder_async
import wonder_sync
from wonder_async import NotFoundError, RateLimitError, RawResponse, ServerError
from wonder_async._wire import Paths, ok_envelope


def _is_uuid4(text: str | None) -> bool:
    return text is not None and uuid.UUID(text).version == 4


@pytest.fixture
async def wonder(wonder_emulator: Any) -> AsyncIterator[wonder_async.WonderClient]:
    async with wonder_async.WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url,
    ) as client:
        yield client


@pytest.fixture
def blocking(wonder_emulator_thread: Any) -> Iterator[wonder_sync.WonderClient]:
    emu = wonder_emulator_thread
    with wonder_sync.WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as client:
        yield client


# --- the async client ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_raw_response_of_a_call(wonder: wonder_async.WonderClient) -> None:
    """with_raw_response gives status, headers, the sent request id and the usual result."""
    raw = await wonder.with_raw_response.customers.upsert(
        reference_number="r-1", name="Tai Man", phone="12345678"
    )
    assert isinstance(raw, RawResponse)
    assert raw.status == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert _is_uuid4(raw.request_id)
    assert raw.attempts == 1
    assert raw.requests == 1
    assert raw.operation == "customers.upsert"
    assert raw.gateway_request_id is None  # the emulator answers without one
    customer = raw.parse()
    assert customer == await wonder.customers.get_by_reference("r-1")
    assert customer.uuid is not None
    got = await wonder.with_raw_response.customers.get(customer.uuid)
    assert got.parse() == customer
    assert got.request_id != raw.request_id
    echo = await wonder.with_raw_response.echo("ping")
    assert echo.parse() == "ping"
    assert echo.operation == "echo"
    assert "request_id=" in repr(echo)


@pytest.mark.anyio
async def test_raw_response_after_a_retry(
    wonder: wonder_async.WonderClient, wonder_emulator: Any
) -> None:
    """A retried call reports the answered attempt: its status, its request id, 2 attempts."""
    customer = await wonder.customers.upsert(reference_number="r-2", name="N", phone="1")
    assert customer.uuid is not None
    wonder_emulator.faults.script("customers.get", ["503"])
    raw = await wonder.with_raw_response.customers.get(customer.uuid)
    assert raw.status == 200
    assert raw.attempts == 2
    assert raw.parse().uuid == customer.uuid
    assert wonder.last_request_id == raw.request_id


@pytest.mark.anyio
async def test_last_request_id_per_task(wonder: wonder_async.WonderClient) -> None:
    """Each task sees the id of its own last request; copies share it; other clients do not."""
    assert wonder.last_request_id is None
    customer = await wonder.customers.upsert(reference_number="r-3", name="N", phone="1")
    first = wonder.last_request_id
    assert _is_uuid4(first)
    assert wonder.with_options(max_retries=0).last_request_id == first
    uuid_ = customer.uuid
    assert uuid_ is not None
    gate, called, count = asyncio.Event(), asyncio.Event(), [0]

    async def one() -> tuple[str | None, str | None]:
        await wonder.customers.get(uuid_)
        mine = wonder.last_request_id
        count[0] += 1
        if count[0] == 4:
            called.set()
        await gate.wait()  # every task has made its call by now
        return mine, wonder.last_request_id

    tasks = [asyncio.ensure_future(one()) for _ in range(4)]
    await called.wait()
    gate.set()
    seen = await asyncio.gather(*tasks)
    assert all(before == after for before, after in seen)
    assert len({before for before, _ in seen}) == 4
    assert wonder.last_request_id == first  # the tasks' calls did not change this task's id


@pytest.mark.anyio
async def test_errors_carry_headers_and_the_last_request_id(
    wonder: wonder_async.WonderClient, wonder_emulator: Any
) -> None:
    """An API error has the answer's headers; last_request_id is the failed request's id."""
    with pytest.raises(NotFoundError) as caught:
        await wonder.customers.get("no-such-customer")
    assert caught.value.headers["Content-Type"].startswith("application/json")
    assert _is_uuid4(caught.value.request_id)
    assert wonder.last_request_id == caught.value.request_id
    wonder_emulator.faults.script("customers.upsert", ["429@0.2"])
    with pytest.raises(RateLimitError) as limited:
        await wonder.with_options(max_retries=0).customers.upsert(
            reference_number="r-4", name="N", phone="1"
        )
    assert limited.value.headers["retry-after"] == "0.2"
    wonder_emulator.faults.script("customers.get_by_reference", ["503"])
    with pytest.raises(ServerError) as failed:
        await wonder.with_options(max_retries=0).with_raw_response.customers.get_by_reference("x")
    assert failed.value.headers.get("Content-Type", "").startswith("application/json")


# A gateway that answers echo with its own id, to tell the sent id from the answered one.
_GATEWAY_PREFIX = "gw-"


async def _echo_gateway(request: web.Request) -> web.Response:
    sent = request.headers["X-Request-ID"]
    body = await request.json()
    return web.json_response(
        ok_envelope({"message": body["message"]}),
        headers={"X-Request-ID": _GATEWAY_PREFIX + sent},
    )


@pytest.fixture
async def echo_gateway() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post(Paths.ECHO, _echo_gateway)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.anyio
async def test_sent_and_answered_request_ids(echo_gateway: str, key_pair: Any) -> None:
    """request_id is what the SDK sent; gateway_request_id what the gateway answered with."""
    async with wonder_async.WonderClient(
        app_id="app", private_key=key_pair.private_pem, base_url=echo_gateway
    ) as client:
        raw = await client.with_raw_response.echo("hi")
    assert raw.parse() == "hi"
    assert raw.gateway_request_id == _GATEWAY_PREFIX + raw.request_id


# --- the blocking client -------------------------------------------------------------------


def test_blocking_raw_response(
    blocking: wonder_sync.WonderClient, wonder_emulator_thread: Any
) -> None:
    """The blocking twin answers with the same RawResponse; a retry shows as 2 attempts."""
    raw = blocking.with_raw_response.customers.upsert(reference_number="s-1", name="N", phone="1")
    assert isinstance(raw, wonder_sync.RawResponse)
    assert raw.status == 200
    assert raw.headers["Content-Type"].startswith("application/json")
    assert _is_uuid4(raw.request_id)
    assert blocking.last_request_id == raw.request_id
    customer = raw.parse()
    assert customer.uuid is not None
    wonder_emulator_thread.faults.script("customers.get", ["503"])
    got = blocking.with_raw_response.customers.get(customer.uuid)
    assert (got.attempts, got.parse()) == (2, blocking.customers.get(customer.uuid))
    assert blocking.with_raw_response.echo("ping").parse() == "ping"


def test_blocking_last_request_id_per_thread(blocking: wonder_sync.WonderClient) -> None:
    """Threads sharing one blocking client each see their own last request id."""
    assert blocking.last_request_id is None
    blocking.echo("main")
    main_id = blocking.last_request_id
    assert _is_uuid4(main_id)
    barrier = threading.Barrier(4)
    seen: list[tuple[str | None, str | None, str | None]] = []

    def one() -> None:
        before = blocking.last_request_id  # a new thread has none yet
        blocking.echo("thread")
        mine = blocking.last_request_id
        barrier.wait()  # every thread has made its call
        seen.append((before, mine, blocking.last_request_id))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4
    assert all(before is None and mine == after for before, mine, after in seen)
    assert len({mine for _, mine, _ in seen}) == 4
    assert main_id not in {mine for _, mine, _ in seen}
    assert blocking.last_request_id == main_id


def test_blocking_errors_carry_headers(blocking: wonder_sync.WonderClient) -> None:
    """A blocking call's error has the answer's headers and sets last_request_id."""
    with pytest.raises(NotFoundError) as caught:
        blocking.customers.get("no-such-customer")
    assert caught.value.headers["content-type"].startswith("application/json")
    assert blocking.last_request_id == caught.value.request_id
    list(blocking.customers.list(page_size=10))  # an iterator's pages set it too
    assert blocking.last_request_id not in (None, caught.value.request_id)
