"""Receive Wonder's webhooks in an aiohttp server, verified before anything trusts them.

``python examples/webhooks_aiohttp.py`` serves the endpoint on a local port, creates an order
on an in-process emulator with ``callback_url`` pointing at it, pays the order through its
payment link, and prints the verified ``order.created`` and ``order.paid`` webhooks. In
production, build the app with ``make_app(os.environ["WONDER_WEBHOOK_PUBLIC_KEY"],
os.environ["WONDER_APP_ID"])`` and serve it with ``web.run_app(app)``.
"""

import asyncio
import logging

import aiohttp
from aiohttp import web

from wonder_async import WebhookEvent, WebhookVerificationError, WonderClient
from wonder_async.testing import Emulator
from wonder_async.webhooks import WebhookVerifier

log = logging.getLogger(__name__)


async def handle(event: WebhookEvent) -> None:
    """Your processing. Make it idempotent: the same event can be delivered more than once."""
    assert event.order is not None
    print(
        "verified webhook:", event.action, event.order.reference_number, event.correspondence_state
    )


def make_app(webhook_public_key: str, app_id: str) -> web.Application:
    """The web app; ``webhook_public_key`` is the portal's Webhook Public Key (PEM or path)."""
    # One verifier for the app's lifetime: the key is loaded once; safe to share.
    verifier = WebhookVerifier(webhook_public_key, app_id=app_id)

    async def wonder_webhook(request: web.Request) -> web.Response:
        body = await request.read()  # the raw bytes, not request.json()
        try:
            # raw_path is the path plus query string exactly as received
            event = verifier.verify(body, request.headers, request.raw_path)
        except WebhookVerificationError as exc:
            log.warning("refused a Wonder webhook: %s", exc.check)
            # 400 when forged (not worth a retry); 503 when authentic but outside the freshness
            # window, so Wonder retries it rather than dropping the event.
            return web.Response(status=exc.answer_status)
        await handle(event)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hooks/wonder", wonder_webhook)
    return app


async def main() -> None:
    async with (
        Emulator() as emu,
        WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        # The emulator signs webhooks with its own key pair, like Wonder does.
        runner = web.AppRunner(make_app(emu.webhook_public_key_pem, emu.app_id))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            order = await wonder.orders.create(
                reference_number="o-1",
                charge_fee="21.00",
                currency="HKD",
                callback_url=f"http://127.0.0.1:{port}/hooks/wonder",
                with_payment_link=True,
            )
            assert order.payment_link is not None
            async with aiohttp.ClientSession() as browser:  # the customer pays at the link
                await browser.post(order.payment_link)
            await emu.wait_for_webhooks()
            # Before shipping, confirm the state with the API too (webhooks can be late).
            paid = await wonder.orders.get(reference_number="o-1")
            print("order state:", paid.state, paid.correspondence_state)
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
