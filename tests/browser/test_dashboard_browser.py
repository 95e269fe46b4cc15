"""The dashboard in headless Chromium, driven by Playwright while a client drives the emulator.

Screenshots go to tests/browser/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, async_playwright, expect

from tests.emulator.conftest import API, RawClient, card_body, customer_body
from wonder_async.testing import Emulator
from wonder_async.webhooks import WebhookVerifier

pytestmark = pytest.mark.anyio

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parent / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent: install the Debian package chromium (.ci/run does)",
        allow_module_level=True,
    )


@asynccontextmanager
async def _new_page(**context: Any) -> AsyncIterator[Page]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, **context)
            yield await ctx.new_page()
        finally:
            await browser.close()


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    """A fresh Chromium page (one browser per test keeps tests independent)."""
    async with _new_page() as p:
        yield p


@pytest.fixture
async def browser_no_js() -> AsyncIterator[Page]:
    """A fresh Chromium page with JavaScript turned off."""
    async with _new_page(java_script_enabled=False) as p:
        yield p


@pytest.fixture
async def merchant() -> AsyncIterator[tuple[str, list[tuple[bytes, dict[str, str], str]]]]:
    """A webhook receiver: its URL and what it received (body, headers, raw path)."""
    received: list[tuple[bytes, dict[str, str], str]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), dict(request.headers), request.raw_path))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks/wonder", hook)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("/hooks/wonder?shop=1")), received


async def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_find_approve_pay_see_webhook_and_reset(
    dash_emu: Emulator,
    raw: RawClient,
    page: Page,
    merchant: tuple[str, list[tuple[bytes, dict[str, str], str]]],
) -> None:
    """The whole flow a developer does by hand, in a real browser."""
    callback, received = merchant
    base = dash_emu.base_url
    for ref, name in (("shop-ada", "Ada <b>Lovelace</b>"), ("shop-bob", "Bob")):
        await raw.ok("POST", f"{API}/customers", customer_body(ref, name=name, email="a@b.c"))
    uuid = dash_emu.state.by_ref["shop-ada"]
    created = await raw.ok(
        "POST", f"{API}/customers/{uuid}/payment_tokens", card_body("4000000000003220")
    )
    token = created["payment_token"]["token"]
    await raw.ok(
        "POST",
        f"{API}/orders",
        {
            "customer_uuid": uuid,
            "order": {
                "reference_number": "ord-1",
                "charge_fee": "21.00",
                "currency": "HKD",
                "callback_url": callback,
            },
        },
    )
    await dash_emu.wait_for_webhooks()  # order.created

    problems: list[str] = []  # script errors and CSP refusals would show in the console
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(base + "/")
    await expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    await _shot(page, "1-customers")
    await page.get_by_label("Reference number").fill("ada")
    await page.get_by_role("button", name="Search").click()
    customers = page.get_by_role("table").first
    await expect(customers).to_contain_text("Ada <b>Lovelace</b>")  # shown as text
    await expect(customers).not_to_contain_text("shop-bob")
    await customers.get_by_role("link", name="shop-ada").click()
    await expect(page.get_by_role("heading", name="Customer shop-ada")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=token)
    await expect(row).to_contain_text("400000******3220")
    await expect(row).to_contain_text("pending")
    await _shot(page, "2-customer-pending")

    await row.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status")).to_contain_text("approved")
    await expect(page.get_by_role("row").filter(has_text=token)).to_contain_text("success")
    checked = await raw.ok(
        "POST",
        f"{API}/customers/{uuid}/payment_tokens/check",
        {"payment_token": {"token": token}},
    )
    assert checked["payment_token"]["state"] == "success"

    order_row = page.get_by_role("row").filter(has_text="ord-1")
    await order_row.get_by_role("button", name="Pay").click()
    await expect(page.get_by_role("status")).to_contain_text("paid")
    await expect(page.get_by_role("row").filter(has_text="ord-1")).to_contain_text("paid")
    await _shot(page, "3-customer-paid")
    await dash_emu.wait_for_webhooks()  # order.paid
    assert [h["X-Action"] for _, h, _ in received] == ["order.created", "order.paid"]

    await page.get_by_role("link", name="Webhooks").click()
    paid = page.locator("section").filter(has_text="order.paid").first
    await expect(paid).to_contain_text(callback)
    await expect(paid).to_contain_text("200")
    await paid.get_by_text("Signed request as curl").click()
    command = await paid.locator("pre").inner_text()
    await _shot(page, "4-webhooks")
    # The copied command is the exact signed request: sent again, it still verifies.
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[:4] == ["curl", "-X", "POST", callback]
    process = await asyncio.create_subprocess_exec(
        "curl", "-sS", "--max-time", "10", *argv[1:], stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert (process.returncode, out) == (0, b"ok")
    body, headers, path = received[-1]
    verifier = WebhookVerifier(dash_emu.webhook_public_key_pem, app_id=dash_emu.app_id)
    event = verifier.verify(body, headers, path)
    assert event.action == "order.paid"
    assert event.correspondence_state == "paid"
    assert body == received[1][0]

    await page.get_by_role("link", name="Faults").click()
    await page.get_by_label("Fault spec").fill("*:503=0.05;orders.create:script=500|ok")
    await page.get_by_role("button", name="Set faults").click()
    await expect(page.get_by_role("status")).to_contain_text("fault spec is set")
    await expect(page.get_by_role("table").first).to_contain_text("503")
    await _shot(page, "5-faults")
    await page.get_by_role("link", name="Requests").click()
    await expect(page.get_by_role("row").filter(has_text="customers.upsert")).to_contain_text("2")
    await _shot(page, "6-requests")

    await page.get_by_role("link", name="Customers").click()
    await page.get_by_role("button", name="Reset all state").click()
    await expect(page.get_by_role("status")).to_contain_text("reset")
    await expect(page.get_by_text("No customers yet.")).to_be_visible()
    await _shot(page, "7-after-reset")
    assert dash_emu.state.customers == {}
    assert not dash_emu.faults.rules
    assert problems == []


async def test_open_page_shows_new_state_without_a_reload(
    dash_emu: Emulator, raw: RawClient, page: Page
) -> None:
    """With JavaScript, a customer created by a client appears on the open page by itself."""
    await page.goto(dash_emu.base_url + "/")
    await expect(page.get_by_text("No customers yet.")).to_be_visible()
    await page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded
    await raw.ok("POST", f"{API}/customers", customer_body("late-arrival"))
    customers = page.get_by_role("table").first
    # Waits for the refresh (every 1.5 s); the generous bound only guards a stuck page.
    await expect(customers).to_contain_text("late-arrival", timeout=60_000)
    assert await page.evaluate("window.loadedOnce") is True


async def test_actions_work_without_javascript(
    dash_emu: Emulator, raw: RawClient, browser_no_js: Page
) -> None:
    """The forms alone approve a challenge: no script is needed for any action."""
    uuid = (await raw.ok("POST", f"{API}/customers", customer_body("no-js")))["customer"]["uuid"]
    created = await raw.ok(
        "POST", f"{API}/customers/{uuid}/payment_tokens", card_body("4000000000003220")
    )
    token = created["payment_token"]["token"]
    page = browser_no_js
    await page.goto(dash_emu.base_url + "/")
    row = page.get_by_role("row").filter(has_text="400000******3220")
    await row.get_by_role("button", name="Decline").click()
    await expect(page.get_by_role("status")).to_contain_text("declined")
    await expect(page.get_by_text("No challenge is waiting.")).to_be_visible()
    assert dash_emu.state.tokens[token]["state"] == "failed"
    assert dash_emu.state.tokens[token]["error_code"] == "EMU_3DS_FAILED"
