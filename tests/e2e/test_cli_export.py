"""`wonder tokens export`, `payment_tokens.check_many` and `payments.create_many` against the
emulator, as a user runs them: every token once (after a SIGKILL and --resume, and while
customers are being added), every charge once."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import wonder_async
from tests.e2e.test_async_flows import THREE_DS, card
from tests.e2e.test_cli import WONDER, _env, _run
from wonder_async import NotFoundError, ValidationError
from wonder_sync import WonderClient

PENDING = "4000000000003220"  # binds pending 3-D Secure in the emulator


def _client(emu: Any) -> WonderClient:
    return WonderClient(app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url)


def _seed(wonder: WonderClient, start: int, count: int, tokens: int = 2) -> None:
    rows = [
        {"reference_number": f"x-{i}", "name": f"N{i}", "phone": "12345678"}
        for i in range(start, start + count)
    ]
    for result in wonder.customers.upsert_many(rows, concurrency=16):
        assert result.customer is not None
        assert result.customer.uuid
        for k in range(tokens):
            number = PENDING if k % 2 else "4242424242424242"
            wonder.payment_tokens.create(result.customer.uuid, card=card(number), three_ds=THREE_DS)


def _truth(wonder: WonderClient) -> dict[str, tuple[str, str]]:
    """token -> (customer uuid, state) as the emulator has them."""
    truth = {}
    for customer in wonder.customers.list(page_size=1000):
        for token in wonder.payment_tokens.list(customer.uuid or ""):
            truth[token.token or ""] = (customer.uuid or "", token.state or "")
    return truth


def _exported(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_writes_every_token_once_with_its_fields(
    wonder_emulator_thread: Any, tmp_path: Path
) -> None:
    """Each token is one line with customer, state and a masked card; --json is one summary."""
    emu = wonder_emulator_thread
    with _client(emu) as wonder:
        _seed(wonder, 0, 30)
        truth = _truth(wonder)
    out = tmp_path / "tokens.jsonl"
    result = _run(
        ["tokens", "export", "--out", str(out), "--page-size", "7", "--json"],
        env=_env(emu, tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tokens"] == 60
    lines = _exported(out)
    assert len(lines) == 60
    assert {x["token"]: (x["customer_uuid"], x["state"]) for x in lines} == truth
    assert {x["state"] for x in lines} == {"success", "pending"}
    assert all(x["card"].startswith("4") and "*" in x["card"] for x in lines)
    assert all(x["customer_reference"].startswith("x-") for x in lines)
    assert "4242424242424242" not in out.read_text()
    again = _run(["tokens", "export", "--out", str(out)], env=_env(emu, tmp_path))
    assert again.returncode == 2
    assert "--resume" in again.stderr


def test_export_killed_then_resumed_writes_every_token_exactly_once(
    wonder_emulator_thread: Any, tmp_path: Path
) -> None:
    """SIGKILL mid-export, then --resume (twice): the file holds each token exactly once."""
    emu = wonder_emulator_thread
    with _client(emu) as wonder:
        _seed(wonder, 0, 300, tokens=1)
        truth = _truth(wonder)
    emu.faults.add("payment_tokens.list", "latency", 1.0, 0.01)  # time to kill it midway
    out = tmp_path / "tokens.jsonl"
    env = _env(emu, tmp_path)
    args = ["tokens", "export", "--out", str(out), "--page-size", "40", "--concurrency", "4"]
    proc = subprocess.Popen([*WONDER, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 8_000):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    partial = len(out.read_text().splitlines())
    assert 0 < partial < 300
    emu.faults.clear()
    result = _run([*args, "--resume"], env=env)
    assert result.returncode == 0, result.stderr
    tokens = [x["token"] for x in _exported(out)]
    assert len(tokens) == len(set(tokens)) == 300
    assert set(tokens) == set(truth)
    done = _run([*args, "--resume"], env=env)
    assert done.returncode == 0
    assert "already complete" in done.stderr
    assert len(_exported(out)) == 300


def test_customers_created_during_the_export_never_give_a_token_twice(
    wonder_emulator_thread: Any, tmp_path: Path
) -> None:
    """Customers added while the export pages never make a token appear twice."""
    emu = wonder_emulator_thread
    with _client(emu) as wonder:
        _seed(wonder, 0, 150, tokens=1)
        before = _truth(wonder)
    emu.faults.add("payment_tokens.list", "latency", 1.0, 0.005)
    out = tmp_path / "tokens.jsonl"
    args = ["tokens", "export", "--out", str(out), "--page-size", "20", "--concurrency", "4"]
    proc = subprocess.Popen([*WONDER, *args], env=_env(emu, tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    def add_more() -> None:
        with _client(emu) as wonder:
            _seed(wonder, 1000, 60, tokens=1)

    adder = threading.Thread(target=add_more)
    adder.start()
    adder.join(timeout=60)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    tokens = [x["token"] for x in _exported(out)]
    assert len(tokens) == len(set(tokens))
    assert set(before) <= set(tokens)
    with _client(emu) as wonder:
        assert set(tokens) <= set(_truth(wonder))


@pytest.fixture
async def wonder(wonder_emulator: Any) -> AsyncIterator[wonder_async.WonderClient]:
    async with wonder_async.WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url,
    ) as client:
        yield client


@pytest.mark.anyio
async def test_a_stalled_customer_holds_the_export_back_at_most_two_pages(
    wonder: wonder_async.WonderClient, wonder_emulator: Any
) -> None:
    """One customer's token list hangs for seconds: the export does not run on through every
    other customer meanwhile (which would keep each of them in memory until the checkpoint
    can pass the stalled one); its checkpoint lags at most two pages plus the calls in flight,
    and every customer still comes out exactly once."""
    rows = ({"reference_number": f"st-{i}", "name": "N", "phone": "1"} for i in range(240))
    uuids = [r.customer.uuid async for r in wonder.customers.upsert_many(rows) if r.customer]
    wonder_emulator.faults.script("payment_tokens.list", ["latency@3s"])  # the first one hangs
    results = [r async for r in wonder.payment_tokens.export(page_size=20, concurrency=4)]
    assert sorted(r.customer.uuid or "" for r in results) == sorted(u or "" for u in uuids)
    assert all(r.ok and r.tokens == [] for r in results)
    lag = max(r.offset - r.resume_offset for r in results)
    assert lag < 2 * 20 + 4, f"checkpoint lagged {lag} customers behind the export"
    assert results[-1].resume_offset == 240


@pytest.mark.anyio
async def test_check_many_refreshes_pending_tokens(wonder: wonder_async.WonderClient) -> None:
    """check_many reads every token's state; a deleted one is a NotFoundError result."""
    pairs: list[tuple[str, Any]] = []
    for i in range(12):
        c = await wonder.customers.upsert(reference_number=f"cm-{i}", name="N", phone="1")
        token = await wonder.payment_tokens.create(
            c.uuid or "", card=card(PENDING), three_ds=THREE_DS
        )
        pairs.append((c.uuid or "", token if i % 2 else token.token))
    gone_customer, gone = pairs[3]
    await wonder.payment_tokens.delete(gone_customer, gone.token)

    async def lazily() -> AsyncIterator[tuple[str, Any]]:
        for pair in pairs:
            yield pair

    results = [r async for r in wonder.payment_tokens.check_many(lazily(), concurrency=4)]
    assert sorted(r.index for r in results) == list(range(12))
    by_index = {r.index: r for r in results}
    assert isinstance(by_index[3].error, NotFoundError)
    assert all(
        r.ok and r.payment_token is not None and r.payment_token.state == "pending"
        for r in results
        if r.index != 3
    )


def test_check_many_blocking(wonder_emulator_thread: Any) -> None:
    """The blocking twin takes a plain iterable and yields the same results."""
    with _client(wonder_emulator_thread) as wonder:
        c = wonder.customers.upsert(reference_number="cmb", name="N", phone="1")
        tokens = [
            wonder.payment_tokens.create(c.uuid or "", card=card(), three_ds=THREE_DS)
            for _ in range(3)
        ]

        def pairs() -> Iterator[tuple[str, str]]:
            for t in tokens:
                yield c.uuid or "", t.token or ""

        states = [
            r.payment_token.state
            for r in wonder.payment_tokens.check_many(pairs())
            if r.payment_token
        ]
        assert states == ["success"] * 3
        exported = list(wonder.payment_tokens.export(page_size=1))
        assert [len(x.tokens) for x in exported] == [3]
        assert exported[0].resume_offset == 1


@pytest.mark.anyio
async def test_create_many_charges_once_and_reports_declines(
    wonder: wonder_async.WonderClient,
) -> None:
    """create_many: good rows paid, a declined card and a bad row are results; run again, every
    charge is found (recovered), none is made twice."""
    c = await wonder.customers.upsert(reference_number="cm", name="N", phone="1")
    good = await wonder.payment_tokens.create(c.uuid or "", card=card(), three_ds=THREE_DS)
    poor = await wonder.payment_tokens.create(
        c.uuid or "", card=card("4000000000009995"), three_ds=THREE_DS
    )
    rows = [
        {"reference_number": f"o-{i}", "customer_uuid": c.uuid, "currency": "HKD",
         "token": good.token, "amount": f"{i + 1}.00"}
        for i in range(10)
    ] + [
        {"reference_number": "o-poor", "customer_uuid": c.uuid, "currency": "HKD",
         "token": poor.token, "amount": "3.00"},
        {"reference_number": "o-bad", "token": good.token, "amount": "1.234"},
    ]  # fmt: skip
    first = {r.index: r async for r in wonder.payments.create_many(rows, concurrency=4)}
    assert all(first[i].ok and not first[i].payment.recovered for i in range(10))  # type: ignore[union-attr]
    assert isinstance(first[10].error, wonder_async.CardDeclinedError)
    assert first[10].error.code
    assert isinstance(first[11].error, ValidationError)
    again = {r.index: r async for r in wonder.payments.create_many(iter(rows), concurrency=4)}
    assert all(again[i].payment.recovered for i in range(10))  # type: ignore[union-attr]
    assert [again[i].payment_uuid for i in range(10)] == [first[i].payment_uuid for i in range(10)]
    for i in range(10):
        order = await wonder.orders.get(reference_number=f"o-{i}")
        assert [t.success for t in order.transactions] == [True]
        assert order.correspondence_state == "paid"
