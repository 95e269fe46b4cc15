"""Charge a saved card exactly once, refund part of it, and handle a declined card.

Run it as it is: ``python examples/payments.py``. It starts the emulator in-process (no
credentials, no network). Against the Wonder sandbox, use ``WonderClient()`` with
``WONDER_APP_ID`` and ``WONDER_PRIVATE_KEY_FILE`` set instead of the ``Emulator`` block.
"""

import asyncio

from wonder_async import (
    APIConnectionError,
    Card,
    CardDeclinedError,
    OutcomeUnknownError,
    ThreeDS,
    WonderClient,
)
from wonder_async.testing import Emulator

THREE_DS = ThreeDS(
    success_return_url="https://shop.example/3ds/ok",
    fail_return_url="https://shop.example/3ds/fail",
)


async def bind(wonder: WonderClient, customer_uuid: str, number: str) -> str:
    card = Card(number=number, exp_month=12, exp_year=2030, holder_name="TAI MAN")
    token = await wonder.payment_tokens.create(customer_uuid, card=card, three_ds=THREE_DS)
    if token.state != "success" or token.token is None:
        raise SystemExit(f"card not bound: {token.state} {token.error_code}")
    return token.token


# --8<-- [start:handle]
async def charge_invoice(wonder: WonderClient, invoice: str, token: str, amount: str) -> str:
    """Charge an invoice once, and say what happened in each case a billing run meets."""
    try:
        payment = await wonder.payments.create(
            reference_number=invoice,
            token=token,
            amount=amount,
            payment_uuid=f"{invoice}-charge",  # a rerun of this invoice never charges twice
        )
    except CardDeclinedError as exc:  # the bank said no: tell the customer, do not retry
        return f"declined ({exc.code}: {exc.message})"
    except OutcomeUnknownError as exc:  # nobody can tell yet: retry later with the same id
        return f"unknown, retry later (payment_uuid {exc.payment_uuid})"
    except APIConnectionError:  # nothing was charged: safe to retry later
        return "not charged, retry later"
    return f"charged {payment.transaction.amount}"


# --8<-- [end:handle]


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
        token = await bind(wonder, customer.uuid, "4242424242424242")

        # 1. An order, then a charge of the saved card for it. The payment_uuid is yours
        #    (here derived from an invoice id): running this again never charges twice.
        await wonder.orders.create(
            reference_number="invoice-1001",
            charge_fee="21.00",
            currency="HKD",
            customer_uuid=customer.uuid,
        )
        payment = await wonder.payments.create(
            reference_number="invoice-1001",
            token=token,
            amount="21.00",
            payment_uuid="invoice-1001-charge-1",
        )
        tx = payment.transaction
        print("charged", tx.amount, tx.type, "card", tx.card_first_6, "...", tx.card_last_4)
        print("order", payment.order.correspondence_state, "paid", payment.order.paid_total)

        # 2. The same call again: the SDK finds the first charge and returns it.
        again = await wonder.payments.create(
            reference_number="invoice-1001",
            token=token,
            amount="21.00",
            payment_uuid="invoice-1001-charge-1",
        )
        print("second call recovered the first charge:", again.recovered)

        # 3. Refund part of it.
        refund = await wonder.orders.refund(
            reference_number="invoice-1001",
            transaction_uuid=payment.payment_uuid,
            amount="5.00",
        )
        print("refunded 5.00; order is now", refund.order.correspondence_state)

        # 4. Create and pay an order in one call ("Direct Payment").
        direct = await wonder.payments.create_with_order(
            reference_number="invoice-1002",
            customer_uuid=customer.uuid,
            token=token,
            amount="9.90",
            currency="HKD",
        )
        print("direct payment", direct.order.reference_number, direct.order.correspondence_state)

        # 5. A card that binds fine but is declined when charged: CardDeclinedError.
        declining = await bind(wonder, customer.uuid, "4000000000009995")
        await wonder.orders.create(
            reference_number="invoice-1003",
            charge_fee="15.00",
            currency="HKD",
            customer_uuid=customer.uuid,
        )
        print("invoice-1003:", await charge_invoice(wonder, "invoice-1003", declining, "15.00"))

        # 6. The customer's orders, with their transactions.
        async for order in wonder.orders.list(customer_uuid=customer.uuid):
            kinds = [f"{t.type}:{t.amount}:{'ok' if t.success else 'failed'}"
                     for t in order.transactions]  # fmt: skip
            print(order.reference_number, order.correspondence_state, kinds)


asyncio.run(main())
