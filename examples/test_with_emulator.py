"""Test your own code against the emulator, with the fixtures the package registers.

Run: ``python -m pytest examples/test_with_emulator.py``. pytest finds the fixtures
``wonder_emulator`` (async, a fresh emulator per test) and ``wonder_emulator_thread``
(blocking, shared and emptied before each test) without any import or conftest.
"""

from collections.abc import AsyncIterator

import pytest

import wonder_sync
from wonder_async import WonderClient
from wonder_async.testing import Emulator


# --- the code under test: yours -------------------------------------------------------------
async def register_user(wonder: WonderClient, user_id: int, name: str) -> str:
    customer = await wonder.customers.upsert(
        reference_number=f"user-{user_id}", name=name, phone="12345678"
    )
    assert customer.uuid is not None
    return customer.uuid


# --- the tests ----------------------------------------------------------------------------------
@pytest.fixture
async def wonder(wonder_emulator: Emulator) -> AsyncIterator[WonderClient]:
    """A client signed for the emulator's app: its app_id, private key and base URL."""
    async with WonderClient(
        app_id=wonder_emulator.app_id,
        private_key=wonder_emulator.private_key_pem,
        base_url=wonder_emulator.base_url,
    ) as client:
        yield client


@pytest.mark.anyio  # async tests and async fixtures run through anyio's pytest plugin
async def test_register_user_creates_the_customer(wonder: WonderClient) -> None:
    uuid = await register_user(wonder, 42, "Tai Man")
    customer = await wonder.customers.get_by_reference("user-42")
    assert (customer.uuid, customer.name) == (uuid, "Tai Man")


@pytest.mark.anyio
async def test_register_user_survives_a_gateway_hiccup(
    wonder: WonderClient, wonder_emulator: Emulator
) -> None:
    wonder_emulator.faults.script("customers.upsert", ["503"])  # the next upsert fails once
    await register_user(wonder, 7, "Siu Ming")
    assert wonder_emulator.stats["requests"]["customers.upsert"] == 2  # retried once
    assert wonder_emulator.stats["faults"] == {"503": 1}


def test_blocking_code(wonder_emulator_thread: Emulator) -> None:
    emu = wonder_emulator_thread
    with wonder_sync.WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        wonder.customers.upsert(reference_number="user-1", name="Tai Man", phone="12345678")
        assert [c.reference_number for c in wonder.customers.list()] == ["user-1"]
