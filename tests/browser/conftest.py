"""A started emulator with its dashboard, a signed raw client and a form helper."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.emulator.conftest import RawClient
from wonder_async.testing import Emulator
from wonder_async.testing._dashboard import Dashboard


@pytest.fixture
async def dash_emu() -> AsyncIterator[Emulator]:
    """An emulator whose app also serves the dashboard, on a real loopback socket."""
    emu = Emulator()
    app = emu.make_app()
    Dashboard(emu).install(app)
    try:
        async with TestServer(app, host="127.0.0.1") as server:
            emu.base_url = str(server.make_url("")).rstrip("/")
            yield emu
            await emu.wait_for_webhooks()
    finally:
        await emu.stop()


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
