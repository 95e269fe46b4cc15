"""Fault specs, the threaded emulator, key caching and what the database holds."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.emulator.conftest import API, RawClient, card_body, customer_body
from tests.independent_signing import sign_headers
from wonder_async.testing import Emulator, Fault, FaultPlan, generate_key_pair, parse_faults


def test_parse_the_documented_example() -> None:
    """The module docstring's example parses into per-route rate rules with parameters."""
    plan = parse_faults(
        "*:reset=0.05,503=0.05,429=0.02,latency=0.1@50ms;payment_tokens.create:500=0.1"
    )
    assert plan.rules["*"] == [
        Fault("reset", 0.05),
        Fault("503", 0.05),
        Fault("429", 0.02),
        Fault("latency", 0.1, 0.05),
    ]
    assert plan.rules["payment_tokens.create"] == [Fault("500", 0.1)]
    scripted = parse_faults("echo:script=503|429@2s|reset_before|ok; echo:reset_after=1")
    assert [f.kind for f in scripted.scripts["echo"]] == ["503", "429", "reset", "ok"]
    assert scripted.scripts["echo"][1].param == 2.0
    assert scripted.rules["echo"] == [Fault("reset_after", 1.0)]


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("echo", "ROUTE:KIND"),
        ("customer.upsert:503=0.1", "unknown route"),
        ("echo:504=0.1", "unknown fault kind"),
        ("echo:503=1.5", "0..1"),
        ("echo:503=often", "503=often"),
        ("echo:latency=1@-5ms", "duration"),
        ("echo:ok=0.5", "scripts only"),
        ("echo:503", "KIND=RATE"),
        ("echo:script=503|teapot", "teapot"),
    ],
)
def test_bad_fault_specs_are_rejected_with_the_culprit(spec: str, fragment: str) -> None:
    """Every malformed spec raises ValueError naming what is wrong."""
    with pytest.raises(ValueError, match=fragment):
        parse_faults(spec)


def test_seeded_plans_draw_the_same_faults() -> None:
    """Two plans with the same seed inject the same faults in the same order."""
    draws = []
    for _ in range(2):
        plan = parse_faults("*:503=0.3,reset=0.2;echo:latency=0.5@10ms")
        plan.seed(42)
        draws.append([plan.draw("echo") for _ in range(200)])
    assert draws[0] == draws[1]
    kinds = {fault.kind for _, fault in draws[0] if fault is not None}
    assert kinds == {"503", "reset"}


@pytest.mark.anyio
async def test_latency_fault_delays_the_answer(raw: RawClient, wonder_emulator: Emulator) -> None:
    """A scripted 500 ms latency delays that request only, and it still succeeds."""
    wonder_emulator.faults.script("echo", ["latency@500ms"])
    started = time.monotonic()
    await raw.ok("POST", f"{API}/echo", {"message": "slow"})
    assert time.monotonic() - started >= 0.49
    started = time.monotonic()
    await raw.ok("POST", f"{API}/echo", {"message": "fast"})
    assert time.monotonic() - started < 0.49  # wide margin: a loaded CI machine stays fast enough
    assert wonder_emulator.stats["faults"] == {"latency": 1}


@pytest.mark.anyio
async def test_server_error_faults_answer_before_processing(
    raw: RawClient, wonder_emulator: Emulator
) -> None:
    """500, 502 and 503 come back as error envelopes and the upsert did not happen."""
    parse_faults("customers.upsert:script=500|502|503", wonder_emulator.faults)
    for expected in (500, 502, 503):
        status, doc = await raw.call("POST", f"{API}/customers", customer_body("s-1"))
        assert status == expected
        assert doc["code"] == expected
    assert wonder_emulator.state.by_ref == {}
    assert wonder_emulator.stats["faults"] == {"500": 1, "502": 1, "503": 1}
    assert wonder_emulator.stats["requests"] == {"customers.upsert": 3}


@pytest.mark.anyio
async def test_after_faults_also_spoil_error_answers(
    raw: RawClient, wonder_emulator: Emulator
) -> None:
    """A truncated fault cuts a 404 answer too, so counted faults are always delivered."""
    wonder_emulator.faults.script("customers.get_by_reference", ["truncated"])
    status, text = await raw.call("GET", f"{API}/customers/ref/none")
    assert status == 404
    assert isinstance(text, str)
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.anyio
async def test_star_rules_apply_to_every_route(wonder_emulator: Emulator) -> None:
    """A `*` rule at rate 1 hits every route, and the counters say so per route and kind."""
    parse_faults("*:503=1", wonder_emulator.faults)
    async with aiohttp.ClientSession() as session:
        raw = RawClient(session, wonder_emulator)
        assert (await raw.call("POST", f"{API}/echo", {"message": "x"}))[0] == 503
        assert (await raw.call("GET", f"{API}/customers"))[0] == 503
        assert (await raw.call("POST", f"{API}/orders/check", {"order": {}}))[0] == 503
    assert wonder_emulator.stats["requests"] == {"echo": 1, "customers.list": 1, "orders.get": 1}
    assert wonder_emulator.stats["faults"] == {"503": 3}
    wonder_emulator.reset()
    assert (wonder_emulator.stats["requests"], wonder_emulator.stats["faults"]) == ({}, {})
    assert wonder_emulator.faults.rules == {}


def _signed_echo(emu: Emulator, message: str) -> dict[str, Any]:
    body = json.dumps({"message": message}).encode()
    headers = sign_headers(emu.app_id, emu.private_key_pem or "", "POST", f"{API}/echo", body)
    request = urllib.request.Request(  # noqa: S310 - loopback http by design
        emu.base_url + f"{API}/echo", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        doc: dict[str, Any] = json.loads(resp.read())
    return doc


def test_in_thread_serves_blocking_clients_and_leaves_nothing_behind() -> None:
    """Emulator.in_thread serves blocking code and joins its thread and closes its port."""
    before = set(threading.enumerate())
    with Emulator.in_thread() as emu:
        assert _signed_echo(emu, "hi")["data"] == {"message": "hi"}
        port = emu.port
    assert set(threading.enumerate()) == before
    with socket.socket() as sock:
        # SO_REUSEADDR tolerates TIME_WAIT leftovers but not a listener still holding the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()


def test_in_thread_raises_when_the_port_is_taken() -> None:
    """A port in use raises OSError from in_thread, with no thread left running."""
    before = set(threading.enumerate())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="address already in use"), Emulator.in_thread(port=port):
            pass  # pragma: no cover
    assert set(threading.enumerate()) == before


def test_wonder_emulator_thread_fixture_is_reset_per_test(wonder_emulator_thread: Emulator) -> None:
    """The session-wide threaded emulator starts every test empty and signature-checking."""
    assert wonder_emulator_thread.state.customers == {}
    assert (wonder_emulator_thread.stats["requests"], wonder_emulator_thread.stats["faults"]) == (
        {},
        {},
    )
    body = json.dumps({"message": "x"}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback http by design
        wonder_emulator_thread.base_url + f"{API}/echo", data=body, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310
    assert caught.value.code == 401
    caught.value.close()


def test_default_key_pair_is_made_once_per_process() -> None:
    """Emulators share one cached default key pair, so starting one costs no key generation."""
    assert generate_key_pair() is generate_key_pair()
    first, second = Emulator(), Emulator()
    try:
        assert first.private_key_pem == second.private_key_pem
        assert first.app_id != second.app_id
    finally:
        first.state.close()
        second.state.close()


@pytest.mark.anyio
async def test_register_app_accepts_another_key(wonder_emulator: Emulator) -> None:
    """register_app adds an app whose own key signs requests; the other key still fails."""
    from tests.conftest import make_key_pair

    pair = make_key_pair()
    wonder_emulator.register_app("second-app", pair.public_pem)
    async with aiohttp.ClientSession() as session:
        raw = RawClient(session, wonder_emulator, app_id="second-app", key=pair.private_pem)
        assert (await raw.ok("POST", f"{API}/echo", {"message": "x"})) == {"message": "x"}
        raw.key = wonder_emulator.private_key_pem or ""
        assert (await raw.call("POST", f"{API}/echo", {"message": "x"}))[0] == 401


@pytest.mark.anyio
async def test_database_keeps_no_card_number_or_cvv(tmp_path: Path) -> None:
    """With --db, token rows hold the masked number only: no full number, no CVV."""
    db = tmp_path / "emu.db"
    async with Emulator(db=db) as emu, aiohttp.ClientSession() as session:
        raw = RawClient(session, emu)
        uuid = (await raw.ok("POST", f"{API}/customers", customer_body("d-1")))["customer"]["uuid"]
        for number in ("4242424242424242", "4000000000003220"):
            await raw.ok("POST", f"{API}/customers/{uuid}/payment_tokens", card_body(number))
    raw_bytes = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # noqa: ASYNC240 - tiny
    for number in (b"4242424242424242", b"4000000000003220"):
        assert number not in raw_bytes
    assert b"7319" not in raw_bytes
    assert b"cvv" not in raw_bytes
    with sqlite3.connect(db) as conn:
        rows = [json.loads(v) for (v,) in conn.execute("SELECT v FROM tokens")]
    conn.close()
    assert [r["credit_card"]["number"] for r in rows] == ["424242******4242", "400000******3220"]


@pytest.mark.anyio
async def test_database_restart_keeps_order_and_app(tmp_path: Path) -> None:
    """Reopening a database keeps customers in creation order, tokens, orders and the app id."""
    db = tmp_path / "emu.db"
    async with Emulator(db=db) as emu, aiohttp.ClientSession() as session:
        raw = RawClient(session, emu)
        for ref in ("r-0", "r-1", "r-2"):
            await raw.ok("POST", f"{API}/customers", customer_body(ref))
        await raw.ok("POST", f"{API}/customers", customer_body("r-0", name="Updated"))
        uuid = (await raw.ok("GET", f"{API}/customers/ref/r-1"))["customer"]["uuid"]
        await raw.ok(
            "POST", f"{API}/customers/{uuid}/payment_tokens", card_body("4000000000003220")
        )
        order = {"reference_number": "o-1", "charge_fee": "1.00", "currency": "HKD"}
        await raw.ok("POST", f"{API}/orders", {"order": order})
        app_id, key = emu.app_id, emu.private_key_pem
    async with Emulator(db=db, private_key=key) as emu, aiohttp.ClientSession() as session:
        assert emu.app_id == app_id  # same key, same database: same app
        raw = RawClient(session, emu)
        listed = (await raw.ok("GET", f"{API}/customers"))["customers"]
        assert [(c["reference_number"], c["name"]) for c in listed] == [
            ("r-0", "Updated"),
            ("r-1", "Tai Man"),
            ("r-2", "Tai Man"),
        ]
        tokens = (await raw.ok("GET", f"{API}/customers/{uuid}/payment_tokens"))["payment_tokens"]
        assert [t["state"] for t in tokens] == ["pending"]
        async with session.post(
            tokens[0]["verify_url"], data={"result": "success"}, allow_redirects=False
        ) as resp:
            assert resp.status == 303  # the 3DS challenge survived the restart too
        check = {"order": {"reference_number": "o-1"}}
        assert (await raw.ok("POST", f"{API}/orders/check", check))["order"]["charge_fee"] == 1.0


def test_fault_plan_is_an_attrs_class() -> None:
    """FaultPlan can be built directly and handed to Emulator(faults=...)."""
    plan = FaultPlan()
    plan.add("echo", "503", 0.5)
    emu = Emulator(faults=plan)
    try:
        assert emu.faults is plan
    finally:
        emu.state.close()
