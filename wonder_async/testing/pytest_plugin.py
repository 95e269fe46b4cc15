"""pytest fixtures for testing code that uses Wonder Gateway, backed by the emulator.

Registered automatically (``pytest11`` entry point) when wonder-gateway is installed.

``wonder_emulator`` plays the readings the ``wonder_readings`` fixture returns (none, so the
defaults, unless a test module or conftest overrides it); to run a test under every reading
that bears on it::

    from wonder_async.testing import variants

    @pytest.mark.parametrize("wonder_readings", variants(["charges", "declines"]))
    async def test_charge(wonder_emulator): ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping

import pytest

from ._server import Emulator


@pytest.fixture
def wonder_readings() -> Mapping[str, str] | None:
    """The readings ``wonder_emulator`` plays (override or parametrize it); default: none."""
    return None


@pytest.fixture
async def wonder_emulator(wonder_readings: Mapping[str, str] | None) -> AsyncIterator[Emulator]:
    """A fresh emulator on the test's event loop (use with ``@pytest.mark.anyio``), playing
    the readings of ``wonder_readings``."""
    async with Emulator(readings=wonder_readings) as emu:
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
