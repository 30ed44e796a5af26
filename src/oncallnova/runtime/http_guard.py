"""Bounds on what a client may hold open: uvicorn's HTTP protocol with deadlines for the
request headers and body, and a cap on open connections.

uvicorn times out only idle keep-alive connections. A client that opens a connection
and sends its headers (or its body) a byte at a time holds a socket for as long as it
likes; thousands of them exhaust the file descriptors and the server stops accepting,
silently. Here each connection must send its request headers within `header_timeout`
seconds of its first byte (or of connecting) and its body within `body_timeout` of its
headers; past `max_connections` a new connection is answered 503 and closed at once.
Every shed connection is counted in the log: the first of each kind at once, the rest
summed up every few seconds, so an attack is visible without flooding the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("oncallnova.http")

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"retry-after: 1\r\nconnection: close\r\ncontent-length: 35\r\n\r\n"
    b"too many open connections; retry.\r\n"
)
_LATE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 39\r\n\r\n"
    b"request headers not received in time.\r\n"
)


class ShedLog:
    """Log lines for shed connections: the first of each reason at once, then one line
    per `interval` with the counts, and nothing once a whole interval passes quietly."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._pending: Counter[str] = Counter()
        self._announced: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None

    def note(self, reason: str) -> None:
        if reason in self._announced:
            self._pending[reason] += 1
        else:
            self._announced.add(reason)
            log.warning(
                "closed a connection: %s (more are summed up every %g s)", reason, self.interval
            )
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._flush)

    def _flush(self) -> None:
        self._timer = None
        if not self._pending:
            self._announced.clear()
            return
        counts = "; ".join(f"{n} {reason}" for reason, n in self._pending.most_common())
        log.warning(
            "closed %d more connections in %g s: %s", self._pending.total(), self.interval, counts
        )
        self._pending.clear()
        self._timer = asyncio.get_running_loop().call_later(self.interval, self._flush)


def guarded_protocol(
    *, header_timeout: float, body_timeout: float, max_connections: int, shed: ShedLog
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol (its default) with the bounds above."""
    over = f"over the limit of {max_connections} open connections (answered 503)"
    no_headers = f"request headers not received within {header_timeout:g} s"
    no_body = f"request body not received within {body_timeout:g} s"

    class GuardedHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._deadline: asyncio.TimerHandle | None = None

        def _arm(self, seconds: float, on_late: Any) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, on_late)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                shed.note(over)
                transport.write(_BUSY)
                transport.close()
                return
            self._arm(header_timeout, self._headers_late)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._deadline is None:  # a request after a keep-alive pause
                self._arm(header_timeout, self._headers_late)

        def on_headers_complete(self) -> None:
            self._arm(body_timeout, self._body_late)
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def _headers_late(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                shed.note(no_headers)
                self.transport.write(_LATE)
                self.transport.close()

        def _body_late(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            if self.flow.read_paused:
                # Reading stopped because the app has not taken what arrived: not the
                # client's delay, so the deadline moves on.
                self._arm(body_timeout, self._body_late)
                return
            shed.note(no_body)
            # The app has the request: closing tells it the client is gone.
            self.transport.close()

    return GuardedHttpToolsProtocol
