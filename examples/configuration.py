"""Configure a client from WONDER_* environment variables, as a deployed service does.

``python examples/configuration.py`` points the variables at a local emulator; in production
your deployment sets them and the code stays the same.
"""

import asyncio
import os
import tempfile
from pathlib import Path

from wonder_async import ConfigurationError, WonderClient
from wonder_async.testing import Emulator


async def use_client() -> None:
    async with WonderClient() as wonder:  # everything comes from the environment
        # A signed, side-effect-free call: checks the AppID, the key and your clock.
        print("echo:", await wonder.echo("Hello,Wonder!"))

        # Per-call settings share the client's connection pool and key.
        impatient = wonder.with_options(timeout=5, max_retries=0)
        print("echo with a 5 s deadline:", await impatient.echo("quick"))


def main() -> None:
    with Emulator.in_thread() as emu, tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp, "private_key.pem")  # in production: the file make_keys.sh wrote
        key_file.write_text(emu.private_key_pem or "")
        os.environ["WONDER_APP_ID"] = emu.app_id  # the AppID from the portal
        os.environ["WONDER_PRIVATE_KEY_FILE"] = str(key_file)
        os.environ["WONDER_BASE_URL"] = emu.base_url  # omit it and set WONDER_ENVIRONMENT
        asyncio.run(use_client())

    del os.environ["WONDER_PRIVATE_KEY_FILE"]
    try:
        WonderClient()
    except ConfigurationError as exc:  # raised at construction, before anything is sent
        print("without a key:", exc)


main()
