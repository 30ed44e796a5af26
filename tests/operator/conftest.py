"""Real `oncallnova serve` processes and the operator commands run against them as a
user runs them: `python -m oncallnova COMMAND`, in a clean environment, with their own
config directory (where `login` keeps its token)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.system.servers import ADMIN_EMAIL, ADMIN_PASSWORD, Server

Cli = Callable[..., subprocess.CompletedProcess[str]]
# Only what a shell has: nothing the test process set (DATABASE_URL, REDIS_URL, ...)
# reaches the commands unless a test passes it.
KEEP = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}


def start_server(tmp: Path, **env: str) -> Server:
    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    settings = {"ONCALLNOVA_DATA_DIR": str(data), "ENGINE_INTERVAL_SECONDS": "0.5", **env}
    server = Server(settings, tmp / "server.log")
    try:
        # Generous: on a busy shared machine a first start (migrations) can take half a minute.
        return server.start(timeout=120)
    except RuntimeError:
        if server.process is not None:  # never leave a half-started server behind
            server.stop()
        raise


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One all-in-one server (SQLite) for the module's tests."""
    srv = start_server(tmp_path_factory.mktemp("server"))
    yield srv
    srv.stop()


def make_cli(url: str, config_dir: Path) -> Cli:
    def run(
        *args: str,
        stdin: str | None = None,
        timeout: float = 180,
        cwd: Path | None = None,
        **env: str,
    ) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if k in KEEP}
        return subprocess.run(
            [sys.executable, "-m", "oncallnova", *args],
            env={
                **base,
                "ONCALLNOVA_URL": url,
                "ONCALLNOVA_CONFIG_DIR": str(config_dir),
                "COLUMNS": "200",
                "ONCALLNOVA_DATA_DIR": str(config_dir / "no-data"),
                **env,
            },
            input=stdin,
            cwd=cwd or config_dir.parent,  # no .env file there
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def cli(server: Server, tmp_path: Path) -> Cli:
    """The command line, not signed in, aimed at the module's server."""
    return make_cli(server.url, tmp_path / "config")


@pytest.fixture
def signed_in(cli: Cli) -> Cli:
    """The command line after `oncallnova login` as the server's admin."""
    done = cli("login", "--email", ADMIN_EMAIL, "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert done.returncode == 0, done.stdout + done.stderr
    return cli
