"""`POST /__emulator/reset` empties the data and counters and restores the start's faults."""

from __future__ import annotations

import aiohttp
import pytest

from wonder_async import NotFoundError, ServerError, WonderClient
from wonder_async.testing import Emulator, Fault


@pytest.mark.anyio
async def test_reset_keeps_the_faults_given_at_start_and_drops_later_ones() -> None:
    """A suite that resets between tests keeps its `--faults`; faults a test added go away."""
    async with (
        Emulator(faults="echo:503=1;customers.get:script=500") as emu,
        WonderClient(
            app_id=emu.app_id,
            private_key=emu.private_key_pem,
            base_url=emu.base_url,
            max_retries=0,
        ) as wonder,
    ):
        customer = await wonder.customers.upsert(reference_number="r", name="N", phone="1")
        assert customer.uuid is not None
        with pytest.raises(ServerError):  # the start's script: one 500
            await wonder.customers.get(customer.uuid)
        assert (await wonder.customers.get(customer.uuid)).uuid == customer.uuid
        emu.faults.add("customers.upsert", "502", 1.0)

        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{emu.base_url}/__emulator/reset") as resp,
        ):
            assert resp.status == 200

        assert (emu.stats["requests"], emu.stats["faults"]) == ({}, {})
        assert emu.faults.rules == {"echo": [Fault("503", 1.0)]}
        with pytest.raises(ServerError) as echo_error:  # the start's rule is still there
            await wonder.echo()
        assert echo_error.value.status == 503
        # The data is gone, the start's script is back, the added 502 rule is not.
        with pytest.raises(ServerError):
            await wonder.customers.get(customer.uuid)
        with pytest.raises(NotFoundError):
            await wonder.customers.get(customer.uuid)
        again = await wonder.customers.upsert(reference_number="r", name="N", phone="1")
        assert again.reference_number == "r"
