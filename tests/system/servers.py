"""Starts real `oncallnova serve` processes for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.ports import free_port as free_port

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-for-tests"
JWT_SECRET = "a-test-secret-that-is-long-enough-for-hs256-0123456789"


def sign_in(url: str) -> dict[str, str]:
    """Bearer headers for the admin every test server creates on first start."""
    response = httpx.post(
        f"{url}/api/v1/auth/token",
        timeout=10,
        data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def server_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a test server process: the admin it creates, a shared JWT
    secret (so every process of a split accepts the others' tokens), then `env`."""
    return {
        **os.environ,
        "LOG_LEVEL": "WARNING",
        "ONCALLNOVA_ADMIN_EMAIL": ADMIN_EMAIL,
        "ONCALLNOVA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "JWT_SECRET": JWT_SECRET,
        **env,
    }


class Server:
    """`oncallnova serve ARGS` on a free port. `signs_in`: once healthy, sign in as the
    admin (roles without the sign-in route, such as ingestion, do not)."""

    def __init__(self, env: dict[str, str], log: Path, *args: str, signs_in: bool = True) -> None:
        self.args = list(args)
        self.signs_in = signs_in
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = server_env(env)
        self.headers: dict[str, str] = {}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Server:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "oncallnova", "serve", "--port", str(self.port), *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    if self.signs_in:
                        self.headers = sign_in(self.url)
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.log.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncallnova", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
