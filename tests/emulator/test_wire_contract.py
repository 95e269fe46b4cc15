"""The emulator driven by a client written only from wonder-api.md (raw aiohttp + own signer)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import make_key_pair
from tests.emulator.conftest import API, RawClient, customer_body
from tests.independent_signing import sign_headers
from wonder_async.testing import Emulator, parse_faults

_customer = customer_body


@pytest.mark.anyio
async def test_signed_requests_succeed_with_the_real_envelope(raw: RawClient) -> None:
    """A docs-only client gets code 200 envelopes; upsert by reference keeps the uuid."""
    status, doc = await raw.call("POST", f"{API}/echo", {"message": "Hello,Wonder!"})
    assert (status, doc["code"], doc["data"]["message"]) == (200, 200, "Hello,Wonder!")
    _, first = await raw.call("POST", f"{API}/customers", _customer("r-1"))
    _, second = await raw.call("POST", f"{API}/customers", _customer("r-1", email="x@y.zz"))
    assert first["data"]["customer"]["uuid"] == second["data"]["customer"]["uuid"]
    assert second["data"]["customer"]["email"] == "x@y.zz"
    status, doc = await raw.call("GET", f"{API}/customers?limit=10&offset=0")
    assert status == 200
    assert [c["reference_number"] for c in doc["data"]["customers"]] == ["r-1"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda u, b: (u, b.replace(b"Tai", b"Tom")), "E000004"),
        (lambda u, b: (u + "?x=1", b), "E000004"),
        (lambda u, b: (u.replace("customers", "customers/"), b), None),
    ],
    ids=["body", "query", "path"],
)
async def test_tampered_requests_fail(raw: RawClient, tamper: Any, code: str | None) -> None:
    """Changing body, query or path after signing is rejected (or routed nowhere)."""
    status, doc = await raw.call("POST", f"{API}/customers", _customer("t-1"), tamper=tamper)
    assert status in (401, 404, 405)
    if code is not None:
        assert doc["code"] == code


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("signed", "sent"),
    [
        ("/customers/ref/a", "/customers/ref/b"),
        ("/customers?limit=1", "/customers?limit=2"),
        ("/customers?limit=1&offset=0", "/customers?offset=0&limit=1"),
        ("/customers/ref/a%20b", "/customers/ref/a+b"),
    ],
    ids=["path-segment", "query-value", "query-order", "encoding"],
)
async def test_signature_covers_raw_path_and_query(raw: RawClient, signed: str, sent: str) -> None:
    """The signed URI is the raw path plus query as sent: any change on a valid route is 401."""
    status, doc = await raw.call("GET", API + signed, tamper=lambda _u, b: (API + sent, b))
    assert (status, doc["code"]) == (401, "E000004")


@pytest.mark.anyio
async def test_wrong_key_and_unknown_app(raw: RawClient) -> None:
    """A signature from another key is 401 E000004; an unknown app id is 403."""
    raw.key = make_key_pair().private_pem
    status, doc = await raw.call("POST", f"{API}/echo", {"message": "x"})
    assert (status, doc["code"]) == (401, "E000004")
    raw.app_id = "nobody"
    assert (await raw.call("POST", f"{API}/echo", {"message": "x"}))[0] == 403


@pytest.mark.anyio
async def test_clock_skew_window(wonder_emulator: Emulator) -> None:
    """Requests 31 minutes off are rejected with 401; 29 minutes off are accepted."""
    async with aiohttp.ClientSession() as session:
        raw = RawClient(session, wonder_emulator)
        now = dt.datetime.now(dt.timezone.utc)
        for minutes, expected in ((31, 401), (-31, 401), (29, 200), (-29, 200)):
            status, _ = await raw.call(
                "POST", f"{API}/echo", {"message": "x"}, now=now + dt.timedelta(minutes=minutes)
            )
            assert status == expected, minutes


@pytest.mark.anyio
@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.pop("Nonce"),
        lambda h: h.update(Nonce="short"),
        lambda h: h.update(Credential="only-one-part"),
        lambda h: h.update(Credential=h["Credential"].replace("Wonder-RSA-SHA256", "HMAC")),
        lambda h: h.update(Credential=h["Credential"].replace("/20", "/xx", 1)),
        lambda h: h.pop("Signature"),
    ],
    ids=["no-nonce", "short-nonce", "credential-parts", "algorithm", "time", "no-signature"],
)
async def test_malformed_headers_get_E000002(wonder_emulator: Emulator, mutate: Any) -> None:
    """Missing or malformed Credential/Nonce/Signature headers give 401 E000002."""
    body = json.dumps({"message": "x"}).encode()
    headers = sign_headers(
        wonder_emulator.app_id, wonder_emulator.private_key_pem or "", "POST", f"{API}/echo", body
    )
    mutate(headers)
    async with (
        aiohttp.ClientSession() as session,
        session.post(wonder_emulator.base_url + f"{API}/echo", data=body, headers=headers) as r,
    ):
        doc = await r.json()
    assert (r.status, doc["code"]) == (401, "E000002")


@pytest.mark.anyio
async def test_validation_errors_name_the_field(raw: RawClient) -> None:
    """Missing, too long and bad enum fields give 400 with the field in the message."""
    cases = [
        ({"customer": {"reference_number": "v", "phone": "1"}}, "customer.name"),
        ({"customer": {"reference_number": "v", "name": "n"}}, "customer.phone"),
        ({"customer": {"name": "n", "phone": "1"}}, "customer.reference_number"),
        (_customer("v", dial_code="+1234567"), "customer.dial_code"),
        (_customer("v", default_payment_method="Cash"), "customer.default_payment_method"),
        (_customer("x" * 256), "customer.reference_number"),
    ]
    for payload, field in cases:
        status, doc = await raw.call("POST", f"{API}/customers", payload)
        assert status == 400
        assert field in doc["message"]
    _, doc = await raw.call("POST", f"{API}/customers", _customer("v"))
    uuid = doc["data"]["customer"]["uuid"]
    status, doc = await raw.call("PUT", f"{API}/customers/{uuid}", {"reference_number": "other"})
    assert status == 400
    assert "reference_number" in doc["message"]


@pytest.mark.anyio
async def test_card_numbers_are_masked_everywhere(raw: RawClient) -> None:
    """No response ever contains the full card number or the CVV."""
    _, doc = await raw.call("POST", f"{API}/customers", _customer("m-1"))
    uuid = doc["data"]["customer"]["uuid"]
    card = {
        "number": "4000000000003220",
        "exp_month": "12",
        "exp_year": "2099",
        "holder_name": "T",
        "cvv": "987",
        "3ds": {"success_return_url": "https://a/s", "fail_return_url": "https://a/f"},
        "transaction_type": "unscheduled_cof",
    }
    texts = [json.dumps((await raw.call("POST", f"{API}/customers/{uuid}/payment_tokens",
                                        {"card": card}))[1])]  # fmt: skip
    texts.append(json.dumps((await raw.call("GET", f"{API}/customers/{uuid}/payment_tokens"))[1]))
    for text in texts:
        assert "4000000000003220" not in text
        assert '"987"' not in text
        assert "cvv" not in text
        assert "400000******3220" in text


@pytest.mark.anyio
async def test_rate_faults_appear_at_the_configured_rate(wonder_emulator: Emulator) -> None:
    """503 at rate 0.25 over 400 echo calls lands within a generous band and is counted."""
    wonder_emulator.faults.seed(7)
    parse_faults("echo:503=0.25", wonder_emulator.faults)
    async with aiohttp.ClientSession() as session:
        raw = RawClient(session, wonder_emulator)
        statuses = Counter(
            [(await raw.call("POST", f"{API}/echo", {"message": "x"}))[0] for _ in range(400)]
        )
    assert 60 <= statuses[503] <= 140
    assert wonder_emulator.stats["faults"]["503"] == statuses[503]
    assert wonder_emulator.stats["requests"]["echo"] == 400


@pytest.mark.anyio
async def test_scripted_faults_in_order(raw: RawClient, wonder_emulator: Emulator) -> None:
    """A script plays exactly in order: 429 with Retry-After, reset, non-JSON, truncated, ok."""
    wonder_emulator.faults.script(
        "customers.upsert", ["429@2", "reset", "nonjson", "truncated", "ok"]
    )
    status, _ = await raw.call("POST", f"{API}/customers", _customer("f-1"))
    assert status == 429
    with pytest.raises(aiohttp.ClientError):
        await raw.call("POST", f"{API}/customers", _customer("f-1"))
    status, text = await raw.call("POST", f"{API}/customers", _customer("f-1"))
    assert status == 200
    assert isinstance(text, str)
    assert "<html>" in text
    assert wonder_emulator.state.by_ref == {}  # none of those processed the request
    status, text = await raw.call("POST", f"{API}/customers", _customer("f-1"))
    assert isinstance(text, str)  # truncated JSON, but the write happened
    assert "f-1" in wonder_emulator.state.by_ref
    status, doc = await raw.call("POST", f"{API}/customers", _customer("f-1"))
    assert status == 200
    assert doc["code"] == 200


@pytest.mark.anyio
async def test_reset_after_processing_persists_the_write(
    raw: RawClient, wonder_emulator: Emulator
) -> None:
    """reset_after drops the connection but the customer was created."""
    wonder_emulator.faults.script("customers.upsert", ["reset_after"])
    with pytest.raises(aiohttp.ClientError):
        await raw.call("POST", f"{API}/customers", _customer("ra-1"))
    assert "ra-1" in wonder_emulator.state.by_ref


@pytest.mark.anyio
async def test_retry_after_header_on_429(raw: RawClient, wonder_emulator: Emulator) -> None:
    """429 faults carry Retry-After in seconds."""
    wonder_emulator.faults.script("echo", ["429@3"])
    async with raw.session.post(
        raw.base + f"{API}/echo",
        data=b"{}",
        headers=sign_headers(raw.app_id, raw.key, "POST", f"{API}/echo", b"{}"),
    ) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "3"


@pytest.mark.anyio
async def test_64_concurrent_upserts_never_duplicate(wonder_emulator: Emulator) -> None:
    """64 concurrent clients upserting 16 overlapping references make 16 customers."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        raw = RawClient(session, wonder_emulator)
        results = await asyncio.gather(
            *(raw.call("POST", f"{API}/customers", _customer(f"c-{i % 16}")) for i in range(256))
        )
    uuids: dict[str, set[str]] = {}
    for status, doc in results:
        assert status == 200
        customer = doc["data"]["customer"]
        uuids.setdefault(customer["reference_number"], set()).add(customer["uuid"])
    assert len(uuids) == 16
    assert all(len(v) == 1 for v in uuids.values())
    assert len(wonder_emulator.state.customers) == 16


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_standalone(tmp_path: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wonder_async.testing", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("base_url"):
            return proc
    proc.kill()
    raise AssertionError("standalone emulator did not start")


def test_standalone_db_survives_kill_9(tmp_path: Path) -> None:
    """With --db, acknowledged upserts and registered apps survive SIGKILL and a restart."""
    pair = make_key_pair()
    pub = tmp_path / "pub.pem"
    pub.write_text(pair.public_pem)
    db = tmp_path / "emu.db"
    port = _free_port()
    args = ["--db", str(db), "--app-id", "app-x", "--public-key", str(pub)]

    async def upsert_many(count: int) -> list[str]:
        async with aiohttp.ClientSession() as session:
            uuids = []
            for i in range(count):
                body = json.dumps(_customer(f"k-{i}")).encode()
                headers = sign_headers("app-x", pair.private_pem, "POST", f"{API}/customers", body)
                async with session.post(
                    f"http://127.0.0.1:{port}{API}/customers", data=body, headers=headers
                ) as r:
                    uuids.append((await r.json())["data"]["customer"]["uuid"])
            return uuids

    async def get_by_ref(ref: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session:
            uri = f"{API}/customers/ref/{ref}"
            headers = sign_headers("app-x", pair.private_pem, "GET", uri, b"")
            async with session.get(f"http://127.0.0.1:{port}{uri}", headers=headers) as r:
                return r.status, await r.json()

    proc = _start_standalone(tmp_path, port, *args)
    try:
        uuids = asyncio.run(upsert_many(30))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    proc = _start_standalone(tmp_path, port, "--db", str(db))
    try:
        for i in (0, 29):
            status, doc = asyncio.run(get_by_ref(f"k-{i}"))
            assert status == 200
            assert doc["data"]["customer"]["uuid"] == uuids[i]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == 0


def test_standalone_without_app_id_prints_key_path(tmp_path: Path) -> None:
    """Without --app-id it generates an app, prints its id and writes the key with mode 0600."""
    key_out = tmp_path / "k.pem"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wonder_async.testing", "--port", "0", "--key-out", str(key_out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(3)]
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert lines[0].startswith("app_id")
    assert lines[1].split()[-1] == str(key_out)
    assert lines[2].startswith("base_url     http://127.0.0.1:")
    assert "PRIVATE KEY" in key_out.read_text()
    assert key_out.stat().st_mode & 0o777 == 0o600


def test_standalone_restart_on_db_reuses_generated_app(tmp_path: Path) -> None:
    """Without --app-id, a restart on the same --db keeps the app id and its 0600 key file."""
    db = tmp_path / "emu.db"
    port = _free_port()

    def start() -> tuple[subprocess.Popen[str], dict[str, str]]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wonder_async.testing", "--port", str(port), "--db", str(db)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        lines = dict(proc.stdout.readline().split(maxsplit=1) for _ in range(3))
        return proc, {k: v.strip() for k, v in lines.items()}

    def stop(proc: subprocess.Popen[str]) -> None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
        assert proc.returncode == 0

    async def upsert(app_id: str, key: str) -> int:
        body = json.dumps(_customer("same-app")).encode()
        headers = sign_headers(app_id, key, "POST", f"{API}/customers", body)
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}{API}/customers", data=body, headers=headers
            ) as r,
        ):
            return r.status

    proc, first = start()
    try:
        key_path = Path(first["private_key"])
        assert key_path == db.with_suffix(".key.pem")
        assert key_path.stat().st_mode & 0o777 == 0o600
        key = key_path.read_text()
        assert asyncio.run(upsert(first["app_id"], key)) == 200
    finally:
        stop(proc)
    proc, second = start()
    try:
        assert second["app_id"] == first["app_id"]
        assert second["private_key"] == first["private_key"]
        assert asyncio.run(upsert(second["app_id"], key)) == 200
    finally:
        stop(proc)


@pytest.mark.parametrize(
    "argv",
    [
        ["--public-key", "pub.pem"],
        ["--app-id", "a"],
        ["--faults", "echo:teapot=1"],
        ["--app-id", "a", "--public-key", "/nonexistent/pub.pem"],
    ],
    ids=["key-without-app", "app-without-key", "bad-faults", "missing-key-file"],
)
def test_standalone_rejects_bad_options(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Inconsistent or invalid options exit with status 2 and a message, before listening."""
    import argparse

    from wonder_async.testing._standalone import add_emulator_arguments, run_emulator

    parser = argparse.ArgumentParser()
    add_emulator_arguments(parser)
    assert run_emulator(parser.parse_args(["--port", "0", *argv])) == 2
    assert "wonder emulator:" in capsys.readouterr().err
