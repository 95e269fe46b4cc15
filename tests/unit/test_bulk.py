"""The bulk engine's pieces a user relies on: fixed charge ids, row checks, shard parsing,
bounded concurrency and completion order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from wonder_async import ValidationError, charge_uuid
from wonder_async._bulk import CHARGE_NAMESPACE, bulk_map
from wonder_async.cli._files import parse_shard
from wonder_async.resources.payments import charge_arguments


def test_charge_uuid_is_the_documented_uuid5() -> None:
    """The derivation the docs state, byte for byte, and stable across amount spellings."""
    expected = str(uuid.uuid5(CHARGE_NAMESPACE, "inv-1|21.00|tok"))
    assert charge_uuid("inv-1", "21.00", "tok") == expected
    assert str(CHARGE_NAMESPACE) == "50f480fb-90db-560d-ba01-56bdd19a726f"
    rows = [{"reference_number": "inv-1", "token": "tok", "amount": a} for a in ("21", "21.0")]
    assert {charge_arguments(r)["payment_uuid"] for r in rows} == {expected}
    by_number = charge_arguments({"number": "0001", "token": "tok", "amount": "5"})
    assert by_number["payment_uuid"] == charge_uuid("#0001", "5.00", "tok")
    own = charge_arguments(
        {"reference_number": "r", "token": "t", "amount": "1", "payment_uuid": "p"}
    )
    assert own["payment_uuid"] == "p"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"reference_number": "r", "token": "t", "amount": "1", "colour": "red"}, "colour"),
        ({"reference_number": "r", "amount": "1"}, "payment.payment_token.token"),
        (
            {"reference_number": "r", "token": "t", "amount": "1.234"},
            "payment.payment_token.amount",
        ),
        ({"reference_number": "r", "token": "t", "amount": "-1"}, "payment.payment_token.amount"),
        ({"token": "t", "amount": "1"}, "number"),
        ({"currency": "HKD", "token": "t", "amount": "1"}, "order.reference_number"),
    ],
)
def test_bad_charge_rows_name_the_field(row: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        charge_arguments(row)
    assert info.value.field == field


def test_shard_auto_reads_the_indexed_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "2")
    assert parse_shard("auto", 4) == (2, 4)
    monkeypatch.setenv("WONDER_SHARD_COUNT", "3")
    assert parse_shard("auto") == (2, 3)
    with pytest.raises(ValueError, match="0 <= i < n"):
        parse_shard("auto", 2)
    monkeypatch.delenv("JOB_COMPLETION_INDEX")
    with pytest.raises(ValueError, match="JOB_COMPLETION_INDEX"):
        parse_shard("auto", 4)
    with pytest.raises(ValueError, match="i/n"):
        parse_shard("x")
    assert parse_shard(None) == (0, 1)


@pytest.mark.anyio
async def test_bulk_map_bounds_concurrency_reads_lazily_and_yields_as_done() -> None:
    running = peak = pulled = 0

    async def items() -> AsyncIterator[int]:
        nonlocal pulled
        for i in range(20):
            pulled += 1
            yield i

    async def work(index: int, item: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0 if item % 2 else 0.01)
        running -= 1
        return index

    seen = []
    async for index in bulk_map(items(), work, concurrency=4):
        seen.append(index)
        assert pulled <= len(seen) + 4  # never reads far ahead of what is done
    assert sorted(seen) == list(range(20))
    assert seen != list(range(20))  # fast items overtake slow ones
    assert peak == 4
    with pytest.raises(ValidationError, match="concurrency"):
        async for _ in bulk_map([1], work, concurrency=0):
            pass
