"""A started emulator with its dashboard, a signed raw client and a form helper."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.emulator.conftest import RawClient
from wonder_async.testing import Emulator


@pytest.fixture
async def dash_emu() -> AsyncIterator[Emulator]:
    """A started emulator (its dashboard is on by default) on a real loopback socket."""
    async with Emulator() as emu:
        yield emu
        await emu.wait_for_webhooks()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP session that does not follow redirects unless asked."""
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def raw(dash_emu: Emulator, session: aiohttp.ClientSession) -> RawClient:
    """A signed client (tests/independent_signing.py) for the dashboard's emulator."""
    return RawClient(session, dash_emu)


def csrf_of(page: str) -> str:
    """The CSRF token a dashboard page puts in its forms."""
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)
