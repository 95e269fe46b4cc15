"""The blocking client against the emulator: every resource, threads, loops, close, fork."""

from __future__ import annotations

import datetime as dt
import gc
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from wonder_sync import (
    Card,
    ConfigurationError,
    NotFoundError,
    ThreeDS,
    ValidationError,
    WonderClient,
)

YEAR = dt.datetime.now(dt.timezone.utc).year + 2
THREE_DS = ThreeDS("https://shop.example/ok", "https://shop.example/fail")


@pytest.fixture
def wonder(wonder_emulator_thread: Any) -> Iterator[WonderClient]:
    emu = wonder_emulator_thread
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as client:
        yield client


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_every_resource_method(wonder: WonderClient) -> None:
    """Each resource method works without await and returns the same models."""
    assert wonder.echo("ping") == "ping"
    c = wonder.customers.upsert(reference_number="s-1", name="N", phone="1")
    assert wonder.customers.upsert(reference_number="s-1", name="M", phone="1").uuid == c.uuid
    assert c.uuid is not None
    assert wonder.customers.get(c.uuid).name == "M"
    assert wonder.customers.get_by_reference("s-1").uuid == c.uuid
    assert wonder.customers.update(c.uuid, email="x@example.com").email == "x@example.com"
    assert [x.uuid for x in wonder.customers.list(page_size=1)] == [c.uuid]
    card = Card(number="4000000000003220", exp_month=1, exp_year=YEAR, holder_name="T")
    token = wonder.payment_tokens.create(c.uuid, card=card, three_ds=THREE_DS)
    assert token.is_pending
    assert token.verify_url is not None
    assert token.token is not None
    form = urllib.parse.urlencode({"result": "success"}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(urllib.request.Request(token.verify_url, data=form, method="POST"))  # noqa: S310 - http URL from the emulator
    assert info.value.code == 303
    info.value.close()
    assert wonder.payment_tokens.wait(c.uuid, token, timeout=5, interval=0.05).is_usable
    assert wonder.customers.get_by_token(token.token).uuid == c.uuid
    assert [t.token for t in wonder.payment_tokens.list(c.uuid)] == [token.token]
    assert wonder.payment_tokens.check(c.uuid, token.token).state == "success"
    order = wonder.orders.create(
        reference_number="so-1", charge_fee="5.00", currency="HKD", customer_uuid=c.uuid
    )
    assert wonder.orders.get(number=order.number).reference_number == "so-1"
    wonder.payment_tokens.delete(c.uuid, token.token)
    with pytest.raises(NotFoundError):
        wonder.payment_tokens.check(c.uuid, token.token)
    results = list(
        wonder.customers.upsert_many(
            [{"reference_number": f"m-{i}", "name": "N", "phone": "1"} for i in range(10)]
            + [{"reference_number": "m-bad", "name": "N"}],
            concurrency=4,
        )
    )
    assert sorted(r.ok for r in results) == [False] + [True] * 10
    with pytest.raises(ValidationError):
        wonder.customers.upsert(reference_number="", name="N", phone="1")


def test_sixteen_threads_share_one_client(wonder_emulator_thread: Any) -> None:
    """16 threads x 1,000 calls on one client: no error, no thread or socket left after close."""
    emu = wonder_emulator_thread
    before_threads = _threads()
    before_fds = len(os.listdir("/proc/self/fd"))
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url
    ) as client:

        def work(n: int) -> set[str]:
            uuids = set()
            for i in range(1000):
                if i % 10:
                    c = client.customers.get_by_reference(f"t-{i % 20}") if i > 20 else None
                    if c is None:
                        c = client.customers.upsert(
                            reference_number=f"t-{i % 20}", name="N", phone="1"
                        )
                else:
                    c = client.customers.upsert(
                        reference_number=f"t-{i % 20}", name=f"{n}", phone="1"
                    )
                uuids.add(c.uuid or "")
            return uuids

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(work, range(16)))
    assert len(set().union(*results)) == 20
    gc.collect()
    assert _threads() <= before_threads, _threads() - before_threads
    # The emulator shares this process: its side of each connection closes a moment later.
    deadline = time.monotonic() + 5
    while len(os.listdir("/proc/self/fd")) > before_fds and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(os.listdir("/proc/self/fd")) <= before_fds


def test_use_after_close_raises_and_close_is_idempotent(wonder_emulator_thread: Any) -> None:
    """After close(), calls raise ConfigurationError; closing twice is fine."""
    emu = wonder_emulator_thread
    client = WonderClient(app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url)
    assert client.echo() == "Hello,Wonder!"
    client.close()
    client.close()
    with pytest.raises(ConfigurationError, match="closed"):
        client.echo()


def test_early_break_from_iterator_is_clean(wonder: WonderClient) -> None:
    """Breaking out of customers.list() early closes the underlying async generator."""
    for i in range(5):
        wonder.customers.upsert(reference_number=f"e-{i}", name="N", phone="1")
    for _customer in wonder.customers.list(page_size=2):
        break
    assert len(list(wonder.customers.list(page_size=2))) == 5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_gets_a_working_client(wonder: WonderClient) -> None:
    """After fork, the child's calls work on a fresh loop; the parent's client still works."""
    assert wonder.echo("parent") == "parent"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            code = 0 if wonder.echo("child") == "child" else 1
        finally:
            os.write(write, bytes([code]))
            os._exit(code)
    os.close(write)
    status = os.read(read, 1)
    os.close(read)
    _, exit_status = os.waitpid(pid, 0)
    assert status == b"\x00"
    assert os.waitstatus_to_exitcode(exit_status) == 0
    assert wonder.echo("parent again") == "parent again"
