"""A minimal keep-alive HTTP/1.1 peer that answers every request with one pre-rendered envelope.

It exists so the benchmark measures the *client*: raw asyncio ``Protocol``, no HTTP library,
no JSON, no signature check (verifying signatures is the emulator's job). It parses just enough
of each request to find its end (``Content-Length``) and whether to close (``Connection:
close``); pipelined requests are answered in order with one write.

With ``--emulator-public-key PEM --app-id ID`` it serves the real, signature-checking
``wonder_async.testing.Emulator`` instead (an optional, much heavier server).

Run as ``python benchmarks/peer.py [--port 0] [--cpu N]``; it prints ``PORT <n>`` once it
listens and serves until stdin closes (so it never outlives the benchmark) or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Final

_CUSTOMER: Final = {
    "uuid": "0b5fb1f7-6c4c-4d41-9c1d-2a7b4a0d2b11",
    "reference_number": "bench",
    "name": "Tai Man",
    "phone": "12345678",
    "email": "tm@example.com",
    "dial_code": "852",
    "company_name": None,
    "default_payment_method": "Credit Card",
    "default_payment_token": None,
}
BODY: Final = json.dumps(
    {"code": 200, "message": "success", "data": {"customer": _CUSTOMER}}, separators=(",", ":")
).encode()
RESPONSE: Final = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n" + BODY
)
_BAD: Final = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Peer(asyncio.Protocol):
    """One connection: buffer bytes, answer each complete request with ``RESPONSE``."""

    __slots__ = ("buf", "transport")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        answered = 0
        close = False
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = bytes(buf[:end]).lower()
            length = 0
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                try:
                    length = int(head[at + 17 : stop if stop >= 0 else len(head)])
                except ValueError:
                    close = True
            elif b"\r\ntransfer-encoding:" in head:
                close = True  # chunked bodies are not worth parsing here; no client sends them
            if close:
                answered = -1
                break
            total = end + 4 + length
            if len(buf) < total:
                break
            del buf[:total]
            answered += 1
            if b"\r\nconnection: close" in head:
                close = True
                break
        transport = self.transport
        assert transport is not None
        if answered > 0:
            transport.write(RESPONSE * answered if answered > 1 else RESPONSE)
        elif answered < 0:
            transport.write(_BAD)
        if close:
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int, emulator_key: str | None, app_id: str | None) -> None:
    loop = asyncio.get_running_loop()
    if emulator_key is not None:
        # The real, signature-checking emulator instead of the minimal peer.
        from wonder_async.testing import Emulator

        emu = Emulator(port=port, app_id=app_id, public_key=Path(emulator_key))
        await emu.start()
        print(f"PORT {emu.port}", flush=True)
    else:
        emu = None
        server = await loop.create_server(Peer, "127.0.0.1", port, backlog=2048, reuse_address=True)
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: None if stop.done() else stop.set_result(None))
    stdin = sys.stdin.fileno()

    def stdin_readable() -> None:
        # Stdin closing (the benchmark exited, even by kill -9) stops the peer too.
        if not os.read(stdin, 4096):
            loop.remove_reader(stdin)
            if not stop.done():
                stop.set_result(None)

    loop.add_reader(stdin, stdin_readable)
    try:
        await stop
    finally:
        if emu is not None:
            await emu.stop()
        else:
            server.close()
            await server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one core")
    parser.add_argument(
        "--emulator-public-key", default=None, help="serve wonder_async.testing.Emulator instead"
    )
    parser.add_argument("--app-id", default=None, help="the app the emulator accepts")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    asyncio.run(serve(args.port, args.emulator_public_key, args.app_id))


if __name__ == "__main__":
    main()
