"""``wonder demo``: customer -> card -> 3-D Secure -> order -> charge -> refund, narrated.

Runs against the embedded emulator, so it needs no credentials and no network; every request
is signed and verified exactly as against the real gateway.
"""

from __future__ import annotations

import time

import aiohttp

from ._client import WonderClient
from ._errors import CardDeclinedError, NotFoundError
from ._models import Card, ThreeDS
from .testing import Emulator

__all__ = ["run_demo"]


def _step(number: int, text: str) -> None:
    print(f"\n{number}. {text}")


def _show(label: str, value: object) -> None:
    print(f"   {label:<22} {value}")


async def _complete_challenge(verify_url: str, result: str) -> str:
    """Press Approve on the emulator's 3-D Secure page, as the cardholder's browser would."""
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(verify_url) as page,
    ):
        html = await page.text()
        assert "Approve" in html, "the 3-D Secure page has no Approve button"
    async with (
        aiohttp.ClientSession() as browser,
        browser.post(verify_url, data={"result": result}, allow_redirects=False) as answer,
    ):
        return f"{answer.status} -> {answer.headers.get('Location')}"


async def run_demo() -> int:
    """Start the emulator, walk the flow, print what happens; return the exit status."""
    async with Emulator() as emu:
        print(f"Wonder Gateway emulator on {emu.base_url} (app id {emu.app_id})")
        print("Every request below is signed with Wonder-RSA-SHA256 and verified by the emulator.")
        async with WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder:
            _step(1, "Signature self-test (echo)")
            _show("echoed", await wonder.echo("Hello,Wonder!"))

            _step(2, "Upsert a customer keyed on your reference_number")
            customer = await wonder.customers.upsert(
                reference_number="demo-user-42",
                name="Chan Tai Man",
                phone="12345678",
                dial_code="+852",
                email="taiman@example.com",
                default_payment_method="Credit Card",
            )
            _show("uuid", customer.uuid)
            assert customer.uuid is not None

            _step(3, "Upsert again with the same reference_number and a new email")
            again = await wonder.customers.upsert(
                reference_number="demo-user-42",
                name="Chan Tai Man",
                phone="12345678",
                email="new@example.com",
            )
            _show("uuid", f"{again.uuid} (same: {again.uuid == customer.uuid})")
            _show("email", again.email)

            _step(4, "Read it back by uuid and by reference_number")
            by_uuid = await wonder.customers.get(customer.uuid)
            by_ref = await wonder.customers.get_by_reference("demo-user-42")
            _show("by uuid", f"{by_uuid.name} <{by_uuid.email}>")
            _show("by reference", f"{by_ref.uuid}")

            _step(5, "Bind a card; the issuer asks for 3-D Secure")
            year = time.gmtime().tm_year + 3
            card = Card(
                number="4000 0000 0000 3220", exp_month=12, exp_year=year, holder_name="TAI MAN"
            )
            _show("card", card)
            token = await wonder.payment_tokens.create(
                customer.uuid,
                card=card,
                three_ds=ThreeDS(
                    success_return_url="https://shop.example/3ds/success",
                    fail_return_url="https://shop.example/3ds/failed",
                ),
                transaction_type="unscheduled_cof",
            )
            token_id = token.token
            assert token_id is not None
            _show("token", token_id)
            _show("state", token.state)
            _show("verify_url", token.verify_url)

            if token.is_pending and token.verify_url:
                _step(6, "The cardholder approves the challenge on the verify_url page")
                _show("browser", await _complete_challenge(token.verify_url, "success"))

            _step(7, "Check the token until it leaves pending")
            token = await wonder.payment_tokens.wait(customer.uuid, token, timeout=10, interval=0.2)
            _show("state", token.state)
            if token.credit_card is not None:
                _show("stored card", f"{token.credit_card.number} ({token.credit_card.brand})")

            _step(8, "List the customer's tokens")
            for item in await wonder.payment_tokens.list(customer.uuid, token_type="CreditCard"):  # noqa: S106 - a filter, not a secret
                _show(item.token or "?", f"{item.state} default={item.default}")

            _step(9, "Create an order for the customer, with a payment link")
            order = await wonder.orders.create(
                reference_number="demo-order-1",
                charge_fee="21.00",
                currency="HKD",
                customer_uuid=customer.uuid,
                with_payment_link=True,
            )
            _show("order number", order.number)
            _show("state", f"{order.state} / {order.correspondence_state}")
            _show("payment link", order.payment_link)

            _step(10, "Charge the saved card for the order, exactly once")
            payment = await wonder.payments.create(
                reference_number="demo-order-1",
                token=token_id,
                amount="21.00",
                payment_uuid="demo-invoice-1-charge",  # yours: a rerun never charges twice
            )
            tx = payment.transaction
            _show("transaction", f"{tx.uuid} {tx.type} {tx.amount} success={tx.success}")
            _show("card", f"{tx.card_first_6}...{tx.card_last_4}")
            _show("order", f"{payment.order.state} / {payment.order.correspondence_state}")
            repeat = await wonder.payments.create(
                reference_number="demo-order-1",
                token=token_id,
                amount="21.00",
                payment_uuid="demo-invoice-1-charge",
            )
            _show("same id again", f"recovered={repeat.recovered}, no second charge")

            _step(11, "Refund part of the charge")
            refund = await wonder.orders.refund(
                reference_number="demo-order-1",
                transaction_uuid=payment.payment_uuid,
                amount="5.00",
            )
            order = refund.order
            _show("refund", refund.transaction.amount if refund.transaction else "?")
            _show("order", f"{order.state} / {order.correspondence_state}")
            _show("paid / refunded", f"{order.paid_total} / {order.refunded_total}")

            _step(12, "A card that binds but is declined when charged")
            declining = await wonder.payment_tokens.create(
                customer.uuid,
                card=Card(
                    number="4000000000009995", exp_month=12, exp_year=year, holder_name="TAI MAN"
                ),
                three_ds=ThreeDS(
                    success_return_url="https://shop.example/3ds/success",
                    fail_return_url="https://shop.example/3ds/failed",
                ),
            )
            try:
                await wonder.payments.create_with_order(
                    reference_number="demo-order-2",
                    customer_uuid=customer.uuid,
                    token=str(declining.token),
                    amount="9.90",
                    currency="HKD",
                )
            except CardDeclinedError as exc:
                _show("CardDeclinedError", f"{exc.code}: {exc.message}")

            _step(13, "Delete the tokens")
            await wonder.payment_tokens.delete(customer.uuid, token_id)
            await wonder.payment_tokens.delete(customer.uuid, str(declining.token))
            left = await wonder.payment_tokens.list(customer.uuid)
            _show("tokens left", len(left))
            try:
                await wonder.payment_tokens.check(customer.uuid, token_id)
            except NotFoundError as exc:
                _show("check after delete", f"NotFoundError ({exc.status})")

    print("\nDone: the whole flow ran against the emulator with signed, verified requests.")
    print("See it in a browser: `wonder emulator` serves a dashboard at http://127.0.0.1:8080/")
    return 0
