"""A TCP proxy that breaks connections between a client and the emulator, seeded.

It knows nothing of the SDK or the emulator beyond HTTP's request line: it injects the faults
a load balancer or a flaky network does, unknown to the gateway. Used by the fault-proxy
tests of charges, refunds, voids and billing runs.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from wonder_async._wire import Paths


class FaultProxy:
    """A TCP proxy in front of the emulator that injects faults per chunk of bytes, seeded.

    Towards the gateway a chunk may be cut (the connection closed before the request got there:
    nothing happened). Towards the client a chunk may be lost after the gateway answered (the
    connection reset: the request took effect, the client cannot know), truncated, or held back
    longer than the client's attempt timeout. Besides the random faults, the answer to every
    third charge, refund and void is lost, so the ambiguous case surely happens.
    """

    def __init__(self, upstream_port: int, seed: int) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FaultProxy:
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in self.connections:  # each one aborts both of its sockets as it ends
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        await self.server.wait_closed()
        await asyncio.sleep(0)  # the aborted transports close their sockets on this turn

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def _kind(self, chunk: bytes) -> str:
        line = chunk.split(b"\r\n", 1)[0]
        if Paths.OPEN_PAYMENTS.encode() in line:
            return "charge"
        if Paths.ORDER_REFUND.encode() in line:
            return "refund"
        if Paths.ORDER_VOID.encode() in line:
            return "void"
        return "other"

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        try:
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.transport.abort()
            self.connections.discard(task)
            return
        pending: list[tuple[str, int]] = []  # each request forwarded, not answered: kind, ordinal

        def abort() -> None:
            client_w.transport.abort()
            upstream_w.transport.abort()

        async def to_gateway() -> None:
            while chunk := await client_r.read(65536):
                if chunk[:4] in (b"POST", b"GET ", b"PUT ", b"DELE"):
                    if self.rng.random() < 0.05:
                        self.injected["request cut before the gateway"] += 1
                        abort()
                        return
                    kind = self._kind(chunk)
                    self.seen[kind] += 1
                    pending.append((kind, self.seen[kind]))
                upstream_w.write(chunk)
                await upstream_w.drain()
            upstream_w.close()

        async def to_client() -> None:
            while chunk := await upstream_r.read(65536):
                kind, ordinal = pending.pop(0) if pending and chunk[:5] == b"HTTP/" else ("", 1)
                roll = self.rng.random()
                if (kind in ("charge", "refund", "void") and ordinal % 3 == 0) or roll < 0.06:
                    self.injected["answer lost after the gateway acted"] += 1
                    abort()
                    return
                if roll < 0.10:
                    self.injected["answer truncated"] += 1
                    client_w.write(chunk[: len(chunk) // 2])
                    await client_w.drain()
                    abort()
                    return
                if roll < 0.13:
                    self.injected["answer held past the attempt timeout"] += 1
                    await asyncio.sleep(0.8)
                client_w.write(chunk)
                await client_w.drain()
            client_w.close()

        try:
            await asyncio.gather(to_gateway(), to_client(), return_exceptions=True)
        finally:  # every socket of this connection is closed when its task ends
            abort()
            self.connections.discard(task)


@contextmanager
def fault_proxy_in_thread(upstream_port: int, seed: int) -> Iterator[FaultProxy]:
    """A :class:`FaultProxy` on its own event-loop thread, for subprocess clients."""
    loop = asyncio.new_event_loop()
    proxy = FaultProxy(upstream_port, seed)
    listening = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        async with proxy:
            listening.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        assert listening.wait(30), "the fault proxy did not start"
        yield proxy
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
