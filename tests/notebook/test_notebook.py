"""A real notebook, run headless by nbclient on an ipykernel kernel against the emulator.

The cells are the sections of ``examples/notebook.ipy``, which docs/guides/notebooks.md shows.
The kernel is a separate process configured only through ``WONDER_*`` variables, as a user's
would be: cell 1 uses the blocking client (upsert, bind a card), later cells top-level
``await`` the async client and call the blocking one again. No cell may print a warning.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

from tests.e2e.test_examples import NOTEBOOK_CELLS
from wonder_async.testing import Emulator

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebook.ipy"
CARD_NUMBER = "4242424242424242"  # the emulator's card that binds without a challenge
_SECTION = re.compile(r"^# --8<-- \[start:(\w+)\]\n(.*?)^# --8<-- \[end:\1\]$", re.M | re.S)


def _cells() -> list[str]:
    """The sections of examples/notebook.ipy (the guide shows the same ones), in order."""
    cells = [m[2] for m in _SECTION.finditer(NOTEBOOK.read_text())]
    assert len(cells) == 3
    return cells


def _shown(msg: dict[str, Any]) -> str:
    """What a kernel message shows the user: a stream's text, or an error's name and value."""
    content = msg["content"]
    if msg["msg_type"] == "error":
        return f"{content['ename']}: {content['evalue']}"
    return str(content.get("text", ""))


@pytest.mark.timeout(180)
def test_notebook_runs_blocking_and_async_clients(
    wonder_emulator_thread: Emulator, tmp_path: Path
) -> None:
    """Every cell runs in a real kernel, prints what it should and nothing on stderr."""
    emu = wonder_emulator_thread
    env = {
        **os.environ,
        "WONDER_APP_ID": emu.app_id,
        "WONDER_PRIVATE_KEY": emu.private_key_pem,
        "WONDER_BASE_URL": emu.base_url,
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "PYTHONWARNINGS": "default",  # a warning would show up in the cell's stderr
    }
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in _cells()]
    client = NotebookClient(
        nb,
        timeout=60,
        startup_timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=env)

    outputs: list[list[dict[str, Any]]] = [cell.outputs for cell in nb.cells]
    streams = [
        [(o["name"], o["text"]) for o in cell if o["output_type"] == "stream"] for cell in outputs
    ]
    assert [o for cell in outputs for o in cell if o["output_type"] != "stream"] == []
    assert [s for cell in streams for s in cell if s[0] != "stdout"] == []  # no warnings
    texts = ["".join(text for _, text in cell) for cell in streams]
    assert texts == list(NOTEBOOK_CELLS.values())  # also shown on docs/guides/notebooks.md
    assert CARD_NUMBER not in "".join(texts)
    assert emu.stats["requests"]["payment_tokens.create"] == 1


@pytest.mark.timeout(180)
def test_interrupting_the_kernel_cancels_the_call(
    wonder_emulator_thread: Emulator, tmp_path: Path
) -> None:
    """Jupyter's stop button during a slow blocking call: KeyboardInterrupt, nothing in flight."""
    emu = wonder_emulator_thread
    emu.faults.script("echo", ["latency@8s"])
    env = {
        **os.environ,
        "WONDER_APP_ID": emu.app_id,
        "WONDER_PRIVATE_KEY": emu.private_key_pem,
        "WONDER_BASE_URL": emu.base_url,
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    km, kc = start_new_kernel(startup_timeout=120, kernel_name="python3", env=env, cwd=tmp_path)
    try:
        kc.execute_interactive("from wonder_sync import WonderClient\nwonder = WonderClient()")
        # The interrupt is expected: stop_on_error=False keeps the kernel from aborting the next
        # request (ipykernel aborts requests queued behind a failed one, and under load ours can
        # arrive inside that window).
        msg_id = kc.execute("wonder.echo('slow')", stop_on_error=False)
        deadline = time.monotonic() + 60
        while emu.stats["requests"].get("echo", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=60)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert (reply["content"]["status"], reply["content"]["ename"]) == (
            "error",
            "KeyboardInterrupt",
        )
        printed: list[str] = []
        after = kc.execute_interactive(
            "import time\n"
            "for _ in range(200):  # the in-flight count, polled for at most 4 s\n"
            "    if not wonder._async._shared.inflight:\n"
            "        break\n"
            "    time.sleep(0.02)\n"
            "print(wonder._async._shared.inflight, wonder.echo('next'))\n"
            "wonder.close()",
            timeout=60,
            output_hook=lambda msg: printed.append(_shown(msg)),
        )
        assert after["content"]["status"] == "ok"
        assert "".join(printed) == "0 next\n"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
