"""Bind cards through 3-D Secure: frictionless, challenged, and declined.

``python examples/cards_3ds.py`` runs it against an in-process emulator, which plays the
issuer: its ``verify_url`` page has Approve and Decline buttons. Here a small HTTP client
presses Approve, as the cardholder's browser would.
"""

import asyncio

import aiohttp

from wonder_async import Card, ThreeDS, WonderClient
from wonder_async.testing import Emulator

THREE_DS = ThreeDS(
    success_return_url="https://shop.example/3ds/ok",  # where the cardholder comes back to
    fail_return_url="https://shop.example/3ds/fail",
)


def card(number: str) -> Card:
    return Card(number=number, exp_month=12, exp_year=2035, holder_name="TAI MAN", cvv="123")


async def cardholder_approves(verify_url: str) -> None:
    """What the cardholder does in their browser: open verify_url, press Approve."""
    async with (
        aiohttp.ClientSession() as browser,
        browser.post(verify_url, data={"result": "success"}, allow_redirects=False) as page,
    ):
        print("  issuer sends the browser back to", page.headers["Location"])


async def main() -> None:
    async with (
        Emulator() as emu,
        WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        customer = await wonder.customers.upsert(
            reference_number="u-42", name="Tai Man", phone="12345678"
        )
        assert customer.uuid is not None

        # 1. Frictionless: bound at once.
        token = await wonder.payment_tokens.create(
            customer.uuid, card=card("4242424242424242"), three_ds=THREE_DS
        )
        print("frictionless:", token.state)

        # 2. Challenged: pending until the cardholder passes 3-D Secure at verify_url.
        token = await wonder.payment_tokens.create(
            customer.uuid, card=card("4000000000003220"), three_ds=THREE_DS
        )
        print("challenged:", token.state)
        if token.is_pending:
            # In a web shop you redirect the cardholder to token.verify_url and call
            # payment_tokens.check(...) when they come back; wait() polls check for you.
            assert token.verify_url is not None
            waiting = asyncio.create_task(
                wonder.payment_tokens.wait(customer.uuid, token, timeout=30, interval=0.2)
            )
            await cardholder_approves(token.verify_url)
            token = await waiting
        print("after 3-D Secure:", token.state, token.credit_card)

        # 3. Declined: not an exception. Always look at the state before you rely on a token.
        token = await wonder.payment_tokens.create(
            customer.uuid, card=card("4000000000000002"), three_ds=THREE_DS
        )
        if token.state == "failed":
            print("declined:", token.error_code, token.error_msg)

        tokens = await wonder.payment_tokens.list(customer.uuid, token_type="CreditCard")
        print("usable tokens:", sum(t.is_usable for t in tokens))


asyncio.run(main())
