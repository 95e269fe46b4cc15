"""pytest fixtures for testing code that uses Wonder Gateway, backed by the emulator.

Registered automatically (``pytest11`` entry point) when wonder-gateway is installed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ._server import Emulator


@pytest.fixture
async def wonder_emulator() -> AsyncIterator[Emulator]:
    """A fresh emulator on the test's event loop (use with ``@pytest.mark.anyio``)."""
    async with Emulator() as emu:
        yield emu


@pytest.fixture(scope="session")
def _wonder_emulator_thread_session() -> Iterator[Emulator]:
    with Emulator.in_thread() as emu:
        yield emu


@pytest.fixture
def wonder_emulator_thread(_wonder_emulator_thread_session: Emulator) -> Emulator:
    """An emulator on a background thread, emptied before each test (for blocking code)."""
    _wonder_emulator_thread_session.reset()
    return _wonder_emulator_thread_session
