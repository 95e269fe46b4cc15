"""Exactly once under every reading, against an independent stub gateway (issue 22).

:mod:`tests.stub_gateway` is written from Wonder's own code, not from our emulator. Each case
runs one reading switched alone (and all non-default values together) with answers lost after
the gateway acted -- the connection reset before the answer, or a proxy's 502 -- and judges the
SDK by the stub's ledger of what really happened:

- never two sales for one payment uuid (``payments.create``, ``create_with_order``);
- never two refunds for one ``orders.refund`` call, and a refund that happened is reported;
- a pending charge that settles later is never reported as declined (``payments.wait``);
- a void that happened is reported done;
- what the SDK cannot decide is :class:`OutcomeUnknownError`, never a wrong answer.
"""

from __future__ import annotations

import asyncio
import functools
import uuid as uuidlib
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import wonder_async
import wonder_sync
from tests.conftest import KeyPair
from tests.stub_gateway import DECLINED_TOKEN, DEFAULTS, READINGS, StubGateway
from wonder_async import BadRequestError, CardDeclinedError, OutcomeUnknownError

pytestmark = pytest.mark.anyio

#: Each reading switched alone, and every non-default value together.
MATRIX: list[dict[str, str]] = [
    {},
    *({name: values[1]} for name, values in READINGS.items()),
    {name: values[1] for name, values in READINGS.items()},
]


def _case_id(readings: dict[str, str]) -> str:
    if not readings:
        return "defaults"
    if len(readings) == len(READINGS):
        return "all-non-default"
    return ",".join(f"{k}={v}" for k, v in readings.items())


Call = Callable[..., Awaitable[Any]]


class Driver:
    """Calls one client's methods by dotted name, awaiting the async client's directly and
    running the blocking client's on a worker thread."""

    def __init__(self, client: Any, blocking: bool) -> None:
        self.client = client
        self.blocking = blocking
        self.pending_seen = 0

    async def __call__(self, name: str, **kwargs: Any) -> Any:
        resource, method = name.split(".")
        fn = getattr(getattr(self.client, resource), method)
        if self.blocking:
            return await asyncio.to_thread(functools.partial(fn, **kwargs))
        return await fn(**kwargs)


async def _outcome(call: Awaitable[Any]) -> Any:
    """The result, or the WonderError raised (any other exception fails the test)."""
    try:
        return await call
    except wonder_async.WonderError as exc:
        return exc


def _sales(gateway: StubGateway, payment_uuid: str) -> int:
    return len(gateway.events("sale", payment_uuid=payment_uuid))


async def _charge_once(
    gateway: StubGateway, w: Driver, name: str, faults: tuple[str, ...], **kwargs: Any
) -> Any:
    """A charge with its answers lost after acting: one sale at most, and the caller is told
    the truth (the payment, or OutcomeUnknownError), never a decline for a pending charge."""
    payment_uuid = kwargs["payment_uuid"]
    gateway.lose("open_payments", *faults)
    result = await _outcome(w(name, **kwargs))
    gateway.clear_faults()
    sales = _sales(gateway, payment_uuid)
    assert sales <= 1, f"{name}: {sales} sales for payment_uuid {payment_uuid}"
    assert not isinstance(result, CardDeclinedError), f"{name}: reported declined: {result!r}"
    if isinstance(result, OutcomeUnknownError):
        return result
    assert not isinstance(result, Exception), f"{name}: {result!r} though the charge happened"
    assert sales == 1
    assert result.payment_uuid == payment_uuid
    assert result.transaction.uuid == payment_uuid
    if gateway.readings["charges"] == "pending" and not result.succeeded:
        assert result.pending
        w.pending_seen += 1
        settled = await w("payments.wait", payment=result, timeout=10.0, interval=0.05)
        assert settled.succeeded, settled
        result = settled
    assert result.succeeded
    return result


async def _refund_once(
    gateway: StubGateway,
    w: Driver,
    sale: str,
    reference: str,
    amount: str,
    faults: tuple[str, ...],
    check_faults: tuple[str, ...] = (),
) -> Any:
    """A refund with its answers lost after acting: exactly the refunds reported happened."""
    before = len(gateway.events("refund", sale=sale))
    gateway.lose("refund", *faults)
    if check_faults:
        gateway.lose("check", *check_faults)
    result = await _outcome(
        w("orders.refund", transaction_uuid=sale, amount=amount, reference_number=reference)
    )
    gateway.clear_faults()
    made = len(gateway.events("refund", sale=sale)) - before
    assert made <= 1, f"one orders.refund call made {made} refunds"
    if isinstance(result, OutcomeUnknownError):
        return result
    if made == 1:
        assert not isinstance(result, Exception), f"{result!r} though the refund happened"
        assert result.transaction is not None, "the refund made is not in the result"
        new = gateway.events("refund", sale=sale)[-1]
        assert result.transaction.uuid == new.transaction
        assert abs(Decimal(str(result.transaction.amount))) == Decimal(amount)
    else:
        assert isinstance(result, BadRequestError), f"{result!r} though nothing was refunded"
    return result


async def _void_once(
    gateway: StubGateway, w: Driver, reference: str, sale: str, faults: tuple[str, ...]
) -> None:
    before = len(gateway.events("void", transaction=sale))
    gateway.lose("void", *faults)
    voided = await _outcome(w("orders.void", reference_number=reference, transaction_uuid=sale))
    gateway.clear_faults()
    assert len(gateway.events("void", transaction=sale)) - before == 1
    assert not isinstance(voided, Exception), f"{voided!r} though the void happened"
    shown = voided.transaction(sale)
    assert shown is not None
    assert shown.voided or shown.void_is_pending, shown


async def scenario(gateway: StubGateway, w: Driver) -> None:
    run = uuidlib.uuid4().hex[:8]
    settles = gateway.readings["charges"] == "pending"

    # A charge of an order created before: the answer lost once (reset), then by a 502.
    ref_a = f"A-{run}"
    await w("orders.create", reference_number=ref_a, charge_fee="10.00", currency="HKD")
    uuid_a = f"pay-a-{run}"
    paid_a = await _charge_once(
        gateway, w, "payments.create", ("reset", "502"),
        token="tok_ok", amount="10.00", reference_number=ref_a, payment_uuid=uuid_a,
    )  # fmt: skip
    assert not isinstance(paid_a, Exception)

    # Direct Payment (order and charge in one call); a second call with the same payment_uuid
    # (a worker run again) returns the first charge.
    ref_b = f"B-{run}"
    uuid_b = f"pay-b-{run}"
    kwargs_b = {
        "token": "tok_ok", "amount": "20.00", "currency": "HKD",
        "reference_number": ref_b, "payment_uuid": uuid_b,
    }  # fmt: skip
    paid_b = await _charge_once(
        gateway, w, "payments.create_with_order", ("502", "reset"), **kwargs_b
    )
    assert not isinstance(paid_b, Exception)
    again = await _charge_once(gateway, w, "payments.create_with_order", (), **kwargs_b)
    assert again.recovered
    assert again.transaction.uuid == uuid_b

    # A first Direct Payment whose order does not exist yet: the look-up before sending must
    # read "not found" in this reading's error shape and let the charge go out.
    ref_c = f"C-{run}"
    uuid_c = f"pay-c-{run}"
    paid_c = await _charge_once(
        gateway, w, "payments.create_with_order", ("reset",),
        token="tok_ok", amount="30.00", currency="HKD", reference_number=ref_c,
        payment_uuid=uuid_c,
    )  # fmt: skip
    assert not isinstance(paid_c, Exception), f"never charged: {paid_c!r}"

    # A decline is still a decline (final, with Wonder's reason), never charged twice.
    uuid_d = f"pay-d-{run}"
    declined = await _outcome(
        w(
            "payments.create_with_order", token=DECLINED_TOKEN, amount="5.00", currency="HKD",
            reference_number=f"D-{run}", payment_uuid=uuid_d,
        )
    )  # fmt: skip
    assert isinstance(declined, CardDeclinedError), declined
    assert declined.code == "05"

    # Refunds: answers lost twice; then the same amount again at once (a second refund the
    # caller asks for): refused as a repeat (and said so) or made, never mistaken.
    refund = await _refund_once(gateway, w, uuid_a, ref_a, "3.00", ("reset", "502"))
    assert not isinstance(refund, Exception), refund
    second = await _refund_once(gateway, w, uuid_a, ref_a, "3.00", ())
    if gateway.readings["duplicate_refund"] == "refuse":
        assert isinstance(second, BadRequestError), second
        assert second.code == "100701"
        assert second.retry_after is not None
        assert second.retry_after > 0
    else:
        assert not isinstance(second, Exception), second
    other = await _refund_once(gateway, w, uuid_a, ref_a, "2.50", ("502",))
    assert not isinstance(other, Exception), other

    # The refund's answer lost and its look-up failing too: OutcomeUnknownError, one refund.
    unknown_refund = await _refund_once(
        gateway, w, uuid_a, ref_a, "1.00", ("reset",), ("ok", *(["502", "reset"] * 5))
    )
    assert isinstance(unknown_refund, OutcomeUnknownError), unknown_refund
    assert len(gateway.events("refund", sale=uuid_a, amount=Decimal("1.00"))) == 1

    # A charge without a payment_uuid of the caller's: the SDK's own one, fixed for its
    # retries, still charges once.
    ref_f = f"F-{run}"
    await w("orders.create", reference_number=ref_f, charge_fee="4.00", currency="HKD")
    gateway.lose("open_payments", "502", "reset")
    paid_f = await w("payments.create", token="tok_ok", amount="4.00", reference_number=ref_f)
    gateway.clear_faults()
    sales_f = [e for e in gateway.events("sale") if e.order == paid_f.order.number]
    assert len(sales_f) == 1, sales_f
    assert paid_f.payment_uuid == sales_f[0].payment_uuid
    assert sales_f[0].lost == "502"

    # Voids whose answers are lost (a 502, a reset): each happened once, and is reported done.
    for ref, sale, faults in ((ref_c, uuid_c, ("502", "reset")), (ref_b, uuid_b, ("reset",))):
        await _void_once(gateway, w, ref, sale, faults)

    # When the look-up before sending fails, nothing is sent: OutcomeUnknownError.
    ref_e = f"E-{run}"
    await w("orders.create", reference_number=ref_e, charge_fee="7.00", currency="HKD")
    uuid_e = f"pay-e-{run}"
    gateway.lose("check", *(["502", "reset"] * 5))
    unknown = await _charge_once(
        gateway, w, "payments.create", (),
        token="tok_ok", amount="7.00", reference_number=ref_e, payment_uuid=uuid_e,
    )  # fmt: skip
    assert isinstance(unknown, OutcomeUnknownError), unknown
    assert _sales(gateway, uuid_e) == 0

    # When the look-up after a lost answer fails too, nobody can tell: OutcomeUnknownError,
    # then the same payment_uuid again finds the charge instead of making a second one.
    gateway.lose("check", "ok", *(["502", "reset"] * 5))
    unknown = await _charge_once(
        gateway, w, "payments.create", ("reset",),
        token="tok_ok", amount="7.00", reference_number=ref_e, payment_uuid=uuid_e,
    )  # fmt: skip
    assert isinstance(unknown, OutcomeUnknownError), unknown
    assert _sales(gateway, uuid_e) == 1
    found = await _charge_once(
        gateway, w, "payments.create", (),
        token="tok_ok", amount="7.00", reference_number=ref_e, payment_uuid=uuid_e,
    )  # fmt: skip
    assert found.recovered

    # Over the whole run: one sale per payment uuid, and a settled charge never declined.
    sent = [uuid_a, uuid_b, uuid_c, uuid_e]
    assert {u: _sales(gateway, u) for u in sent} == dict.fromkeys(sent, 1)
    assert not gateway.events("sale", payment_uuid=uuid_d)
    if settles:
        assert w.pending_seen >= 3, "no charge was reported pending first"


def _client_args(gateway: StubGateway, key: KeyPair) -> dict[str, Any]:
    return {
        "app_id": "app-stub",
        "private_key": key.private_pem,
        "base_url": gateway.url,
        "timeout": 15.0,
        "attempt_timeout": 5.0,
        "max_retries": 2,
    }


@pytest.fixture
def stub(request: pytest.FixtureRequest) -> Iterator[StubGateway]:
    with StubGateway(**request.param) as gateway:
        yield gateway


#: Pending charges that settle by time, not by the number of look-ups.
BY_TIME: dict[str, Any] = {"charges": "pending", "pending_checks": 10**6, "pending_seconds": 0.3}
CASES = [*MATRIX, BY_TIME]
IDS = [*(_case_id(r) for r in MATRIX), "charges=pending-by-time"]


@pytest.mark.parametrize("stub", CASES, ids=IDS, indirect=True)
async def test_exactly_once_async(stub: StubGateway, key_pair: KeyPair) -> None:
    async with wonder_async.WonderClient(**_client_args(stub, key_pair)) as w:
        await scenario(stub, Driver(w, blocking=False))
    assert any(e.lost for e in stub.ledger), "no answer was lost: the test tested nothing"


@pytest.mark.parametrize("stub", [MATRIX[-1]], ids=["all-non-default"], indirect=True)
async def test_exactly_once_blocking(stub: StubGateway, key_pair: KeyPair) -> None:
    with wonder_sync.WonderClient(**_client_args(stub, key_pair)) as w:
        await scenario(stub, Driver(w, blocking=True))
    assert any(e.lost for e in stub.ledger)


def test_matrix_covers_every_reading() -> None:
    """Each non-default value is switched alone once, and all together once."""
    alone = [r for r in MATRIX if len(r) == 1]
    assert sorted(alone, key=str) == sorted(({k: v[1]} for k, v in READINGS.items()), key=str)
    assert MATRIX[0] == {}
    assert set(MATRIX[-1]) == set(DEFAULTS)
