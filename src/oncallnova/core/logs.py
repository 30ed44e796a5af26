"""Structured logs: one JSON object per line on stdout, a request id per HTTP
request, and an optional background shipper to Grafana Loki.

Nothing here does I/O on the caller's thread: `LokiHandler.emit` only formats the record
and appends it to a bounded buffer; a daemon thread ships batches. When Loki is slow or
down, records are dropped and counted rather than ever slowing a request down.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import httpx
from uuid_utils import uuid7

request_id_var: ContextVar[str | None] = ContextVar("oncallnova_request_id", default=None)
role_var: ContextVar[str | None] = ContextVar("oncallnova_role", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
SHIPPER_THREAD = "loki-shipper"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")

# LogRecord attributes that are not "extra" fields passed by the caller.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)

try:  # OpenTelemetry is optional; without it no trace id is logged.
    from opentelemetry import trace as _otel_trace  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    _otel_trace = None


def _trace_id() -> str | None:
    if _otel_trace is None:
        return None
    try:
        context = _otel_trace.get_current_span().get_span_context()
    except Exception:
        return None
    if not getattr(context, "is_valid", False):
        return None
    return f"{context.trace_id:032x}"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (ISO, UTC), level, logger, message, role,
    request_id, trace_id (with OpenTelemetry), exception text, and any `extra` fields."""

    def __init__(self, role: str | None = None) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        role = role_var.get() or self.role
        if role:
            entry["role"] = role
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        trace_id = _trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry:
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The human format (`LOG_FORMAT=text`), with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = request_id_var.get()
        return f"{line} [request_id={request_id}]" if request_id else line


class LokiHandler(logging.Handler):
    """Pushes records to Loki's push API from a daemon thread, in batches grouped by
    label set. `emit` never blocks: past `capacity` buffered records, new ones are
    dropped; a batch Loki refuses (or cannot take) is dropped too. `dropped` counts both.
    """

    def __init__(
        self,
        url: str,
        *,
        role: str = "all",
        environment: str = "production",
        batch_size: int = 500,
        flush_interval: float = 1.0,
        capacity: int = 10_000,
        timeout: float = 2.0,
    ) -> None:
        super().__init__()
        self.push_url = url.rstrip("/") + "/loki/api/v1/push"
        self.labels = {"service": f"oncallnova-{role}", "environment": environment}
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.capacity = capacity
        self.timeout = timeout
        self.dropped = 0
        self.sent = 0
        self.setFormatter(JsonFormatter(role))
        self._buffer: deque[tuple[int, str, str]] = deque()
        self._count_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._warned = False
        self._thread = threading.Thread(target=self._run, name=SHIPPER_THREAD, daemon=True)
        self._thread.start()

    def dropped_count(self) -> int:
        return self.dropped

    def _drop(self, count: int) -> None:
        with self._count_lock:
            self.dropped += count

    def emit(self, record: logging.LogRecord) -> None:
        # The shipper's own records (httpx logs each request) would feed back forever.
        if threading.get_ident() == self._thread.ident or self._stop.is_set():
            return
        if len(self._buffer) >= self.capacity:
            self._drop(1)
            return
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        # Formatting here, on the caller's thread, captures its request id context var.
        self._buffer.append((int(record.created * 1e9), record.levelname.lower(), line))
        if len(self._buffer) >= self.batch_size:
            self._wake.set()

    def _take(self) -> list[tuple[int, str, str]]:
        batch: list[tuple[int, str, str]] = []
        with contextlib.suppress(IndexError):
            while len(batch) < self.batch_size:
                batch.append(self._buffer.popleft())
        return batch

    def _body(self, batch: list[tuple[int, str, str]]) -> dict[str, Any]:
        streams: dict[str, list[tuple[int, str]]] = {}
        for ns, level, line in batch:
            streams.setdefault(level, []).append((ns, line))
        return {
            "streams": [
                {
                    "stream": {**self.labels, "level": level},
                    # Loki wants each stream in time order; a stable sort keeps ties.
                    "values": [[str(ns), line] for ns, line in sorted(values, key=_first)],
                }
                for level, values in streams.items()
            ]
        }

    def _ship(self, client: httpx.Client, deadline: float | None = None) -> None:
        while self._buffer:
            if deadline is not None and time.monotonic() > deadline:
                return
            batch = self._take()
            if not batch:
                return
            try:
                response = client.post(self.push_url, json=self._body(batch))
                ok = response.is_success
            except Exception:
                ok = False
            if ok:
                self.sent += len(batch)
                self._warned = False
            else:
                self._drop(len(batch))
                if not self._warned:
                    self._warned = True
                    sys.stderr.write(f"loki push to {self.push_url} failed; dropping logs\n")

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set():
                self._wake.wait(self.flush_interval)
                self._wake.clear()
                self._ship(client)
            # One last, bounded flush on close.
            self._ship(client, deadline=time.monotonic() + self.timeout)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.get_ident() != self._thread.ident:
            self._thread.join(timeout=self.timeout * 2 + 1)
        super().close()


def _not_shipper(record: logging.LogRecord) -> bool:
    return record.threadName != SHIPPER_THREAD


def _first(value: tuple[int, str]) -> int:
    return value[0]


def configure(
    *,
    level: str,
    fmt: str = "json",
    role: str = "all",
    loki_url: str | None = None,
    environment: str = "production",
    stream: Any = None,
) -> LokiHandler | None:
    """Root logging for a process: stdout in `fmt`, plus Loki when `loki_url` is set."""
    role_var.set(role)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(role) if fmt == "json" else TextFormatter())
    # httpx logs every push the shipper makes; those lines would only be noise.
    handler.addFilter(_not_shipper)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    loki = None
    if loki_url:
        loki = LokiHandler(loki_url, role=role, environment=environment)
        root.addHandler(loki)
    return loki


ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class RequestIdMiddleware:
    """Pure ASGI: a request id per HTTP request, from a sane `X-Request-ID` header or
    generated, kept in a context var for the logs and echoed in the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                text = value.decode("latin-1")
                if _SANE_REQUEST_ID.fullmatch(text):
                    request_id = text
                break
        request_id = request_id or uuid7().hex
        raw = request_id.encode("latin-1")

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", raw)]}
            await send(message)

        token = request_id_var.set(request_id)
        await self.app(scope, receive, send_with_id)
        # Not reset on an exception: the error handlers outside still log with the id,
        # and each request runs in its own task, so the value does not leak.
        request_id_var.reset(token)
