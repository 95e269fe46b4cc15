"""``wonder conformance`` against emulators whose readings the test chooses.

The command must infer exactly the readings an emulator was started with (every reading and
value, in-process and through a ``wonder emulator --reading`` subprocess), list in its shape
report the fields an emulator variant adds, drops or retypes, write no card number, CVV, key
or signature, refuse the production host, and never charge one order twice across runs.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from wonder_async._conformance import RULES, Budget, FlowSettings, Options, Result, run
from wonder_async.cli import main
from wonder_async.testing import READINGS, Emulator, Readings, variants

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

CARD = "4242424242424242"
DECLINE_CARD = "4000000000009995"
THREE_DS_CARD = "4000000000003220"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fast_emulator(emu: Emulator) -> Emulator:
    emu.webhook_retry_delays = (0.05, 0.1, 0.2)
    return emu


async def conform(
    emu: Emulator,
    out: Path,
    *,
    webhooks: bool = True,
    budget: Budget | None = None,
    settings: dict[str, Any] | None = None,
) -> tuple[Result, dict[str, Any], str]:
    """One conformance run against ``emu``; its result, readings.json and what it printed."""
    assert emu.private_key_pem is not None
    port = free_port()
    flow = FlowSettings(
        run_id=os.urandom(4).hex(),
        webhook_url=f"http://127.0.0.1:{port}/hook" if webhooks else None,
        poll_interval=0.05,
        settle_wait=5.0,
        three_ds_wait=5.0,
        **(settings or {}),
    )
    options = Options(
        base_url=emu.base_url,
        app_id=emu.app_id,
        private_key=emu.private_key_pem,
        out_dir=out,
        settings=flow,
        budget=budget or Budget(call_timeout=10.0, max_calls=150, max_seconds=60.0),
        listen=("127.0.0.1", port) if webhooks else None,
        webhook_wait=5.0,
    )
    printed = io.StringIO()
    result = await run(options, stream=printed, on_verify=approve_on_page)
    doc = json.loads((out / "readings.json").read_text())
    return result, doc, printed.getvalue()


async def approve_on_page(verify_url: str, _token: dict[str, Any]) -> None:
    """The cardholder: open the 3-D Secure page and press Approve."""
    async with aiohttp.ClientSession() as session:
        async with session.get(verify_url) as page:
            assert "Approve" in await page.text()
        async with session.post(verify_url, data={"result": "success"}, allow_redirects=False):
            pass


def differences(shapes: dict[str, Any]) -> dict[str, Any]:
    return {
        step: {k: op[k] for k in ("emulator_lacks", "emulator_invents", "types_differ") if op[k]}
        for step, op in shapes["operations"].items()
        if op["emulator"] is not None
        and (op["emulator_lacks"] or op["emulator_invents"] or op["types_differ"])
    }


def test_every_reading_of_the_registry_has_a_rule() -> None:
    assert set(RULES) == set(READINGS)


# --- round trip: every reading and value ---------------------------------------------------


ROUND_TRIPS = [{}, *variants()]


@pytest.mark.parametrize(
    "chosen",
    ROUND_TRIPS,
    ids=[",".join(f"{k}={v}" for k, v in c.items()) or "defaults" for c in ROUND_TRIPS],
)
async def test_infers_exactly_the_readings_the_emulator_plays(
    chosen: dict[str, str], tmp_path: Path
) -> None:
    async with Emulator(readings=chosen, pending_seconds=0.2, dashboard=False) as emu:
        result, doc, printed = await conform(fast_emulator(emu), tmp_path)
    expected: dict[str, str | None] = dict(Readings(chosen))
    if expected["charges"] == "pending":
        # Every charge comes back pending, so how a decline is answered cannot be seen.
        expected["declines"] = None
    assert doc["readings"] == expected, {
        n: doc["findings"][n]["evidence"] for n in expected if doc["readings"][n] != expected[n]
    }
    assert dict(Readings.load(tmp_path / "readings.json")) == {
        **expected,
        **({"declines": READINGS["declines"].default} if expected["declines"] is None else {}),
    }
    assert doc["format"] == "wonder-readings/1"
    assert all(f["request_id"] for f in doc["findings"].values())
    # The emulator loaded with the file answers the same flow in the same shapes.
    shapes = json.loads((tmp_path / "shapes.json").read_text())
    assert shapes["emulator_readings"] == {n: v for n, v in expected.items() if v is not None}
    assert differences(shapes) == {}
    assert any(step.startswith("webhook ") for step in shapes["operations"])
    assert result.stopped is None
    for name, value in expected.items():
        shown = re.escape(value or "not observed")
        assert re.search(rf"^{name}\s+\S+\s+{shown}\s", printed, re.M), printed


async def test_without_a_webhook_url_the_webhook_readings_are_not_observed(
    tmp_path: Path,
) -> None:
    async with Emulator(readings={"webhook_body": "order"}, dashboard=False) as emu:
        _, doc, printed = await conform(fast_emulator(emu), tmp_path, webhooks=False)
    assert doc["readings"]["webhook_body"] is None
    assert doc["readings"]["webhook_resign"] is None
    assert doc["findings"]["webhook_body"]["status"] == "not observed"
    assert re.search(r"^webhook_body\s+envelope\s+not observed", printed, re.M)
    # not observed keeps the emulator's default when the file is loaded
    assert Readings.load(tmp_path / "readings.json")["webhook_body"] == "envelope"
    assert doc["readings"]["errors"] == "envelope"


# --- the shape report ----------------------------------------------------------------------


class _RewritingEmulator(Emulator):
    """A gateway that answers like the emulator but adds ``business``, drops ``updated_at``
    and sends ``currency`` as an object in every order; it also records every signature it
    received or sent, for the secrets test."""

    signatures: list[str]

    def make_app(self) -> web.Application:
        app = super().make_app()
        self.signatures = []

        @web.middleware
        async def rewrite(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            if "Signature" in request.headers:
                self.signatures.append(request.headers["Signature"])
            response = await handler(request)
            if (
                not isinstance(response, web.Response)
                or response.content_type != "application/json"
            ):
                return response
            assert response.body is not None
            doc = json.loads(bytes(response.body))
            order = (doc.get("data") or {}).get("order") if isinstance(doc, dict) else None
            if isinstance(order, dict):
                order["business"] = {"id": "b-1", "business_name": "Shop"}
                order.pop("updated_at", None)
                order["currency"] = {"code": order.get("currency")}
            return web.json_response(doc, status=response.status)

        app.middlewares.append(rewrite)
        return app


async def test_shape_report_lists_fields_the_emulator_lacks_invents_or_types_otherwise(
    tmp_path: Path,
) -> None:
    async with _RewritingEmulator(dashboard=False) as gateway:
        _, doc, printed = await conform(fast_emulator(gateway), tmp_path)
    shapes = json.loads((tmp_path / "shapes.json").read_text())
    op = shapes["operations"]["orders.get_by_reference"]
    assert op["request"] == "POST /svc/payment/api/v1/openapi/orders/check"
    assert "data.order.business" in op["emulator_lacks"]
    assert "data.order.business.id" in op["emulator_lacks"]
    assert "data.order.currency.code" in op["emulator_lacks"]
    assert "data.order.updated_at" in op["emulator_invents"]
    assert {"path": "data.order.currency", "gateway": ["object"], "emulator": ["string"]} in op[
        "types_differ"
    ]
    assert op["gateway"]["data.order.business"] == ["object"]
    assert op["emulator"]["data.order.updated_at"] == ["string"]
    # Only the rewritten operations differ: echo and customers answer alike.
    differing = differences(shapes)
    assert "echo" not in differing
    assert "customers.upsert" not in differing
    assert "orders.refund" in differing
    assert "payments.charge" in differing
    assert "orders.get_by_reference: lacks" in printed
    assert doc["readings"]["errors"] == "envelope"  # the readings are unaffected


# --- secrets ------------------------------------------------------------------------------


async def test_no_card_number_cvv_key_or_signature_in_any_file(tmp_path: Path) -> None:
    async with _RewritingEmulator(dashboard=False) as gateway:
        fast_emulator(gateway)
        await conform(gateway, tmp_path / "out", settings={"card": THREE_DS_CARD})
        assert gateway.private_key_pem is not None
        key_lines = [ln for ln in gateway.private_key_pem.splitlines() if "-----" not in ln]
        sent = list(gateway.signatures)
        hooks = [entry["headers"]["Signature"] for entry in gateway.webhook_log]
    assert len(sent) > 30
    assert hooks
    files = list((tmp_path / "out").iterdir())
    assert {f.name for f in files} == {"readings.json", "shapes.json", "log.jsonl"}
    text = "\n".join(f.read_text() for f in files)
    for secret in (CARD, DECLINE_CARD, THREE_DS_CARD, "4000 0000 0000 3220", "PRIVATE KEY"):
        assert secret not in text
    for secret in [*key_lines, *sent, *hooks]:
        assert secret not in text
    log = [json.loads(line) for line in (tmp_path / "out" / "log.jsonl").read_text().splitlines()]
    cards = [
        r["request"]["card"]
        for r in log
        if r.get("kind") == "call" and isinstance(r.get("request"), dict) and "card" in r["request"]
    ]
    assert len(cards) >= 2
    assert all(c["cvv"] == "[redacted]" and c["number"] == "[card number]" for c in cards)
    # the log still shows what happened: every call with its status and request id
    calls = [r for r in log if r.get("kind") == "call"]
    assert all(r["request_id"] and "status" in r for r in calls)
    assert any(r.get("kind") == "webhook" and r["answered"] == 503 for r in log)


# --- reruns and interruptions ---------------------------------------------------------------


async def test_two_runs_and_an_interrupted_one_never_charge_an_order_twice(
    tmp_path: Path,
) -> None:
    async with Emulator(dashboard=False) as emu:
        fast_emulator(emu)
        first, one, _ = await conform(emu, tmp_path / "one")
        stopped, _, printed = await conform(
            emu, tmp_path / "two", budget=Budget(call_timeout=10.0, max_calls=30, max_seconds=60)
        )
        second, three, _ = await conform(emu, tmp_path / "three")
        orders = list(emu.state.orders.values())
    assert stopped.stopped is not None
    assert "30 calls" in stopped.stopped
    assert "the run stopped early" in printed
    charges = {
        order["reference_number"]: [
            t for t in order["transactions"] if t["type"] in {"Sales", "Authorization"}
        ]
        for order in orders
    }
    assert all(len(c) <= 1 for c in charges.values()), charges
    assert len({ref.split("-")[1] for ref in charges}) == 3
    # each full run charged its own sale, pre-authorisation and direct payment
    assert sum(1 for c in charges.values() if c and c[0]["success"]) >= 6
    uuids = [c[0]["uuid"] for c in charges.values() if c]
    assert len(uuids) == len(set(uuids))
    # cleanup: no order of a full run is left paid (refunded what was left, voided the rest)
    full_runs = {one["run_id"], three["run_id"]}
    left = {
        o["reference_number"]: o["correspondence_state"]
        for o in orders
        if o["reference_number"].split("-")[1] in full_runs
        and o["correspondence_state"] in {"paid", "partial_paid", "over_paid"}
    }
    assert left == {}
    assert first.cleanup.done
    assert second.cleanup.done
    assert [line for line in first.cleanup.left if "customer" not in line] == []
    # the interrupted run still cleaned up within the calls it kept back
    assert stopped.cleanup.done


# --- the production host -----------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--environment", "production"],
        ["--base-url", "https://gateway.wonder.today"],
        ["--base-url", "https://GATEWAY.Wonder.Today.:443/svc"],
        ["--environment", "sandbox", "--base-url", "https://user@gateway.wonder.today/"],
    ],
)
def test_refuses_the_production_host(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status = main(["conformance", *argv, "--out", str(tmp_path / "out")])
    assert status == 2
    err = capsys.readouterr().err
    assert "gateway.wonder.today is Wonder's production gateway" in err
    assert not (tmp_path / "out").exists()


def test_refuses_production_given_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WONDER_BASE_URL", "https://gateway.wonder.today")
    assert main(["conformance"]) == 2
    assert "production gateway" in capsys.readouterr().err


# --- the command against `wonder emulator --reading ...`, with interactive 3-D Secure --------


def _start(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "wonder_async.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _read_until(proc: subprocess.Popen[str], prefix: str, seen: list[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    raise AssertionError(f"no {prefix!r} line in:\n{''.join(seen)}")


async def test_cli_against_a_wonder_emulator_subprocess_with_a_3ds_challenge(
    tmp_path: Path,
) -> None:
    chosen = {"charges": "pending", "refunds": "negative_unlinked", "webhook_resign": "original"}
    emulator = _start(
        [
            "emulator",
            "--port",
            "0",
            "--no-dashboard",
            "--pending-seconds",
            "0.3",
            "--key-out",
            str(tmp_path / "key.pem"),
            *[arg for name, value in chosen.items() for arg in ("--reading", f"{name}={value}")],
        ]
    )
    seen: list[str] = []
    try:
        app_id = _read_until(emulator, "app_id", seen)
        base_url = _read_until(emulator, "base_url", seen)
        port = free_port()
        out = tmp_path / "out"
        command = _start(
            [
                "conformance",
                "--base-url",
                base_url,
                "--app-id",
                app_id,
                "--private-key-file",
                str(tmp_path / "key.pem"),
                "--card",
                THREE_DS_CARD,
                "--out",
                str(out),
                "--poll-interval",
                "0.05",
                "--three-ds-wait",
                "30",
                "--settle-wait",
                "10",
                "--webhook-url",
                f"http://127.0.0.1:{port}/hook",
                "--listen",
                f"127.0.0.1:{port}",
                "--webhook-wait",
                "10",
            ]
        )
        printed: list[str] = []
        try:
            # The cardholder's step: the test opens the challenge page and approves it.
            verify_url = _read_until(command, "verify_url", printed)
            async with aiohttp.ClientSession() as session:
                async with session.get(verify_url) as page:
                    assert page.status == 200
                    assert "Approve" in await page.text()
                async with session.post(
                    verify_url, data={"result": "success"}, allow_redirects=False
                ) as answer:
                    assert answer.status == 303
            assert command.stdout is not None
            rest, _ = await asyncio.to_thread(command.communicate, timeout=90)
            printed.append(rest)
        finally:
            if command.poll() is None:
                command.kill()
                command.communicate()
        assert command.returncode == 0, "".join(printed)
    finally:
        emulator.terminate()
        emulator.communicate(timeout=10)
    doc = json.loads((out / "readings.json").read_text())
    # charges=pending: every charge comes back pending, so declines cannot be seen
    assert doc["readings"] == {**dict(Readings(chosen)), "declines": None}, doc["findings"]
    text = "".join(printed)
    assert "Send them to the project" in text
    assert f"wonder emulator --readings {out / 'readings.json'}" in text
    polls = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert any(r.get("step") == "payment_tokens.create.check" for r in polls)
