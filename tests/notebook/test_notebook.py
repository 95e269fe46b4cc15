"""A real notebook, run headless by nbclient on an ipykernel kernel against the emulator.

The kernel is a separate process configured only through ``WONDER_*`` variables, as a user's
would be: cell 1 uses the blocking client (upsert, bind a card), later cells top-level
``await`` the async client and call the blocking one again. No cell may print a warning.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from wonder_async.testing import Emulator

YEAR = dt.datetime.now(dt.timezone.utc).year + 2
CARD_NUMBER = "4242424242424242"  # the emulator's card that binds without a challenge

CELLS = [
    f"""\
from wonder_sync import Card, ThreeDS, WonderClient

wonder = WonderClient()  # app id, key and URL from WONDER_* variables
customer = wonder.customers.upsert(reference_number="nb-1", name="Ada", phone="85212345678")
token = wonder.payment_tokens.create(
    customer.uuid,
    card=Card(number="{CARD_NUMBER}", exp_month=12, exp_year={YEAR}, holder_name="Ada"),
    three_ds=ThreeDS("https://shop.example/ok", "https://shop.example/fail"),
)
print("blocking:", customer.reference_number, token.is_usable, token)
""",
    """\
import wonder_async

async with wonder_async.WonderClient() as client:
    fetched = await client.customers.get(customer.uuid)
    tokens = await client.payment_tokens.list(customer.uuid)
print("async:", fetched.name, [t.token == token.token for t in tokens])
""",
    """\
import asyncio

await asyncio.sleep(0)
print("mixed:", wonder.echo("after await"), wonder.customers.get(customer.uuid).name)
wonder.close()
""",
]


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
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
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
    assert texts[0].startswith("blocking: nb-1 True PaymentToken(")
    assert texts[1] == "async: Ada [True]\n"
    assert texts[2] == "mixed: after await Ada\n"
    assert CARD_NUMBER not in "".join(texts)
    assert emu.stats["requests"]["payment_tokens.create"] == 1
