"""The blocking client where a loop already runs (notebooks, Playwright), and Ctrl-C."""

from __future__ import annotations

import ast
import asyncio
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wonder_async.testing import Emulator
from wonder_sync import ConfigurationError, WonderClient


@pytest.fixture
def wonder(wonder_emulator_thread: Emulator) -> Iterator[WonderClient]:
    emu = wonder_emulator_thread
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as client:
        yield client


def _run_in_loop(fn: Callable[[], Any]) -> Any:
    """Run plain ``fn`` as a callback of a running loop, as a kernel or Playwright does."""
    loop = asyncio.new_event_loop()
    box: list[Any] = []

    def callback() -> None:
        try:
            box.append(fn())
        except BaseException as exc:
            box.append(exc)
        finally:
            loop.stop()

    loop.call_soon(callback)
    try:
        loop.run_forever()
    finally:
        loop.close()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def test_works_in_a_thread_whose_loop_runs_without_warning(wonder: WonderClient) -> None:
    """Plain code under a running loop (a notebook cell) gets answers and no warning."""

    def cell() -> list[str]:
        assert asyncio.get_running_loop().is_running()
        c = wonder.customers.upsert(reference_number="nb-1", name="N", phone="1")
        return [
            wonder.echo("cell"),
            c.reference_number,
            *(x.reference_number for x in wonder.customers.list()),
        ]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _run_in_loop(cell) == ["cell", "nb-1", "nb-1"]
        # A second thread with its own running loop, sharing the same client.
        result: list[Any] = []
        worker = threading.Thread(target=lambda: result.append(_run_in_loop(cell)))
        worker.start()
        worker.join()
        assert result == [["cell", "nb-1", "nb-1"]]


def test_top_level_await_code_does_not_warn(wonder: WonderClient) -> None:
    """Module-level code with top-level await (what IPython compiles a cell to) never warns."""
    source = "await asyncio.sleep(0)\nanswer = wonder.echo('top-level')\n"
    code = compile(source, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"asyncio": asyncio, "wonder": wonder}

    async def kernel() -> None:  # the kernel's own coroutine drives the cell
        await eval(code, namespace)  # noqa: S307 - a fixed source compiled above

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(kernel())
    assert namespace["answer"] == "top-level"


def test_called_from_a_coroutine_warns_once_naming_wonder_async(wonder: WonderClient) -> None:
    """Blocking calls written in an async def work but warn, once per client, at the caller."""

    async def handler() -> list[str]:
        return [wonder.echo("one"), wonder.with_options(max_retries=0).echo("two")]

    with pytest.warns(RuntimeWarning, match=r"handler\(\).*wonder_async") as record:
        assert asyncio.run(handler()) == ["one", "two"]
    assert len(record) == 1
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert asyncio.run(handler()) == ["one", "two"]  # once per client


def test_called_on_its_own_loop_thread_raises(wonder: WonderClient) -> None:
    """A call from the client's own loop thread would wait for itself: a clear error instead."""

    async def on_the_loop_thread() -> str:
        return wonder.echo("self")

    with pytest.raises(ConfigurationError, match="own event-loop thread"):
        wonder._portal.call(on_the_loop_thread)
    assert wonder.echo("after") == "after"


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="needs the main thread"
)
def test_ctrl_c_cancels_the_call_in_flight(wonder_emulator_thread: Emulator) -> None:
    """SIGINT while a call waits: KeyboardInterrupt at once, the request is cancelled."""
    emu = wonder_emulator_thread
    emu.faults.script("echo", ["latency@8s"])
    client = WonderClient(app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url)
    main = threading.main_thread().ident
    assert main is not None

    def press_ctrl_c() -> None:
        deadline = time.monotonic() + 10
        while emu.stats["requests"].get("echo", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        signal.pthread_kill(main, signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    shared = client._async._shared
    # Python's own Ctrl-C handler, also when started with SIGINT ignored (a background job of
    # a non-interactive shell, as in .ci/run's side-by-side passes).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with client:
            presser.start()
            with pytest.raises(KeyboardInterrupt):
                client.echo("slow")
            presser.join()
            assert emu.stats["requests"]["echo"] == 1  # the request was on the wire
            deadline = time.monotonic() + 4  # half the latency: only a cancel gets there
            while shared.inflight and time.monotonic() < deadline:
                time.sleep(0.01)
            assert shared.inflight == 0
            assert client.echo("next") == "next"  # the client goes on working
    finally:
        signal.signal(signal.SIGINT, previous)
