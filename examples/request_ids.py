"""Request ids and raw answers: what to quote to Wonder support for any call.

``python examples/request_ids.py`` runs it against an in-process emulator.
"""

import asyncio
import logging
import threading

import wonder_sync
from wonder_async import NotFoundError, WonderClient
from wonder_async.testing import Emulator

log = logging.getLogger("shop")


async def main() -> None:
    async with (
        Emulator() as emu,
        WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        # 1. Any call: the id of the last request this task sent through the client.
        # --8<-- [start:last]
        customer = await wonder.customers.upsert(
            reference_number="u-42", name="Tai Man", phone="12345678"
        )
        log.info("upserted %s (request %s)", customer.uuid, wonder.last_request_id)
        # --8<-- [end:last]
        print("last request id:", wonder.last_request_id)

        # 2. The raw answer: status, headers and request id, and parse() for the result.
        raw = await wonder.with_raw_response.customers.get_by_reference("u-42")
        print("raw:", raw.status, raw.headers["Content-Type"], raw.attempts, "attempt")
        print("  request id:", raw.request_id)
        print("  parsed:", raw.parse().uuid == customer.uuid)

        # A retried call reports the attempt that was answered.
        emu.faults.script("customers.get_by_reference", ["503"])
        raw = await wonder.with_raw_response.customers.get_by_reference("u-42")
        print("after a 503:", raw.status, raw.attempts, "attempts")

        # 3. Errors carry the request id and the answer's headers.
        try:
            await wonder.customers.get_by_reference("nobody")
        except NotFoundError as exc:
            print("error:", exc.status, exc.request_id == wonder.last_request_id)
            print("  headers:", exc.headers["Content-Type"])


def blocking() -> None:
    """The blocking client: the same names; last_request_id is per thread."""
    with (
        Emulator.in_thread() as emu,
        wonder_sync.WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        wonder.customers.upsert(reference_number="u-7", name="Chan", phone="1")
        ids: dict[str, str | None] = {}

        def work(name: str) -> None:
            wonder.customers.get_by_reference("u-7")
            ids[name] = wonder.last_request_id

        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("blocking, one id per thread:", len(set(ids.values())))
        raw = wonder.with_raw_response.echo("ping")
        print("blocking raw:", raw.status, raw.parse(), raw.request_id != ids["t0"])


asyncio.run(main())
blocking()
