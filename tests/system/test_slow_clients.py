"""Slow and half-sent requests against a real server process: connections that do not
send their headers or body in time are closed, past the connection cap new ones are
answered 503 at once, each kind is logged, and the server keeps serving."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.system.servers import Server

pytestmark = pytest.mark.slow

LIMIT = 20


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def read_all(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection (fails if it does not)."""
    sock.settimeout(timeout)
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_half_sent_requests_are_shed_and_logged(tmp_path: Path) -> None:
    env = {
        "ONCALLNOVA_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "RATE_LIMIT_ENABLED": "false",
        "HTTP_HEADER_TIMEOUT_SECONDS": "1",
        "HTTP_BODY_TIMEOUT_SECONDS": "1",
        "HTTP_MAX_CONNECTIONS": str(LIMIT),
    }
    log = tmp_path / "server.log"
    server = Server(env, log).start()
    held: list[socket.socket] = []
    try:
        # Headers a byte short of complete, and a body that never arrives in full.
        for _ in range(LIMIT - 5):
            sock = connect(server.port)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: oncallnova\r\n")
            held.append(sock)
        for _ in range(5):
            sock = connect(server.port)
            sock.sendall(
                b"POST /v2/enqueue HTTP/1.1\r\nHost: oncallnova\r\n"
                b'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"rout'
            )
            held.append(sock)
        time.sleep(0.3)  # all of them accepted
        started = time.monotonic()
        for _ in range(3):  # over the cap: refused at once, not left waiting
            extra = connect(server.port)
            assert read_all(extra, timeout=2).startswith(b"HTTP/1.1 503"), "not shed"
            extra.close()
        answers = [read_all(sock, timeout=5) for sock in held]
        waited = time.monotonic() - started
        assert waited < 4, f"slow connections were held {waited:.1f} s"
        assert all(a.startswith(b"HTTP/1.1 408") for a in answers[: LIMIT - 5]), answers[:3]
        # Once they are gone the server answers as before.
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
        sent = httpx.post(
            f"{server.url}/api/v1/services", headers=server.headers, json={"name": "after"}
        )
        assert sent.status_code == 201, sent.text
    finally:
        for sock in held:
            sock.close()
        server.stop()
    messages = [
        json.loads(line)["message"] for line in log.read_text().splitlines() if line[:1] == "{"
    ]
    shed = [m for m in messages if "connection" in m and "closed" in m]
    assert any("request headers not received within 1 s" in m for m in shed), messages
    assert any("request body not received within 1 s" in m for m in shed), messages
    assert any(f"over the limit of {LIMIT} open connections" in m for m in shed), messages
    assert len(shed) <= 6, shed  # counted, not a line per connection
