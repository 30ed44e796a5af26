"""Redis for tests: the shared server with a key prefix of the test's own, or a private
`redis-server` on a port of its own that a test may kill and start again (the shared
server at 6379 is never touched)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import redis

from tests.conftest import need_service
from tests.system.servers import free_port

SHARED_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def shared_redis() -> str:
    """The shared server's URL, or a skip (a failure under CI=true) when it is away."""
    try:
        with redis.Redis.from_url(SHARED_REDIS_URL, socket_connect_timeout=3) as client:
            client.ping()
    except (redis.RedisError, OSError) as exc:
        need_service("Redis", exc)
    return SHARED_REDIS_URL


def new_prefix() -> str:
    return f"ocn-test-{uuid.uuid4().hex[:12]}"


def drop_prefix(url: str, prefix: str) -> None:
    with redis.Redis.from_url(url) as client:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)


class OwnRedis:
    """`redis-server` without persistence on a free port, run in the foreground."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            need_service("redis-server", FileNotFoundError("no redis-server (Debian: redis)"))
        assert binary is not None
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = Path(tempfile.mkdtemp(prefix="ocn-own-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20) -> OwnRedis:
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.dir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with redis.Redis.from_url(self.url, socket_connect_timeout=1) as client:
                    client.ping()
                return self
            except (redis.RedisError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: connections drop at once, as when the host loses the server."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
