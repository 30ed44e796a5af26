"""Structured logs (issue 7 item 4): JSON lines, request ids, the Loki shipper."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from oncallnova.core.logs import (
    JsonFormatter,
    LokiHandler,
    RequestIdMiddleware,
    configure,
    request_id_var,
    role_var,
)
from oncallnova.settings import Settings
from tests.system.servers import free_port


@contextmanager
def captured(name: str, role: str = "api") -> Iterator[io.StringIO]:
    """A logger `name` writing JSON lines into a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter(role))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield out
    finally:
        logger.removeHandler(handler)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_formatter_fields_and_exception() -> None:
    name = f"test.logs.{uuid.uuid4().hex}"
    with captured(name) as out:
        log = logging.getLogger(name)
        log.info("stopped cleanly: %s — ünïcode", "done", extra={"alert_count": 3})
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            log.exception("it failed")
    first, second = lines(out)
    assert out.getvalue().count("\n") == 2  # one object per line, even with newlines inside
    assert first["message"] == "stopped cleanly: done — ünïcode"
    assert "ünïcode" in out.getvalue()  # ensure_ascii=False
    assert first["level"] == "INFO" and first["logger"] == name and first["role"] == "api"
    assert first["alert_count"] == 3
    assert "request_id" not in first and "exception" not in first and "trace_id" not in first
    assert str(first["time"]).endswith("Z")
    parsed = datetime.fromisoformat(str(first["time"]).replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0
    assert second["level"] == "ERROR"
    assert "ValueError: boom" in str(second["exception"])
    assert "Traceback" in str(second["exception"])


def test_context_vars_win() -> None:
    name = f"test.logs.{uuid.uuid4().hex}"
    with captured(name, role="all") as out:
        rid, role = request_id_var.set("abc-123"), role_var.set("engine")
        try:
            logging.getLogger(name).warning("hello")
        finally:
            request_id_var.reset(rid)
            role_var.reset(role)
    (entry,) = lines(out)
    assert entry["request_id"] == "abc-123" and entry["role"] == "engine"


def _app(name: str) -> RequestIdMiddleware:
    async def hello(request: Request) -> Response:
        logging.getLogger(name).info("handling %s", request.url.path)
        return PlainTextResponse("hi", headers={"X-Request-ID": "from-the-handler"})

    return RequestIdMiddleware(Starlette(routes=[Route("/hello", hello)]))


async def test_request_id_from_header_or_generated() -> None:
    name = f"test.logs.{uuid.uuid4().hex}"
    transport = httpx.ASGITransport(app=_app(name))
    with captured(name) as out:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            given = await http.get("/hello", headers={"X-Request-ID": "req-42.a"})
            fresh = await http.get("/hello")
            insane = await http.get("/hello", headers={"X-Request-ID": "bad id\twith spaces"})
            too_long = await http.get("/hello", headers={"X-Request-ID": "x" * 200})
    assert given.headers["x-request-id"] == "req-42.a"
    assert given.headers.get_list("x-request-id") == ["req-42.a"]
    generated = [r.headers["x-request-id"] for r in (fresh, insane, too_long)]
    assert all(len(g) == 32 for g in generated) and len(set(generated)) == 3
    assert [e["request_id"] for e in lines(out)] == ["req-42.a", *generated]
    assert request_id_var.get() is None  # nothing leaks out of the request


async def test_real_app_echoes_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "probe-1"})
    assert response.headers["x-request-id"] == "probe-1"


class LokiStub:
    """A real HTTP endpoint on loopback that records push bodies."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.port = free_port()
        self.bodies: list[dict[str, object]] = []

    async def push(self, request: Request) -> Response:
        assert request.headers["content-type"] == "application/json"
        self.bodies.append(json.loads(await request.body()))
        return Response(status_code=self.status)

    def __enter__(self) -> LokiStub:
        app = Starlette(routes=[Route("/loki/api/v1/push", self.push, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="error", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "stub did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def values(self) -> int:
        return sum(len(s["values"]) for b in self.bodies for s in b["streams"])  # type: ignore[attr-defined,misc]


@contextmanager
def loki_logger(handler: LokiHandler) -> Iterator[logging.Logger]:
    logger = logging.getLogger(f"test.loki.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_loki_receives_well_formed_batches() -> None:
    with LokiStub() as stub:
        handler = LokiHandler(
            f"http://127.0.0.1:{stub.port}/", role="engine", environment="staging",
            flush_interval=0.05,
        )  # fmt: skip
        with loki_logger(handler) as log:
            token = request_id_var.set("rid-7")
            try:
                for n in range(5):
                    log.info("info %d", n)
                log.error("bad one")
            finally:
                request_id_var.reset(token)
            deadline = time.monotonic() + 5
            while stub.values() < 6 and time.monotonic() < deadline:
                time.sleep(0.02)
    assert handler.dropped == 0 and handler.dropped_count() == 0
    streams = [s for b in stub.bodies for s in b["streams"]]  # type: ignore[attr-defined]
    by_level: dict[str, list[list[str]]] = {}
    for stream in streams:
        assert set(stream) == {"stream", "values"}
        labels = stream["stream"]
        assert labels["service"] == "oncallnova-engine"
        assert labels["environment"] == "staging"
        by_level.setdefault(labels["level"], []).extend(stream["values"])
    assert set(by_level) == {"info", "error"}
    info = by_level["info"]
    assert [json.loads(line)["message"] for _, line in info] == [f"info {n}" for n in range(5)]
    for ts, line in [*info, *by_level["error"]]:
        assert isinstance(ts, str) and ts.isdigit() and len(ts) == 19  # unix nanoseconds
        assert abs(int(ts) / 1e9 - time.time()) < 60
        entry = json.loads(line)
        assert entry["request_id"] == "rid-7" and entry["role"] == "engine"
    stamps = [int(ts) for ts, _ in info]
    assert stamps == sorted(stamps)


def test_loki_down_never_blocks_and_counts_drops() -> None:
    closed_port = free_port()  # nothing listens there
    handler = LokiHandler(f"http://127.0.0.1:{closed_port}", flush_interval=0.05)
    with loki_logger(handler) as log:
        started = time.perf_counter()
        for n in range(2000):
            log.info("record %d", n)
        elapsed = time.perf_counter() - started
        deadline = time.monotonic() + 5
        while handler.dropped < 2000 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert elapsed < 0.5
    assert handler.dropped == 2000 and handler.sent == 0


def test_loki_non_2xx_drops_the_batch() -> None:
    with LokiStub(status=500) as stub:
        handler = LokiHandler(f"http://127.0.0.1:{stub.port}", flush_interval=0.05)
        with loki_logger(handler) as log:
            log.warning("lost")
            log.error("lost too")
            deadline = time.monotonic() + 5
            while handler.dropped < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
    assert handler.dropped == 2 and stub.values() == 2


def test_full_buffer_drops_new_records() -> None:
    handler = LokiHandler(
        "http://127.0.0.1:9", capacity=10, batch_size=1000, flush_interval=60, timeout=0.2
    )
    with loki_logger(handler) as log:
        for n in range(25):
            log.info("record %d", n)
        assert handler.dropped == 15
        assert len(handler._buffer) == 10


@contextmanager
def saved_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    token = role_var.set(None)
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            if handler not in handlers:
                handler.close()
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        role_var.reset(token)


def test_configure_json_text_and_loki() -> None:
    name = f"test.configure.{uuid.uuid4().hex}"
    with saved_root():
        out = io.StringIO()
        loki = configure(level="info", role="metrics", stream=out, loki_url="http://127.0.0.1:9")
        assert isinstance(loki, LokiHandler) and loki in logging.getLogger().handlers
        assert loki.labels["service"] == "oncallnova-metrics"
        logging.getLogger(name).info("stopped cleanly")
        (entry,) = lines(out)
        assert entry["message"] == "stopped cleanly" and entry["role"] == "metrics"
    with saved_root():
        out = io.StringIO()
        assert configure(level="WARNING", fmt="text", stream=out) is None
        logging.getLogger(name).info("hidden")
        logging.getLogger(name).warning("shown")
        assert out.getvalue().endswith(f"WARNING {name}: shown\n")


def test_settings() -> None:
    settings = Settings(LOG_FORMAT="TEXT", LOKI_URL=" ")
    assert settings.log_format == "text" and settings.loki_url is None
    assert settings.environment == "production"
    with pytest.raises(ValidationError):
        Settings(LOG_FORMAT="xml")
