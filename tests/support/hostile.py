"""Webhook receivers that misbehave, on loopback, each a raw TCP server in its own thread.

`trickle` answers one byte a second, `hang` reads the request and never answers, `huge`
answers a 500 whose body is `huge_bytes` long. Each counts the requests it read and the
response bytes it managed to hand to the kernel (`bytes_sent`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from tests.system.servers import free_port

Mode = Literal["trickle", "hang", "huge"]
CHUNK = b"x" * 65536


@dataclass
class HostileReceiver:
    mode: Mode
    huge_bytes: int = 400 * 1024 * 1024
    port: int = field(default_factory=free_port)
    requests: int = 0
    bytes_sent: int = 0
    closed_early: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _read_request(self, reader: asyncio.StreamReader) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        await reader.readexactly(length)
        self.requests += 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._read_request(reader)
            if self.mode == "hang":
                await self._stop.wait()
            elif self.mode == "trickle":
                answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                for byte in answer:  # the head too: not one read ever waits long
                    if self._stop.is_set():
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
                    self.bytes_sent += 1
                    await asyncio.sleep(1)
            else:
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                    + f"Content-Length: {self.huge_bytes}\r\n\r\n".encode()
                )
                while self.bytes_sent < self.huge_bytes and not self._stop.is_set():
                    writer.write(CHUNK)
                    await writer.drain()
                    self.bytes_sent += len(CHUNK)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.closed_early = True
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _main(self, started: threading.Event) -> None:
        self._stop = asyncio.Event()
        self._handlers: set[asyncio.Task[object]] = set()
        server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        started.set()
        async with server:
            await self._stop.wait()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def __enter__(self) -> HostileReceiver:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._main(started),), daemon=True
        )
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("hostile receiver did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def wait_for(self, count: int, timeout: float = 10) -> int:
        deadline = time.monotonic() + timeout
        while self.requests < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests
