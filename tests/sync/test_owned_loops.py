"""The loops the SDK owns run on uvloop when it is installed (the ``[fast]`` extra), asyncio's
with ``WONDER_UVLOOP=0`` or without uvloop; the application's own loops are never changed."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import threading

import pytest

from wonder_async import _loops
from wonder_async.testing import Emulator
from wonder_sync import WonderClient

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None
needs_uvloop = pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop is not installed")


def _loop_module_of_client(emu: Emulator) -> str:
    """Make a blocking call and return the module of the loop the call ran on."""
    seen: list[str] = []
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as wonder:
        assert wonder.echo("loop") == "loop"
        loop = wonder._portal._loop
        assert loop is not None
        seen.append(type(loop).__module__)
        # concurrent blocking calls (signed by the callers, sent on that loop) all succeed
        answers: list[str] = []
        threads = [
            threading.Thread(target=lambda i=i: answers.append(wonder.echo(f"t{i}")))
            for i in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(answers) == sorted(f"t{i}" for i in range(6))
    return seen[0]


@needs_uvloop
def test_the_blocking_clients_loop_thread_runs_uvloop_when_installed(
    wonder_emulator_thread: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(_loops.ENV, raising=False)
    policy = asyncio.get_event_loop_policy()
    assert _loop_module_of_client(wonder_emulator_thread).startswith("uvloop")
    assert asyncio.get_event_loop_policy() is policy  # no policy installed for the app


def test_wonder_uvloop_0_keeps_asyncios_loop(
    wonder_emulator_thread: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_loops.ENV, "0")
    assert _loop_module_of_client(wonder_emulator_thread).startswith("asyncio")


@needs_uvloop
def test_sdk_runs_use_uvloop_and_leave_the_apps_loops_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``_loops.run`` (the CLI's runs, ``wonder emulator``) runs on uvloop; a loop the
    application makes afterwards is still asyncio's own."""
    monkeypatch.delenv(_loops.ENV, raising=False)

    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert _loops.run(which()).startswith("uvloop")
    mine = asyncio.new_event_loop()
    try:
        assert type(mine).__module__.startswith("asyncio")
    finally:
        mine.close()
    monkeypatch.setenv(_loops.ENV, "off")
    assert _loops.run(which()).startswith("asyncio")


def test_cli_runs_with_and_without_uvloop(wonder_emulator_thread: Emulator) -> None:
    """``wonder echo`` against the emulator answers on either loop."""
    emu = wonder_emulator_thread
    assert emu.private_key_pem is not None
    for value in ("1", "0"):
        env = {
            "WONDER_UVLOOP": value,
            "WONDER_APP_ID": emu.app_id,
            "WONDER_PRIVATE_KEY": emu.private_key_pem,
            "WONDER_BASE_URL": emu.base_url,
            "PATH": "/usr/bin:/bin",
        }
        proc = subprocess.run(
            [sys.executable, "-m", "wonder_async.cli", "echo", "hi"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert "hi" in proc.stdout
