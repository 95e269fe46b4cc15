"""Customers: idempotent upsert by your reference_number, look-ups, updates, listing.

``python examples/customers.py`` runs it against an in-process emulator.
"""

import asyncio

from wonder_async import NotFoundError, ValidationError, WonderClient
from wonder_async.testing import Emulator


async def main() -> None:
    async with (
        Emulator() as emu,
        WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        # name and phone are required; reference_number is your own id of the customer.
        first = await wonder.customers.upsert(
            reference_number="u-42", name="Chan Tai Man", phone="12345678", dial_code="+852"
        )
        # The same reference_number again updates the same customer: safe to repeat.
        again = await wonder.customers.upsert(
            reference_number="u-42",
            name="Chan Tai Man",
            phone="12345678",
            email="taiman@example.com",
        )
        print("same customer:", again.uuid == first.uuid, again.email)

        assert first.uuid is not None
        by_uuid = await wonder.customers.get(first.uuid)
        by_ref = await wonder.customers.get_by_reference("u-42")
        print("looked up:", by_uuid.name, by_ref.uuid == first.uuid)

        # update changes only the fields you pass.
        updated = await wonder.customers.update(first.uuid, email="new@example.com")
        print("updated:", updated.email, updated.phone)

        for n in range(5):
            await wonder.customers.upsert(
                reference_number=f"u-{n}", name=f"Customer {n}", phone="12345678"
            )
        # list() pages through all customers for you.
        names = [c.name async for c in wonder.customers.list(page_size=2)]
        print("listed:", len(names))

        try:
            await wonder.customers.get_by_reference("nobody")
        except NotFoundError as exc:
            print("not found:", exc.status)

        try:  # bad input is refused before anything is sent, naming the field and rule
            await wonder.customers.upsert(reference_number="u-43", name="", phone="12345678")
        except ValidationError as exc:
            print("invalid:", exc.field, exc.rule)


asyncio.run(main())
