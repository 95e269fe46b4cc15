"""What the optional OpenTelemetry support costs: signed upserts/s at concurrency 64.

Three client processes, each ``wonder_async.WonderClient(...).customers.upsert(...)`` against
``peer.py`` (its own process, pinned to the last core):

``no-otel``
    ``opentelemetry`` cannot be imported (a ``sys.meta_path`` blocker): as without the extra.
``api-no-sdk``
    the API is installed, the application configured nothing (the goal: within 3 %).
``sdk``
    the OpenTelemetry SDK configured the way its docs show: a ``TracerProvider`` sampling
    everything into a ``BatchSpanProcessor`` (its exporter discards), and a ``MeterProvider``
    with a metric reader. Printed: the cost per call in microseconds (wall and client CPU).

The workers stay up for the whole run; rounds are interleaved (the start rotates each round),
each worker runs the same number of calls per round, and ratios are per round against
``no-otel`` of that round, then min/median/max. Client CPU per call (all threads of the
worker) is printed next to throughput: on a shared, busy machine it is the steadier of the
two. The ``api-no-sdk`` worker finally alternates, in one process, between the pipeline's
switch off (as without the extra) and on, for a pairwise comparison without the differences
between processes. Each worker also times the telemetry hooks alone (start and end of a
call, one signing record; no I/O) in a tight loop: the cost the pipeline adds per call,
without the noise.
``--null-signer`` takes the RSA signing (~0.7 ms of CPU per call) out, which makes the
telemetry overhead a larger share.

    python benchmarks/otel.py                # 15 rounds x 1000 calls per mode
    python benchmarks/otel.py --quick        # 2 rounds x 300 calls
    python benchmarks/otel.py --null-signer
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODES: Final = ("no-otel", "api-no-sdk", "sdk")
CONCURRENCY: Final = 64


# --- worker process ----------------------------------------------------------------------


class _BlockOpenTelemetry:
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def _configure(mode: str) -> None:
    if mode == "no-otel":
        sys.meta_path.insert(0, _BlockOpenTelemetry())
        return
    if mode != "sdk":
        return
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Discard(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Discard()))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))


async def _serve(mode: str, base_url: str, concurrency: int, null_signer: bool) -> None:
    _configure(mode)
    # Imported after the blocker / the providers, as an application would.
    from _common import APP_ID, NullSigner, customer, make_signer

    from wonder_async import WonderClient

    signer = make_signer()
    async with WonderClient(app_id=APP_ID, private_key=signer._key, base_url=base_url) as client:
        if null_signer:
            client._shared.signer = NullSigner(signer)  # type: ignore[assignment]
        counter = 0

        async def run(n: int) -> None:
            nonlocal counter
            end = counter + n
            start_at = counter
            counter = end
            next_i = start_at

            async def lane() -> None:
                nonlocal next_i
                while next_i < end:
                    i = next_i
                    next_i += 1
                    await client.customers.upsert(**customer(i))

            await asyncio.gather(*(lane() for _ in range(concurrency)))

        await run(concurrency * 4)  # warm up: connections, pool threads, lazy imports
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        print(json.dumps({"ready": mode, "hooks_us": _hook_cost(base_url)}), flush=True)

        async def measure(n: int) -> dict[str, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            await run(n)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            return {"rps": n / wall, "cpu_us": cpu / n * 1e6}

        while line := await reader.readline():
            words = line.decode().split()
            command, n = words[0], int(words[1])
            if command == "ab":
                # Same process, alternating the pipeline's one switch: TELEMETRY None (as
                # without the extra) or the unconfigured link. Pairs share the machine's state.
                from wonder_async import _telemetry

                linked = _telemetry.TELEMETRY
                pairs = []
                for r in range(int(words[2])):
                    pair: dict[str, dict[str, float]] = {}
                    for off in (True, False) if r % 2 else (False, True):
                        _telemetry.TELEMETRY = None if off else linked
                        pair["none" if off else "api"] = await measure(n)
                    pairs.append(pair)
                _telemetry.TELEMETRY = linked
                print(json.dumps({"pairs": pairs}), flush=True)
                continue
            result: dict[str, Any] = await measure(n)
            result["otel"] = sorted(
                {m.split(".")[1] for m in sys.modules if m.startswith("opentelemetry.")}
            )
            print(json.dumps(result), flush=True)


def _hook_cost(base_url: str, n: int = 20000) -> float:
    """CPU microseconds the pipeline's telemetry hooks take per call, no I/O."""
    from _common import PATH

    from wonder_async import _telemetry
    from wonder_async._request import Request

    request = Request("POST", PATH, b"{}", operation="customers.upsert")

    def one() -> None:
        tel = _telemetry.TELEMETRY
        call = tel.start_call(request, base_url) if tel is not None else None
        if call is not None:
            call.signed(0.0007)
            call.finish(1, status=200, request_id="0b5fb1f7-6c4c-4d41-9c1d-2a7b4a0d2b11")

    for _ in range(n // 10):
        one()
    started = time.process_time()
    for _ in range(n):
        one()
    return (time.process_time() - started) / n * 1e6


# --- coordinator -------------------------------------------------------------------------


class Worker:
    def __init__(self, mode: str, base_url: str, concurrency: int, null_signer: bool) -> None:
        cmd = [sys.executable, __file__, "--worker", mode, "--base-url", base_url]
        cmd += ["--concurrency", str(concurrency)] + (["--null-signer"] if null_signer else [])
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        self.mode = mode
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def _read(self) -> dict[str, Any]:
        out: IO[str] | None = self.proc.stdout
        assert out is not None
        line = out.readline()
        if not line:
            raise RuntimeError(f"worker {self.mode} exited ({self.proc.wait()})")
        result: dict[str, Any] = json.loads(line)
        return result

    def ready(self) -> float:
        hooks_us: float = self._read()["hooks_us"]
        return hooks_us

    def run(self, n: int, command: str = "run") -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{command} {n}\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _fmt(values: tuple[float, float, float], spec: str) -> str:
    return " / ".join(format(v, spec) for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 short rounds")
    parser.add_argument("--rounds", type=int, default=None, help="measured rounds")
    parser.add_argument("--requests", type=int, default=None, help="calls per mode and round")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--null-signer", action="store_true", help="take RSA signing out")
    parser.add_argument("--server-cpu", type=int, default=None, help="pin the peer (-1: no)")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        asyncio.run(_serve(args.worker, args.base_url, args.concurrency, args.null_signer))
        return 0

    from _common import default_server_cpu, peer_process, spread

    rounds = args.rounds or (2 if args.quick else 15)
    n = args.requests or (300 if args.quick else 1000)
    cpu = default_server_cpu() if args.server_cpu is None else args.server_cpu
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    hooks: dict[str, float] = {}
    with peer_process(None if cpu == -1 else cpu) as peer:
        workers = [Worker(m, peer.base_url, args.concurrency, args.null_signer) for m in MODES]
        try:
            for w in workers:
                hooks[w.mode] = w.ready()
            for r in range(rounds):
                for k in range(len(workers)):
                    w = workers[(r + k) % len(workers)]
                    results[w.mode].append(w.run(n))
            ab_pairs = workers[MODES.index("api-no-sdk")].run(2 * rounds, f"ab {n // 2}")["pairs"]
        finally:
            for w in workers:
                w.close()

    print(
        f"OpenTelemetry cost: signed upserts at c={args.concurrency} against peer.py, "
        f"{rounds} rounds x {n} calls per mode"
        + (" (signing replaced by a null signer)" if args.null_signer else "")
    )
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}; min / median / max over rounds"
    )
    head = ("req/s", "client CPU us/call", "req/s vs no-otel", "CPU/call vs no-otel")
    print(f"{'mode':<11}" + "".join(f" {h:>24}" for h in head) + f" {'hooks us/call':>14}")
    base = results["no-otel"]
    summary: dict[str, Any] = {}
    for mode in MODES:
        rows = results[mode]
        pairs = list(zip(rows, base, strict=True))
        summary[mode] = {
            "rps": spread([row["rps"] for row in rows]),
            "cpu_us": spread([row["cpu_us"] for row in rows]),
            "ratio": spread([row["rps"] / b["rps"] for row, b in pairs]),
            "cpu_ratio": spread([row["cpu_us"] / b["cpu_us"] for row, b in pairs]),
            "otel": rows[-1]["otel"],
        }
        cells = (
            _fmt(summary[mode]["rps"], "7.0f"),
            _fmt(summary[mode]["cpu_us"], "7.1f"),
            _fmt(summary[mode]["ratio"], ".3f"),
            _fmt(summary[mode]["cpu_ratio"], ".3f"),
        )
        print(f"{mode:<11}" + "".join(f" {c:>24}" for c in cells) + f" {hooks[mode]:>14.2f}")
    sdk_pairs = list(zip(results["sdk"], base, strict=True))
    wall = [(1 / s["rps"] - 1 / b["rps"]) * 1e6 for s, b in sdk_pairs]
    cpu_cost = [s["cpu_us"] - b["cpu_us"] for s, b in sdk_pairs]
    print(
        f"sdk cost per call: hooks {hooks['sdk']:.1f} us CPU in a tight loop; in the run "
        f"{_fmt(spread(cpu_cost), '.1f')} us client CPU, {_fmt(spread(wall), '.1f')} us wall"
    )
    api = summary["api-no-sdk"]
    print(
        f"goal api-no-sdk within 3% of no-otel: req/s median ratio {api['ratio'][1]:.3f} "
        f"({'met' if api['ratio'][1] >= 0.97 else 'NOT met'}), CPU/call median ratio "
        f"{api['cpu_ratio'][1]:.3f}, hooks {hooks['api-no-sdk']:.2f} us/call"
    )
    ab_rps = spread([p["api"]["rps"] / p["none"]["rps"] for p in ab_pairs])
    ab_cpu = spread([p["api"]["cpu_us"] / p["none"]["cpu_us"] for p in ab_pairs])
    print(
        f"same-process A/B in the api-no-sdk worker ({len(ab_pairs)} pairs x {n // 2} calls, "
        f"TELEMETRY None vs linked): req/s ratio {_fmt(ab_rps, '.3f')}, "
        f"CPU/call ratio {_fmt(ab_cpu, '.3f')}"
    )
    print(
        "opentelemetry packages loaded: "
        + ", ".join(f"{m}={summary[m]['otel'] or 'none'}" for m in MODES)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
