"""Quickstart: upsert a customer, bind a card, create an order, against the local emulator.

Run it as it is: ``python examples/quickstart.py``. It starts the emulator in-process, so it
needs no credentials and no network. To run the same code against the Wonder sandbox, replace
the ``Emulator`` block with ``WonderClient()``, which reads ``WONDER_APP_ID`` and
``WONDER_PRIVATE_KEY_FILE`` from the environment.
"""

import asyncio

from wonder_async import Card, ThreeDS, WonderClient
from wonder_async.testing import Emulator


async def main() -> None:
    async with (
        Emulator() as emu,  # a local, signature-checking Wonder Gateway
        WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        customer = await wonder.customers.upsert(
            reference_number="u-42", name="Tai Man", phone="12345678"
        )
        if customer.uuid is None:  # the gateway always sends it; the model keeps it optional
            raise SystemExit("the gateway answered without the customer's uuid")
        print("customer", customer.uuid)

        token = await wonder.payment_tokens.create(
            customer.uuid,
            card=Card(
                number="4242424242424242", exp_month=12, exp_year=2035, holder_name="TAI MAN"
            ),
            three_ds=ThreeDS(
                success_return_url="https://shop.example/3ds/ok",
                fail_return_url="https://shop.example/3ds/fail",
            ),
        )
        if token.state != "success":  # "pending": 3-D Secure; "failed": declined
            raise SystemExit(f"card not bound: {token.state} {token.error_code}")
        print("card bound", token.state)

        order = await wonder.orders.create(
            reference_number="o-1",
            charge_fee="21.00",
            currency="HKD",
            customer_uuid=customer.uuid,
        )
        print("order", order.number, order.state)


asyncio.run(main())
