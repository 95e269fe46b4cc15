"""Errors, retries and deadlines, shown with the emulator's fault injection.

``python examples/errors.py`` runs it against an in-process emulator that fails on purpose.
"""

import asyncio

from wonder_async import (
    APIConnectionError,
    NotFoundError,
    ServerError,
    ValidationError,
    WonderClient,
    WonderError,
)
from wonder_async.testing import Emulator


async def main() -> None:
    async with (
        Emulator() as emu,
        WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        # Upsert is idempotent, so the SDK retries it: two failures, then it succeeds.
        emu.faults.script("customers.upsert", ["503", "reset_after"])
        customer = await wonder.customers.upsert(
            reference_number="u-42", name="Tai Man", phone="12345678"
        )
        print("upsert survived 503 and a reset:", customer.reference_number)
        assert customer.uuid is not None

        # Per call, without retries: the 503 comes through as ServerError.
        emu.faults.script("customers.get", ["503"])
        try:
            await wonder.with_options(max_retries=0).customers.get(customer.uuid)
        except ServerError as exc:
            print("no retries:", type(exc).__name__, exc.status, "retryable:", exc.retryable)
            print("  quote to Wonder support:", exc.request_id is not None)

        # Creating an order is not repeated blindly after an ambiguous failure: the gateway
        # may have created it. The error says how to find out.
        emu.faults.script("orders.create", ["reset_after"])
        try:
            await wonder.orders.create(
                reference_number="o-1",
                charge_fee="21.00",
                currency="HKD",
                customer_uuid=customer.uuid,
            )
        except APIConnectionError as exc:
            print("order create not repeated, sent:", exc.sent)
            print("  the error says:", exc.message)
            order = await wonder.orders.get(reference_number="o-1")  # reconcile
            print("  the order exists after all:", order.reference_number, order.state)

        # Not found and bad input are not retried.
        try:
            await wonder.customers.get_by_reference("nobody")
        except NotFoundError as exc:
            print("not found:", exc.status, exc.attempts, "attempt")
        try:
            await wonder.orders.create(reference_number="o-2", charge_fee=21.0, currency="HKD")  # type: ignore[arg-type]
        except ValidationError as exc:
            print("invalid:", exc.field, exc.rule, "-", exc)

        # Every error the SDK raises is a WonderError.
        try:
            await wonder.customers.get("no-such-uuid")
        except WonderError as exc:
            print("caught as WonderError:", type(exc).__name__)


asyncio.run(main())
