"""Hostile but correctly signed requests the issue found accepted or crashing (issue 18):
each is now a 400 envelope naming the field and rule, and nothing stored breaks a read."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.emulator.conftest import API, RawClient, card_body, customer_body
from tests.independent_signing import sign_headers
from wonder_async.testing import Emulator


async def send(raw: RawClient, method: str, uri: str, body: bytes) -> tuple[int, Any]:
    """Sign and send exact body bytes."""
    headers = sign_headers(raw.app_id, raw.key, method, uri, body)
    async with raw.session.request(method, raw.base + uri, data=body or None,
                                   headers=headers) as resp:  # fmt: skip
        return resp.status, json.loads(await resp.text())


async def refused(raw: RawClient, method: str, uri: str, body: Any, field: str) -> str:
    """Assert a 400 envelope whose message names ``field``; return the message."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, doc = await send(raw, method, uri, data)
    assert status == 400, doc
    assert doc["code"] == 400
    message: str = doc["message"]
    assert message.startswith(f"{field}: "), message
    return message


async def new_customer(raw: RawClient, ref: str = "c-1") -> str:
    uuid: str = (await raw.ok("POST", f"{API}/customers", customer_body(ref)))["customer"]["uuid"]
    return uuid


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b"\xef\xbb\xbf" + json.dumps(customer_body("bom")).encode(), "byte-order mark"),
        (json.dumps(customer_body("u16")).encode("utf-16"), "UTF-8"),
        (json.dumps(customer_body("u16")).encode("utf-16-le"), "UTF-8"),
        (json.dumps(customer_body("u32")).encode("utf-32"), "UTF-8"),
        (b'{"customer": {"reference_number": "n", "name": NaN, "phone": "1"}}', "NaN"),
        (b'{"customer": {"reference_number": "n", "name": "a", "phone": Infinity}}', "Infinity"),
        (
            b'{"customer": {"reference_number": "n", "name": "a", "phone": "1", "x": 1e400}}',
            "out of range",
        ),
        (b'{"customer": {}, "customer": {}}', "twice"),
        (b"[]", "JSON object"),
    ],
)
async def test_bodies_must_be_finite_utf8_json_objects(
    raw: RawClient, body: bytes, rule: str
) -> None:
    message = await refused(raw, "POST", f"{API}/customers", body, "body")
    assert rule in message
    assert (await raw.ok("GET", f"{API}/customers"))["customers"] == []


@pytest.mark.anyio
async def test_a_deep_extra_field_is_refused_and_never_poisons_later_reads(raw: RawClient) -> None:
    order = {"reference_number": "o-1", "charge_fee": "1.00", "currency": "HKD"}
    deep = b'{"d": ' * 980 + b'"x"' + b"}" * 980
    body = json.dumps({"order": {**order, "extra": "X"}}).encode().replace(b'"X"', deep)
    message = await refused(raw, "POST", f"{API}/orders", body, "body")
    assert "deeper than 32" in message
    await raw.ok("POST", f"{API}/orders", {"order": order})
    found = await raw.ok("POST", f"{API}/orders/check", {"order": {"reference_number": "o-1"}})
    assert found["order"]["charge_fee"] == 1.0


@pytest.mark.anyio
async def test_wrong_types_are_refused_not_coerced(raw: RawClient) -> None:
    uuid = await new_customer(raw)
    tokens = f"{API}/customers/{uuid}/payment_tokens"
    await refused(raw, "POST", tokens, card_body([]), "card.number")  # type: ignore[arg-type]
    await refused(raw, "POST", tokens, card_body("4242424242424242", billing_address="str"),
                  "card.billing_address")  # fmt: skip
    await refused(raw, "POST", tokens, card_body("4242424242424242", transaction_type=[]),
                  "card.transaction_type")  # fmt: skip
    await refused(raw, "POST", tokens, card_body("4242424242424242", exp_month=12),
                  "card.exp_month")  # fmt: skip
    body = customer_body("x")
    body["customer"]["reference_number"] = 12345
    await refused(raw, "POST", f"{API}/customers", body, "customer.reference_number")
    assert await raw.ok("GET", tokens) == {"payment_tokens": []}
    listed = await raw.ok("GET", f"{API}/customers")
    assert [c["reference_number"] for c in listed["customers"]] == ["c-1"]


@pytest.mark.anyio
async def test_surrogates_and_controls_never_reach_the_3ds_page(
    raw: RawClient, wonder_emulator: Emulator
) -> None:
    uuid = await new_customer(raw)
    tokens = f"{API}/customers/{uuid}/payment_tokens"
    bad = b'{"card": {"holder_name": "\\udc00"}}'
    await refused(raw, "POST", tokens, bad, "card.holder_name")
    await refused(raw, "POST", tokens, card_body("4000000000003220", holder_name="A\x00"),
                  "card.holder_name")  # fmt: skip
    token = (await raw.ok("POST", tokens, card_body("4000000000003220")))["payment_token"]
    async with aiohttp.ClientSession() as session, session.get(token["verify_url"]) as page:
        assert page.status == 200
        assert "Chan Tai Man" in await page.text()


@pytest.mark.anyio
async def test_path_parameters_are_checked(raw: RawClient) -> None:
    status, doc = await send(raw, "GET", f"{API}/customers/ref/a%00b", b"")
    assert status == 400
    assert doc["message"].startswith("ref: ")
    status, doc = await send(raw, "GET", f"{API}/customers/ref/%ED%A0%80", b"")
    assert status in (400, 404), doc  # an invalid UTF-8 sequence is never a 500


@pytest.mark.anyio
async def test_token_type_filter_is_an_enum(raw: RawClient) -> None:
    uuid = await new_customer(raw)
    await raw.ok("GET", f"{API}/customers/{uuid}/payment_tokens?token_type=CreditCard,Gateway")
    status, doc = await send(
        raw, "GET", f"{API}/customers/{uuid}/payment_tokens?token_type=Card", b""
    )
    assert status == 400
    assert doc["message"].startswith("token_type: ")


@pytest.mark.anyio
async def test_replays_are_accepted_by_default(raw: RawClient) -> None:
    body = json.dumps(customer_body("r-1")).encode()
    headers = sign_headers(raw.app_id, raw.key, "POST", f"{API}/customers", body)
    for _ in range(2):
        async with raw.session.post(raw.base + f"{API}/customers", data=body,
                                    headers=headers) as resp:  # fmt: skip
            assert resp.status == 200


@pytest.mark.anyio
async def test_reject_replays_refuses_the_same_nonce_and_signature() -> None:
    async with Emulator(reject_replays=True) as emu, aiohttp.ClientSession() as session:
        assert emu.private_key_pem is not None
        uri = f"{API}/customers"
        body = json.dumps(customer_body("r-1")).encode()
        headers = sign_headers(emu.app_id, emu.private_key_pem, "POST", uri, body)
        answers = []
        for _ in range(2):
            async with session.post(emu.base_url + uri, data=body, headers=headers) as resp:
                answers.append((resp.status, await resp.json()))
        assert answers[0][0] == 200
        assert answers[1][0] == 401
        assert answers[1][1]["code"] == "E000006"
        # A fresh signature of the same request (a new nonce) is not a replay.
        headers = sign_headers(emu.app_id, emu.private_key_pem, "POST", uri, body)
        async with session.post(emu.base_url + uri, data=body, headers=headers) as resp:
            assert resp.status == 200
        # reset() forgets what was seen.
        emu.reset()
        async with session.post(emu.base_url + uri, data=body, headers=headers) as resp:
            assert resp.status == 200


def test_the_standalone_emulator_takes_reject_replays(tmp_path: Path) -> None:
    """`python -m wonder_async.testing --reject-replays` refuses a replay; without it, not."""
    from tests.conftest import make_key_pair
    from tests.emulator.test_wire_contract import _free_port, _start_standalone

    pair = make_key_pair()
    pub = tmp_path / "pub.pem"
    pub.write_text(pair.public_pem)
    body = json.dumps(customer_body("r-1")).encode()
    uri = f"{API}/customers"
    for flags, second in [(["--reject-replays"], 401), ([], 200)]:
        port = _free_port()
        proc = _start_standalone(tmp_path, port, "--app-id", "app-r", "--public-key", str(pub),
                                 "--no-dashboard", *flags)  # fmt: skip
        try:
            headers = sign_headers("app-r", pair.private_pem, "POST", uri, body)
            headers["Content-Type"] = "application/json"
            statuses = []
            for _ in range(2):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                try:
                    conn.request("POST", uri, body=body, headers=headers)
                    statuses.append(conn.getresponse().status)
                finally:
                    conn.close()
            assert statuses == [200, second], flags
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
