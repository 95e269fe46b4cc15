"""Charges and refunds through a TCP proxy that breaks connections, not through the emulator's
own fault rules: the emulator answers every request correctly, and the proxy between it and
the SDK loses, cuts, delays or truncates the bytes — the way a load balancer or a flaky
network does, unknown to the gateway. The emulator does not dedupe ``payment.uuid`` here, so
a charge the SDK sent twice would be charged twice. Whatever the proxy did, the emulator's
ledger must show each charge, refund and void exactly as the SDK reported it: once when the
call returned, not at all when it failed with a definite error, never twice.

The test runs under each reading of the real gateway that bears on these guarantees (issue
#22, ``wonder_async.testing._readings``): each non-default value alone, then all together --
refusals in HTTP 200 or 4xx, amounts as numbers or strings, refunds negative and unlinked,
charges that settle later, a repeated refund refused (100701) or taken, voids pending first.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from tests.fault_proxy import FaultProxy
from wonder_async import (
    Card,
    OutcomeUnknownError,
    ThreeDS,
    Transaction,
    WonderClient,
    WonderError,
)
from wonder_async.testing import Emulator
from wonder_async.testing._readings import variants

YEAR = time.gmtime().tm_year + 2
CHARGES = 60
VOIDS = 24  # orders CHARGES .. CHARGES + VOIDS - 1 are pre-authorised directly, voided through
#: The readings these guarantees rest on; the test runs under the default and each variant.
READINGS = ("errors", "amounts", "refunds", "charges", "duplicate_refund", "voids")
VARIANTS = [None, *variants(READINGS)]
PENDING_SECONDS = 0.2


def _variant_id(readings: dict[str, str] | None) -> str:
    if readings is None:
        return "defaults"
    return (
        "all-non-default"
        if len(readings) > 1
        else "+".join(f"{k}={v}" for k, v in readings.items())
    )


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
        auth = await direct.payments.wait(auth, timeout=10, interval=0.05)
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
@pytest.mark.parametrize("wonder_readings", VARIANTS, ids=_variant_id)
async def test_charges_and_refunds_through_a_faulty_proxy_happen_once(
    wonder_emulator: Emulator, direct: WonderClient
) -> None:
    """No charge or refund twice, none reported that did not happen, none hidden, a pending
    charge never reported declined, a void that happened reported done."""
    wonder_emulator.dedupe_charges = False  # a charge sent twice would be charged twice
    wonder_emulator.pending_seconds = PENDING_SECONDS
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
                    if payment.pending:  # charges=pending: neither paid nor declined yet
                        payment = await faulty.payments.wait(payment, timeout=20, interval=0.05)
                except OutcomeUnknownError:
                    told[ref] = "unknown"
                    return
                except WonderError:
                    told[ref] = "failed"
                    return
            assert payment.transaction is not None
            assert payment.succeeded, payment  # settled: a good card is never "declined"
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
            assert voided.voided or voided.void_is_pending  # voids=pending: accepted, settling
            voids_told[ref] = "voided"

        await asyncio.gather(*(void(f"proxy-o-{j}") for j in range(CHARGES, CHARGES + VOIDS)))

    for ref, outcome in refunds_told.items():
        made = await _in_ledger(direct, ref, "Refund", outcome, said_done="refunded")
        if made:
            assert made[0].amount_value == Decimal("10.00")  # refunds may come negative

    await asyncio.sleep(PENDING_SECONDS * 2)  # voids=pending: let every accepted void settle
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
