"""Where the blocking client signs: a lone call in its calling thread; calls made while others
are in flight on the client's signing threads (at most one per core), not on every caller."""

from __future__ import annotations

import threading

from wonder_async.testing import Emulator
from wonder_sync import WonderClient

HANG = 30.0


def _signing_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "wonder-sign"}


def test_concurrent_blocking_calls_are_signed_on_the_clients_signing_threads(
    wonder_emulator_thread: Emulator,
) -> None:
    emu = wonder_emulator_thread
    assert _signing_threads() == set()
    with WonderClient(
        app_id=emu.app_id, private_key=emu.private_key_pem, base_url=emu.base_url, sign_threads=2
    ) as wonder:
        # One caller, one call at a time: signed in the calling thread, no signing thread.
        for i in range(3):
            assert wonder.customers.upsert(reference_number=f"alone{i}", name="A", phone="1")
        assert _signing_threads() == set()

        # Eight callers at once: the calls they make while others are in flight go to the
        # client's two signing threads; every call is answered (the emulator checks each
        # signature).
        start = threading.Barrier(8)
        answers: list[str] = []
        errors: list[BaseException] = []

        def caller(k: int) -> None:
            try:
                start.wait(HANG)
                for j in range(6):
                    c = wonder.customers.upsert(reference_number=f"c{k}-{j}", name="C", phone="1")
                    answers.append(c.reference_number or "")
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)

        callers = [threading.Thread(target=caller, args=(k,)) for k in range(8)]
        for t in callers:
            t.start()
        for t in callers:
            t.join(HANG)
        assert errors == []
        assert sorted(answers) == sorted(f"c{k}-{j}" for k in range(8) for j in range(6))
        assert 1 <= len(_signing_threads()) <= 2
    assert _signing_threads() == set()  # close() ended them
    assert emu.stats["requests"]["customers.upsert"] == 3 + 48
