"""The blocking client: the same calls without ``await``, for scripts, Django and Celery.

``python examples/blocking.py`` runs it against an emulator on a thread of its own.
"""

from concurrent.futures import ThreadPoolExecutor

from wonder_async.testing import Emulator
from wonder_sync import WonderClient


def main() -> None:
    with (
        Emulator.in_thread() as emu,
        WonderClient(
            app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
        ) as wonder,
    ):
        customer = wonder.customers.upsert(
            reference_number="u-42", name="Tai Man", phone="12345678"
        )
        print("customer", customer.uuid)

        # One client is safe to share between threads (e.g. a web server's worker threads).
        def upsert(n: int) -> str | None:
            return wonder.customers.upsert(
                reference_number=f"u-{n}", name=f"Customer {n}", phone="12345678"
            ).uuid

        with ThreadPoolExecutor(max_workers=8) as pool:
            uuids = list(pool.map(upsert, range(100, 120)))
        print("upserted from 8 threads:", len(uuids))

        # Iterators fetch page by page, as the async ones do.
        print("customers in total:", sum(1 for _ in wonder.customers.list(page_size=10)))


main()
