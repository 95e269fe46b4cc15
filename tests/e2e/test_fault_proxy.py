"""Charges and refunds through a TCP proxy that breaks connections, not through the emulator's
own fault rules: the emulator answers every request correctly, and the proxy between it and
the SDK loses, cuts, delays or truncates the bytes — the way a load balancer or a flaky
network does, unknown to the gateway. The emulator does not dedupe ``payment.uuid`` here, so
a charge the SDK sent twice would be charged twice. Whatever the proxy did, the emulator's
ledger must show each charge, refund and void exactly as the SDK reported it: once when the
call returned, not at all when it failed with a definite error, never twice.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from wonder_async import (
    Card,
    OutcomeUnknownError,
    ThreeDS,
    Transaction,
    WonderClient,
    WonderError,
)
from wonder_async._wire import Paths
from wonder_async.testing import Emulator

YEAR = time.gmtime().tm_year + 2
CHARGES = 60
VOIDS = 24  # orders CHARGES .. CHARGES + VOIDS - 1 are pre-authorised directly, voided through


class FaultProxy:
    """A TCP proxy in front of the emulator that injects faults per chunk of bytes, seeded.

    Towards the gateway a chunk may be cut (the connection closed before the request got there:
    nothing happened). Towards the client a chunk may be lost after the gateway answered (the
    connection reset: the request took effect, the client cannot know), truncated, or held back
    longer than the client's attempt timeout. Besides the random faults, the answer to every
    third charge, refund and void is lost, so the ambiguous case surely happens.
    """

    def __init__(self, upstream_port: int, seed: int) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FaultProxy:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.connections:  # each one aborts both of its sockets as it ends
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        await self.server.wait_closed()
        await asyncio.sleep(0)  # the aborted transports close their sockets on this turn

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def _kind(self, chunk: bytes) -> str:
        line = chunk.split(b"\r\n", 1)[0]
        if Paths.OPEN_PAYMENTS.encode() in line:
            return "charge"
        if Paths.ORDER_REFUND.encode() in line:
            return "refund"
        if Paths.ORDER_VOID.encode() in line:
            return "void"
        return "other"

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        try:
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.transport.abort()
            self.connections.discard(task)
            return
        pending: list[tuple[str, int]] = []  # each request forwarded, not answered: kind, ordinal

        def abort() -> None:
            client_w.transport.abort()
            upstream_w.transport.abort()

        async def to_gateway() -> None:
            while chunk := await client_r.read(65536):
                if chunk[:4] in (b"POST", b"GET ", b"PUT ", b"DELE"):
                    if self.rng.random() < 0.05:
                        self.injected["request cut before the gateway"] += 1
                        abort()
                        return
                    kind = self._kind(chunk)
                    self.seen[kind] += 1
                    pending.append((kind, self.seen[kind]))
                upstream_w.write(chunk)
                await upstream_w.drain()
            upstream_w.close()

        async def to_client() -> None:
            while chunk := await upstream_r.read(65536):
                kind, ordinal = pending.pop(0) if pending and chunk[:5] == b"HTTP/" else ("", 1)
                roll = self.rng.random()
                if (kind in ("charge", "refund", "void") and ordinal % 3 == 0) or roll < 0.06:
                    self.injected["answer lost after the gateway acted"] += 1
                    abort()
                    return
                if roll < 0.10:
                    self.injected["answer truncated"] += 1
                    client_w.write(chunk[: len(chunk) // 2])
                    await client_w.drain()
                    abort()
                    return
                if roll < 0.13:
                    self.injected["answer held past the attempt timeout"] += 1
                    await asyncio.sleep(0.8)
                client_w.write(chunk)
                await client_w.drain()
            client_w.close()

        try:
            await asyncio.gather(to_gateway(), to_client(), return_exceptions=True)
        finally:  # every socket of this connection is closed when its task ends
            abort()
            self.connections.discard(task)


@pytest.fixture
async def direct(wonder_emulator: Emulator) -> AsyncIterator[WonderClient]:
    """A client straight to the emulator: to set up and to read the ledger."""
    async with WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url,
    ) as client:
        yield client


async def _tokens(direct: WonderClient, count: int) -> list[str]:
    three_ds = ThreeDS("https://shop.example/ok", "https://shop.example/fail")
    tokens = []
    for i in range(count):
        customer = await direct.customers.upsert(
            reference_number=f"proxy-u-{i}", name="Tai Man", phone="1234"
        )
        assert customer.uuid is not None
        card = Card(number="4242424242424242", exp_month=12, exp_year=YEAR, holder_name="TAI MAN")
        token = await direct.payment_tokens.create(customer.uuid, card=card, three_ds=three_ds)
        assert token.token is not None
        tokens.append(token.token)
        for j in range(i, CHARGES + VOIDS, count):
            await direct.orders.create(
                reference_number=f"proxy-o-{j}",
                charge_fee="30.00",
                currency="HKD",
                customer_uuid=customer.uuid,
            )
    for j in range(CHARGES, CHARGES + VOIDS):
        auth = await direct.payments.create(
            reference_number=f"proxy-o-{j}",
            token=tokens[j % count],
            amount="30.00",
            consume_mode="pre_authorize",
        )
        assert auth.succeeded
    return tokens


async def _in_ledger(
    direct: WonderClient, ref: str, kind: str, outcome: str, *, said_done: str
) -> list[Transaction]:
    """The order's successful ``kind`` transactions, checked against what the SDK said: one
    when it said ``said_done``, none when it failed for sure, never two."""
    order = await direct.orders.get(reference_number=ref)
    done = [t for t in order.transactions if t.type == kind and t.success]
    assert len(done) <= 1, f"{ref}: {len(done)} {kind} transactions"
    expected = {said_done: 1, "failed": 0}.get(outcome, len(done))  # unknown: either
    assert len(done) == expected, f"{ref}: the SDK said {outcome}, the ledger has {done}"
    return done


@pytest.mark.anyio
@pytest.mark.timeout(240)
async def test_charges_and_refunds_through_a_faulty_proxy_happen_once(
    wonder_emulator: Emulator, direct: WonderClient
) -> None:
    """No charge or refund twice, none reported that did not happen, none hidden."""
    wonder_emulator.dedupe_charges = False  # a charge sent twice would be charged twice
    tokens = await _tokens(direct, 6)
    base = urlsplit(wonder_emulator.base_url)
    upstream_port = base.port
    assert upstream_port is not None
    told: dict[str, str] = {}  # order reference -> what the SDK said of its charge
    refunds_told: dict[str, str] = {}
    voids_told: dict[str, str] = {}
    recovered = 0
    async with (
        FaultProxy(upstream_port, seed=20261127) as proxy,
        WonderClient(
            app_id=wonder_emulator.app_id,
            private_key=wonder_emulator.private_key_pem,
            base_url=base._replace(netloc=f"127.0.0.1:{proxy.port}").geturl(),
            timeout=30,
            attempt_timeout=0.5,
            max_retries=8,
        ) as faulty,
    ):
        gate = asyncio.Semaphore(6)

        async def charge(i: int) -> None:
            ref = f"proxy-o-{i}"
            nonlocal recovered
            async with gate:
                try:
                    payment = await faulty.payments.create(
                        reference_number=ref,
                        token=tokens[i % len(tokens)],
                        amount="30.00",
                        payment_uuid=f"invoice-{i}" if i % 2 else None,
                    )
                except OutcomeUnknownError:
                    told[ref] = "unknown"
                    return
                except WonderError:
                    told[ref] = "failed"
                    return
            assert payment.transaction is not None
            assert payment.transaction.success
            told[ref] = "charged"
            recovered += payment.recovered

        await asyncio.gather(*(charge(i) for i in range(CHARGES)))

        sales = {}
        for ref, outcome in told.items():
            done = await _in_ledger(direct, ref, "Sales", outcome, said_done="charged")
            if done:
                sales[ref] = done[0].uuid

        async def refund(ref: str, sale: str) -> None:
            async with gate:
                try:
                    await faulty.orders.refund(
                        reference_number=ref, transaction_uuid=sale, amount="10.00"
                    )
                except OutcomeUnknownError:
                    refunds_told[ref] = "unknown"
                    return
                except WonderError:
                    refunds_told[ref] = "failed"
                    return
            refunds_told[ref] = "refunded"

        await asyncio.gather(*(refund(ref, sale) for ref, sale in sales.items() if sale))

        async def void(ref: str) -> None:
            auth = (await direct.orders.get(reference_number=ref)).transactions[0]
            async with gate:
                try:
                    order = await faulty.orders.void(
                        reference_number=ref, transaction_uuid=str(auth.uuid)
                    )
                except WonderError as exc:
                    voids_told[ref] = type(exc).__name__
                    return
            voided = order.transaction(str(auth.uuid))
            assert voided is not None
            assert voided.voided
            voids_told[ref] = "voided"

        await asyncio.gather(*(void(f"proxy-o-{j}") for j in range(CHARGES, CHARGES + VOIDS)))

    for ref, outcome in refunds_told.items():
        made = await _in_ledger(direct, ref, "Refund", outcome, said_done="refunded")
        if made:
            assert Decimal(str(made[0].amount)) == Decimal("10.00")

    for ref, outcome in voids_told.items():
        order = await direct.orders.get(reference_number=ref)
        voided = order.transactions[0].voided
        if outcome != "OutcomeUnknownError":
            assert voided == (outcome == "voided"), f"{ref}: the SDK said {outcome}"

    outcomes = Counter(told.values())
    # The proxy really got in the way, and the SDK really recovered charges it could not see.
    assert proxy.injected["answer lost after the gateway acted"] >= CHARGES // 3
    assert recovered >= 1
    # With eight retries, a charge or refund is almost never left unknown.
    assert outcomes["charged"] >= CHARGES * 0.9, (outcomes, proxy.injected)
    assert Counter(refunds_told.values())["refunded"] >= len(sales) * 0.9
    assert Counter(voids_told.values())["voided"] >= VOIDS * 0.9, voids_told
