"""A stack (`oncallnova stack up --detach`) for a test: on its own database, a Redis key
prefix of its own (or its own Redis), free ports, a data directory of its own; always
taken down afterwards, whatever the test did to its processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from oncallnova.stack.state import Proc, StackState, running
from tests.system.servers import ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, free_port

INTERNAL_TOKEN = "internal-token-for-stack-tests-0123456789"


class Stack:
    def __init__(self, directory: Path, database_url: str, redis_url: str, **env: str) -> None:
        self.data = directory / "data"
        self.gateway_port, self.grpc_port, self.dashboard_port = (free_port() for _ in "123")
        prefix = f"ocn-stack-{os.getpid()}-{time.monotonic_ns()}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ONCALLNOVA_REDIS_PREFIX": prefix,
            "RATE_LIMIT_REDIS_PREFIX": f"{prefix}:ratelimit",
            "ONCALLNOVA_DATA_DIR": str(self.data),
            "ONCALLNOVA_INTERNAL_TOKEN": INTERNAL_TOKEN,
            "ONCALLNOVA_ADMIN_EMAIL": ADMIN_EMAIL,
            "ONCALLNOVA_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "JWT_SECRET": JWT_SECRET,
            "ONCALLNOVA_GATEWAY_PORT": str(self.gateway_port),
            "ONCALLNOVA_GATEWAY_GRPC_PORT": str(self.grpc_port),
            "ONCALLNOVA_DASHBOARD_PORT": str(self.dashboard_port),
            "ENGINE_INTERVAL_SECONDS": "0.2",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.url = f"http://127.0.0.1:{self.gateway_port}"
        self.started: dict[str, Any] = {}

    def cli(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "oncallnova", *args],
            env={**self.env, "COLUMNS": "200", **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def up(self, *counts: str, timeout: float = 300) -> Stack:
        done = self.cli("stack", "up", "--detach", "--json", *counts, timeout=timeout)
        if done.returncode != 0:
            self.down()
            raise AssertionError(f"stack up failed:\n{done.stdout}\n{done.stderr}")
        self.started = json.loads(done.stdout)
        return self

    def state(self) -> StackState:
        found = StackState.load(self.data / "stack")
        assert found is not None, "no stack state"
        return found

    def procs(self, role: str) -> list[Proc]:
        return self.state().of_role(role)

    def kill(self, proc: Proc) -> None:
        """kill -9, as when a machine loses a process: no shutdown, nothing flushed."""
        os.kill(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while running(proc) and time.monotonic() < deadline:
            time.sleep(0.05)

    def admin(self) -> dict[str, str]:
        answer = httpx.post(
            f"{self.url}/api/v1/auth/token",
            data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            timeout=30,
        )
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def log(self, name: str) -> str:
        return (self.data / "stack" / "logs" / f"{name}.log").read_text(errors="replace")

    def down(self) -> None:
        """`stack down`, then a SIGKILL for anything of it still running."""
        try:
            self.cli("stack", "down", timeout=180)
        finally:
            state = StackState.load(self.data / "stack")
            for proc in state.processes if state else []:
                if running(proc):
                    os.kill(proc.pid, signal.SIGKILL)


class Stream:
    """The web UI's live stream (`url`: the gateway, or one web replica): the times
    `change` events came. `opened` is set once the server has started the stream."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.changes: list[float] = []
        self.opened = threading.Event()
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        timeout = httpx.Timeout(10.0, read=None)
        while not self.stop.is_set():  # a browser reconnects when a stream ends; so does this
            try:
                with (
                    httpx.Client(base_url=url, headers=headers, timeout=timeout) as http,
                    http.stream("GET", "/api/v1/stream") as answer,
                ):
                    for line in answer.iter_lines():
                        self.opened.set()
                        if line.startswith("event: change"):
                            self.changes.append(time.monotonic())
            except httpx.HTTPError:
                time.sleep(0.5)

    def change_after(self, moment: float, within: float) -> bool:
        return bool(eventually(lambda: any(t > moment for t in self.changes), within, 0.1))


def eventually(check: Callable[[], Any], timeout: float = 60.0, every: float = 0.5) -> Any:
    """The first truthy result of `check`, or its last result at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)
