"""Where the CPU of a signed request goes between the event loop and the signing threads.

Runs ``run.py``'s contenders against the same minimal peer with several signers and reports,
per request: CPU of the loop thread and of the signing threads (each thread's own CPU clock),
the time they waited on a run queue (runnable, but the cores were busy: Linux schedstat),
user/system time, the loop thread's busy share of wall time, and how the hand-over batches
(loop wake-ups by the signing threads, hand-overs to them, thread wake-ups). With ``rsa-timed``
every signature also records its wall and thread-CPU time and the part spent off the CPU
inside it (waiting to re-take the GIL after ``os.urandom`` / the RSA call, or preempted).

Signers: ``rsa`` (the SDK's Signer), ``rsa-timed`` (the same steps, timed), ``null`` (constant
headers), ``sleep`` (constant headers after ``time.sleep`` of about one RSA signature: the
hand-over's timing without its CPU).

    python benchmarks/handover.py                                   # wonder_async, c=16 and 64
    python benchmarks/handover.py --contenders wonder_async,floor --signers rsa,null --rounds 3
    python benchmarks/handover.py --micro              # the Python around one signature
    python benchmarks/handover.py --switch-interval 0.0005   # GIL experiment (benchmark only)

Here: wiring a contender to a signer, one measurement, the micro steps and the tables. The
probes it measures with (the experiment signers, per-thread CPU and run-queue readers, the
counter of the hand-over's events) are in ``_handover_probes.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import itertools
import os
import statistics
import sys
import threading
import time
import timeit
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PATH, default_server_cpu, drive_async, make_signer, peer_process, upsert_body
from _handover_probes import Counts, NiceSigner, TimedSigner, signer_for, thread_cpu
from contenders import AsyncContender, FloorAiohttp, WonderAsync

from wonder_async import _sign_pool as sign_pool_module
from wonder_async import _signing
from wonder_async._sign_pool import SignPool
from wonder_async._signing import ALGORITHM, Signer


def _make(contender: str, signer: Any, real: Signer, threads: int) -> AsyncContender:
    if contender == "wonder_async":
        c = WonderAsync(real)
        c._swap_signer = signer  # type: ignore[attr-defined]
        c._threads = threads  # type: ignore[attr-defined]
        return c
    if contender == "floor":
        f = FloorAiohttp(signer)
        f.batch.pool = ThreadPoolExecutor(threads, thread_name_prefix="floor-sign")
        return f
    raise SystemExit(f"unknown contender {contender!r}")


async def _start(c: AsyncContender, base_url: str, counts: Counts) -> None:
    await c.start(base_url)
    if isinstance(c, WonderAsync):
        assert c.client is not None
        c.client._shared.signer = c._swap_signer  # type: ignore[attr-defined]
        # The pool is made on the first concurrent call: make it now, to wrap its hooks.
        pool = c.client._shared._pool = SignPool(
            c.client._shared.signer,
            c._threads,  # type: ignore[attr-defined]
        )
        counts.wrap_pool(pool)
    elif isinstance(c, FloorAiohttp):
        counts.wrap_batch(c.batch)


def measure(
    loop: asyncio.AbstractEventLoop,
    base_url: str,
    contender: str,
    signer_name: str,
    real: Signer,
    conc: int,
    n: int,
    rsa_seconds: float,
    threads: int,
    nice: int,
    random_batch: int,
    deliver_batch: int,
) -> dict[str, Any]:
    signer = signer_for(signer_name, real, rsa_seconds)
    timed = signer if isinstance(signer, TimedSigner) else None
    # The signing threads lowered by ``nice`` (the signer wrapper does it on their first
    # signature); wonder_async's pool tuning through the module's defaults.
    sign_pool_module._RANDOM_BATCH = random_batch  # type: ignore[misc]
    sign_pool_module._DELIVER_BATCH = deliver_batch  # type: ignore[misc]
    if nice:
        signer = NiceSigner(signer, nice)
    counts = Counts()
    c = _make(contender, signer, real, threads)
    loop.run_until_complete(_start(c, base_url, counts))
    try:
        c.prepare(conc)
        loop.run_until_complete(drive_async(c.one, 300, conc))  # warm-up: threads started
        if timed is not None:
            timed.samples.clear()
        counts.__init__()  # type: ignore[misc]
        gc.collect()
        me = threading.get_ident()
        threads0, times0 = thread_cpu(), os.times()
        wall0, loop0 = time.perf_counter(), time.thread_time()
        loop.run_until_complete(drive_async(c.one, n, conc))
        wall, loop_cpu = time.perf_counter() - wall0, time.thread_time() - loop0
        threads1, times1 = thread_cpu(), os.times()
    finally:
        loop.run_until_complete(c.close())
    signing = [
        (
            cpu - threads0.get(ident, (name, 0.0, 0.0))[1],
            delay - threads0.get(ident, (name, 0.0, 0.0))[2],
        )
        for ident, (name, cpu, delay) in threads1.items()
        if ident != me and "-sign" in name
    ]
    sign_cpu = sum(s[0] for s in signing)
    sign_delay = sum(s[1] for s in signing)
    loop_delay = threads1[me][2] - threads0[me][2]
    per = 1e6 / n
    row: dict[str, Any] = {
        "contender": contender,
        "signer": signer_name,
        "conc": conc,
        "rps": n / wall,
        "cpu": (times1.user - times0.user + times1.system - times0.system) * per,
        "system": (times1.system - times0.system) * per,
        "loop": loop_cpu * per,
        "sign_threads": sign_cpu * per,
        "loop_busy": loop_cpu / wall,
        "loop_runq": loop_delay * per,
        "sign_runq": sign_delay * per,
        "per_delivery": n / counts.deliveries if counts.deliveries else float("nan"),
        "per_hand_over": n / counts.hand_overs if counts.hand_overs else float("nan"),
        "wakes_per_req": counts.wakes / n,
    }
    if timed is not None and timed.samples:
        s = timed.samples
        row["sig_wall"] = statistics.mean(x[0] for x in s) * 1e6
        row["sig_cpu"] = statistics.mean(x[1] for x in s) * 1e6
        row["rsa_wall"] = statistics.mean(x[2] for x in s) * 1e6
        row["rsa_cpu"] = statistics.mean(x[3] for x in s) * 1e6
    return row


def micro(real: Signer) -> None:
    """The Python work around one RSA signature, on one thread, no contention (us)."""
    body = upsert_body(1)
    rt = _signing._current_request_time()
    nonce = _signing.new_nonce()
    message = _signing.signature_message(
        request_time=rt, algorithm=ALGORITHM, nonce=nonce, method="POST", uri=PATH, body=body
    )
    raw = real._key.sign(message.encode(), real._padding, real._hash)
    random = os.urandom(40)

    def best(stmt: Callable[[], object], number: int = 2000) -> float:
        return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6

    steps = {
        "request time (cached per second)": lambda: _signing._current_request_time(),
        "os.urandom(40)": lambda: os.urandom(40),
        "nonce from the random bytes": lambda: _signing._nonce_from(random[:24]),
        "HMAC chain (signature_message)": lambda: _signing.signature_message(
            request_time=rt, algorithm=ALGORITHM, nonce=nonce, method="POST", uri=PATH, body=body
        ),
        "header dict (b64 + uuid text + f-string)": lambda: {
            "Credential": f"{real.app_id}/{rt}/{ALGORITHM}",
            "Nonce": nonce,
            "Signature": base64.b64encode(raw).decode(),
            "X-Request-ID": _signing._uuid4_text(random[24:]),
        },
        "RSA-2048 sign (GIL released)": lambda: real._key.sign(
            message.encode(), real._padding, real._hash
        ),
        "Signer.sign (all of it)": lambda: real.sign("POST", PATH, body),
    }
    print("The work of one signature, one thread, no contention (best of 5, us):")
    for name, fn in steps.items():
        number = 200 if "RSA" in name or "all" in name else 20000
        print(f"  {best(fn, number):8.2f}  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contenders", default="wonder_async")
    parser.add_argument("--signers", default="rsa-timed,sleep,null")
    parser.add_argument("--concurrency", default="16,64")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--switch-interval", type=float, default=None)
    parser.add_argument(
        "--sign-threads", default=str(os.cpu_count() or 1), help="comma-separated counts"
    )
    parser.add_argument(
        "--nice",
        default="0",
        help="comma-separated nice increments of the signing threads (an experiment: not adopted)",
    )
    parser.add_argument(
        "--random-batch",
        default=str(sign_pool_module._RANDOM_BATCH),
        help="comma-separated: signatures per os.urandom read on wonder_async's signing threads",
    )
    parser.add_argument(
        "--deliver-batch",
        default=str(sign_pool_module._DELIVER_BATCH),
        help="comma-separated: signatures wonder_async's threads collect before waking the loop "
        "while more jobs wait",
    )
    parser.add_argument("--uvloop", action="store_true", help="run the loop on uvloop")
    parser.add_argument("--micro", action="store_true", help="only the per-signature micro steps")
    args = parser.parse_args(argv)

    real = make_signer()
    if args.micro:
        micro(real)
        return 0
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    t0 = time.perf_counter()
    for _ in range(50):
        real.sign("POST", PATH, b"{}")
    rsa_seconds = (time.perf_counter() - t0) / 50
    if args.uvloop:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    print(
        f"switch interval {sys.getswitchinterval() * 1e3:g} ms, loop {type(loop).__module__}, "
        f"sleep signer {rsa_seconds * 1e6:.0f} us, load average {os.getloadavg()[0]:.2f}"
    )
    head = (
        f"{'contender':<13}{'signer':<10}{'th':>2} {'nice':>4} {'rnd':>3} {'dlv':>3} {'c':>3} "
        f"{'req/s':>6} "
        f"{'CPU/req':>7} {'system':>6} {'loop':>5} {'signers':>7} {'busy':>5} {'req/wake':>8} "
        f"{'req/hand':>8} {'wakes/req':>9} {'runq loop/sign':>14} "
        f"{'sig wall/cpu':>13} {'rsa wall/cpu':>13}"
    )
    print(head + "\n" + "-" * len(head))
    variants = list(
        itertools.product(
            [int(c) for c in args.concurrency.split(",")],
            args.contenders.split(","),
            args.signers.split(","),
            [int(t) for t in args.sign_threads.split(",")],
            [int(x) for x in args.nice.split(",")],
            [int(x) for x in args.random_batch.split(",")],
            [int(x) for x in args.deliver_batch.split(",")],
        )
    )
    rows: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    try:
        with peer_process(default_server_cpu()) as peer:
            for rnd in range(args.rounds):
                for conc, contender, signer_name, threads, nice, batch, dbatch in variants:
                    r = measure(
                        loop,
                        peer.base_url,
                        contender,
                        signer_name,
                        real,
                        conc,
                        args.requests,
                        rsa_seconds,
                        threads,
                        nice,
                        batch,
                        dbatch,
                    )
                    timed = (
                        f"{r['sig_wall']:6.0f}/{r['sig_cpu']:<6.0f} "
                        f"{r['rsa_wall']:6.0f}/{r['rsa_cpu']:<6.0f}"
                        if "sig_wall" in r
                        else ""
                    )
                    print(
                        f"{contender:<13}{signer_name:<10}{threads:>2} {nice:>4} {batch:>3} "
                        f"{dbatch:>3} {conc:>3} "
                        f"{r['rps']:>6.0f} {r['cpu']:>7.0f} {r['system']:>6.0f} "
                        f"{r['loop']:>5.0f} {r['sign_threads']:>7.0f} {r['loop_busy']:>5.0%} "
                        f"{r['per_delivery']:>8.1f} {r['per_hand_over']:>8.1f} "
                        f"{r['wakes_per_req']:>9.2f} "
                        f"{r['loop_runq']:>6.0f}/{r['sign_runq']:<7.0f} {timed}",
                        flush=True,
                    )
                    rows.setdefault(
                        (conc, contender, signer_name, threads, nice, batch, dbatch), []
                    ).append(r)
                print(f"  round {rnd + 1} done, load average {os.getloadavg()[0]:.2f}")
    finally:
        loop.close()
    if args.rounds > 1:
        _print_medians(rows)
    return 0


def _print_medians(rows: dict[tuple[Any, ...], list[dict[str, Any]]]) -> None:
    """Per variant: the median over rounds, and req/s and CPU/req as a ratio to the first
    variant of the same contender and concurrency in the same round (min/med/max)."""
    print("\nmedians over rounds (ratios per round vs the first variant listed)")
    print(
        f"{'c':>3} {'contender':<13}{'signer':<10}{'th':>2} {'nice':>4} {'rnd':>3} {'dlv':>3} "
        f"{'req/s':>6} {'CPU/req':>7} {'loop':>5} {'signers':>7} {'runq loop':>9}  "
        f"{'req/s ratio':>15} {'CPU/req ratio':>15}"
    )
    firsts: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for key, rs in rows.items():
        base = firsts.setdefault((key[0], key[1]), rs)
        med = {
            k: statistics.median(r[k] for r in rs)
            for k in ("rps", "cpu", "loop", "sign_threads", "loop_runq")
        }
        rps = [a["rps"] / b["rps"] for a, b in zip(rs, base, strict=True)]
        cpu = [a["cpu"] / b["cpu"] for a, b in zip(rs, base, strict=True)]
        c, contender, signer_name, threads, nice, batch, dbatch = key
        print(
            f"{c:>3} {contender:<13}{signer_name:<10}{threads:>2} {nice:>4} {batch:>3} {dbatch:>3} "
            f"{med['rps']:>6.0f} {med['cpu']:>7.0f} {med['loop']:>5.0f} "
            f"{med['sign_threads']:>7.0f} {med['loop_runq']:>9.0f}  "
            f"{min(rps):.2f}/{statistics.median(rps):.2f}/{max(rps):.2f}  "
            f"{min(cpu):.2f}/{statistics.median(cpu):.2f}/{max(cpu):.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
