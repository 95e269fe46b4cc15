"""`wonder emulator` prints the dashboard's URL; `--no-dashboard` serves none."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request

import aiohttp
import pytest

from wonder_async.testing import Emulator

WONDER = [sys.executable, "-m", "wonder_async.cli"]


def _start(*extra: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start `wonder emulator --port 0`; return it and its lines up to base_url (and dashboard)."""
    proc = subprocess.Popen(
        [*WONDER, "emulator", "--port", "0", *extra], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    lines: dict[str, str] = {}
    while "base_url" not in lines:
        line = proc.stdout.readline()
        assert line, "the emulator exited before it listened"
        key, _, value = line.partition(" ")
        lines[key] = value.strip()
    if "--no-dashboard" not in extra:
        key, _, value = proc.stdout.readline().partition(" ")
        lines[key] = value.strip()
    return proc, lines


def _stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM it; return what else it printed."""
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    return rest


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback test URL
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_emulator_prints_the_dashboard_url_and_serves_it() -> None:
    """The printed dashboard URL opens the Customers page of that emulator."""
    proc, lines = _start()
    try:
        assert lines["dashboard"] == lines["base_url"] + "/"
        status, page = _get(lines["dashboard"])
        assert status == 200
        assert "<h1>Customers</h1>" in page
        assert "No customers yet." in page
    finally:
        _stop(proc)


def test_no_dashboard_serves_no_page_but_the_api_stays() -> None:
    """With --no-dashboard nothing is printed for it and / is 404; control endpoints work."""
    proc, lines = _start("--no-dashboard")
    try:
        assert "dashboard" not in lines
        assert _get(lines["base_url"] + "/")[0] == 404
        assert _get(lines["base_url"] + "/dashboard/faults")[0] == 404
        assert _get(lines["base_url"] + "/__emulator/stats")[0] == 200
    finally:
        rest = _stop(proc)
    assert "dashboard" not in rest


@pytest.mark.anyio
async def test_in_process_option_and_url() -> None:
    """Emulator(dashboard=False) has no dashboard_url and serves no page; the default has."""
    async with aiohttp.ClientSession() as session:
        async with Emulator(dashboard=False) as emu:
            assert emu.dashboard_url is None
            async with session.get(emu.base_url + "/") as resp:
                assert resp.status == 404
        async with Emulator() as emu:
            assert emu.dashboard_url == emu.base_url + "/"
            async with session.get(emu.dashboard_url) as resp:
                assert resp.status == 200
