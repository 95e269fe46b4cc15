"""The emulator's webhook log keeps the newest ``webhook_log_limit`` delivery attempts, so a
long-running ``wonder emulator`` does not grow without bound."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.browser.test_dashboard_cli import WONDER, _start, _stop
from wonder_async import WonderClient
from wonder_async.testing import Emulator

# Bound on waits that only run out when something hangs (never a timed assertion).
HANG = 30.0


class Merchant:
    """A merchant's webhook endpoint that answers 200 and records the paths it was sent to."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._arrived = asyncio.Event()

    async def hook(self, request: web.Request) -> web.Response:
        await request.read()
        self.paths.append(request.path)
        self._arrived.set()
        return web.Response(status=200)

    async def received(self, count: int) -> None:
        """Wait until ``count`` webhooks arrived."""
        while len(self.paths) < count:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), HANG)


@pytest.fixture
async def merchant() -> AsyncIterator[tuple[Merchant, str]]:
    m = Merchant()
    app = web.Application()
    app.router.add_post("/hooks/{n}", m.hook)
    async with TestServer(app, host="127.0.0.1") as server:
        yield m, str(server.make_url("/hooks")).rstrip("/")


async def _create_orders(wonder: WonderClient, hooks: str, numbers: range) -> list[str | None]:
    created: list[str | None] = []
    for n in numbers:
        order = await wonder.orders.create(
            reference_number=f"log-{n}",
            charge_fee="1.00",
            currency="HKD",
            callback_url=f"{hooks}/{n}",
        )
        created.append(order.number)
    return created


def test_the_default_limit_and_bad_limits() -> None:
    """1000 unless set; anything but a positive integer is refused, naming the setting."""
    emu = Emulator(dashboard=False)
    try:
        assert emu.webhook_log_limit == 1000
        for bad in (0, -1, 2.5, "10", True, None):
            with pytest.raises(ValueError, match=r"^webhook_log_limit: must be a positive integer"):
                emu.webhook_log_limit = bad  # type: ignore[assignment]
        assert emu.webhook_log_limit == 1000
    finally:
        emu.state.close()


@pytest.mark.anyio
async def test_the_log_keeps_the_newest_attempts(
    wonder_emulator: Emulator, merchant: tuple[Merchant, str]
) -> None:
    """With a limit of 3, five deliveries leave the last three in the log, oldest first, each
    still the full signed request; lowering the limit drops the oldest at once."""
    received, hooks = merchant
    emu = wonder_emulator
    emu.webhook_log_limit = 3
    async with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        numbers = await _create_orders(wonder, hooks, range(1, 6))
        await emu.wait_for_webhooks()
    assert received.paths == [f"/hooks/{n}" for n in range(1, 6)]  # every one was delivered
    log = list(emu.webhook_log)
    assert len(log) == 3
    assert [e["url"] for e in log] == [f"{hooks}/{n}" for n in (3, 4, 5)]
    assert [e["delivery"] for e in log] == sorted(e["delivery"] for e in log)
    assert [json.loads(e["body"])["data"]["order"]["number"] for e in log] == numbers[2:]
    assert all(e["status"] == 200 and "Signature" in e["headers"] for e in log)
    assert emu.webhook_log[-2:] == log[-2:]  # still a list: slicing works

    emu.webhook_log_limit = 1
    assert [e["url"] for e in emu.webhook_log] == [f"{hooks}/5"]
    emu.reset()
    assert emu.webhook_log == []
    assert emu.webhook_log_limit == 1  # a setting, not data: reset keeps it


@pytest.mark.anyio
async def test_wonder_emulator_webhook_log_limit_bounds_what_the_dashboard_shows(
    merchant: tuple[Merchant, str],
) -> None:
    """`wonder emulator --webhook-log-limit 2`: after three webhooks its dashboard lists the
    newest two deliveries only."""
    received, hooks = merchant
    proc, lines = _start("--webhook-log-limit", "2")
    try:
        async with WonderClient(
            app_id=lines["app_id"], private_key=lines["private_key"], base_url=lines["base_url"]
        ) as wonder:
            await _create_orders(wonder, hooks, range(1, 4))
        await received.received(3)
        page = ""
        async with aiohttp.ClientSession() as session:
            # The log entry is written once the emulator has read the merchant's answer.
            for _ in range(int(HANG / 0.05)):
                async with session.get(lines["dashboard"] + "dashboard/webhooks") as resp:
                    assert resp.status == 200
                    page = await resp.text()
                if f"<code>{hooks}/3</code>" in page:
                    break
                await asyncio.sleep(0.05)
    finally:
        _stop(proc)
    assert "Deliveries, newest first (2 of 2)" in page
    assert f"<code>{hooks}/3</code>" in page
    assert f"<code>{hooks}/2</code>" in page
    assert f"<code>{hooks}/1</code>" not in page


def test_the_cli_refuses_a_bad_limit() -> None:
    """A limit below 1 is a usage error that names the option; nothing starts."""
    result = subprocess.run(
        [*WONDER, "emulator", "--port", "0", "--webhook-log-limit", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--webhook-log-limit: must be a positive integer (got '0')" in result.stderr
    assert "base_url" not in result.stdout
