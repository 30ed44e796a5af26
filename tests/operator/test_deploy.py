"""The deployment commands: the Docker Compose driver's exact command lines (checked
against the deployment's service names), the one line said when neither Docker nor the
native topology is there, clean's confirmation, and a make target per command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from oncallnova.cli import app
from oncallnova.operator.deploy.compose import COMPOSE_FILE, SCALED_SERVICE, ComposeDriver
from oncallnova.operator.deploy.driver import INFRASTRUCTURE, role_services
from oncallnova.runtime.roles import ROLES, SPLIT_ROLES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ("docker", "compose", "-f", "deploy/docker-compose.yml")


def run(*args: str, stdin: str | None = None, path: str | None = None):
    env = {k: v for k, v in os.environ.items() if k in {"HOME", "LANG"}}
    env["PATH"] = path if path is not None else os.environ["PATH"]
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "oncallnova", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(autouse=True)
def in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # where deploy/docker-compose.yml is looked for


def dry(*args: str) -> list[str]:
    """The command lines a dry run prints (in process: no Docker is touched)."""
    done = CliRunner().invoke(app, [*args, "--dry-run", "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["driver"] == "docker compose" and result["dry_run"] is True
    return result["commands"]


def line(*args: str) -> str:
    return " ".join((*COMPOSE, *args))


def test_compose_command_lines():
    assert dry("build") == [line("build")]
    assert dry("deploy") == [line("build"), line("up", "-d", "--wait")]
    assert dry("down") == [line("down")]
    assert dry("restart") == [line("restart")]
    assert dry("restart", "web") == [line("restart", "web")]
    assert dry("clean") == [line("down", "--volumes", "--remove-orphans", "--rmi", "local")]
    assert dry("logs") == [line("logs", "--tail", "200")]
    assert dry("logs", "incidents", "-f") == [line("logs", "--follow", "incidents")]
    up = ("up", "-d", "--no-recreate", "--wait", "--scale")
    assert dry("scale") == [line(*up, "ingestion=3", "ingestion")]
    assert dry("scale", "5") == [line(*up, "ingestion=5", "ingestion")]
    assert dry("scale-down") == [line(*up, "ingestion=1", "ingestion")]


def test_native_command_lines():
    """--native: the same commands as `oncallnova stack` command lines."""

    def native(*args: str) -> list[str]:
        done = CliRunner().invoke(app, [*args, "--native", "--dry-run", "--json"])
        assert done.exit_code == 0, done.output
        result = json.loads(done.stdout)
        assert result["driver"] == "native processes"
        return result["commands"]

    stack = f"{sys.executable} -m oncallnova stack"
    assert native("build") == []
    assert native("deploy") == [f"{stack} up --detach"]
    assert native("down") == [f"{stack} down"]
    assert native("restart") == [f"{stack} restart"]
    assert native("restart", "ingestion") == [f"{stack} restart ingestion"]
    assert native("restart", "gateway") == [f"{stack} restart gateway"]
    assert native("clean") == [f"{stack} down --purge"]
    assert native("logs", "web") == [f"{stack} logs web --lines 200"]
    assert native("logs", "-f") == [f"{stack} logs --follow"]
    assert native("scale") == [f"{stack} scale --ingestion 3"]
    assert native("scale-down") == [f"{stack} scale --ingestion 1"]


def test_the_commands_name_only_services_the_deployment_has():
    """The services come from deploy/docker-compose.yml once it exists; until then from
    the roles table the file is generated from (plus the seed's infrastructure)."""
    services = ComposeDriver(ROOT / COMPOSE_FILE).services()
    assert SCALED_SERVICE in services
    for role in SPLIT_ROLES:
        assert ROLES[role].name.value in services
    assert set(role_services()) <= set(services)
    if not (ROOT / COMPOSE_FILE).exists():
        assert services == (*role_services(), *INFRASTRUCTURE)
    for service in services:
        assert dry("logs", service) == [line("logs", "--tail", "200", service)]
    unknown = run("logs", "nginx", "--dry-run")
    assert unknown.returncode == 2
    assert "no service 'nginx'" in unknown.stderr and "ingestion" in unknown.stderr


def test_without_docker_one_line_says_what_is_missing(tmp_path: Path):
    bare = str(Path(sys.executable).parent)  # python, and no docker
    done = run("deploy", path=bare)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "Docker is not installed (no `docker` on PATH)" in lines[0]
    native_gap = "the native topology cannot run: DATABASE_URL must name a PostgreSQL database"
    assert native_gap in lines[0]
    native = run("scale", "2", "--native")
    assert native.returncode == 1
    assert native_gap in native.stderr
    assert "Install Docker" not in native.stderr


@pytest.fixture
def docker_stand_in(tmp_path: Path) -> tuple[str, Path, Path]:
    """A `docker` on PATH that logs its arguments (no Docker daemon on these machines):
    (PATH, the log, a Compose file). It fails `compose logs`, to see a failure passed on."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "docker.log"
    script = bin_dir / "docker"
    script.write_text(
        f'#!/bin/sh\necho "$*" >> {log}\ncase "$*" in *" logs"*) exit 3;; esac\nexit 0\n'
    )
    script.chmod(0o755)
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  ingestion: {}\n  web: {}\n")
    return f"{bin_dir}:{os.environ['PATH']}", log, compose


def test_clean_asks_first_and_commands_run(docker_stand_in: tuple[str, Path, Path]):
    path, log, compose = docker_stand_in
    args = ("--compose-file", str(compose))
    refused = run("clean", *args, stdin="n\n", path=path)
    assert refused.returncode == 1
    assert "deletes every container and volume" in refused.stdout
    assert "nothing removed" in refused.stderr
    assert "down" not in log.read_text()

    agreed = run("clean", *args, stdin="y\n", path=path)
    assert agreed.returncode == 0, agreed.stderr
    assert f"compose -f {compose} down --volumes --remove-orphans --rmi local" in log.read_text()

    assert run("scale", "4", *args, path=path).returncode == 0
    assert "--scale ingestion=4 ingestion" in log.read_text()
    # The Compose file's own services are the ones known.
    assert run("logs", "postgres", *args, path=path).returncode == 2
    failed = run("logs", "web", *args, path=path)
    assert failed.returncode == 3  # the failing command's exit status


def test_a_make_target_for_every_operator_command():
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^OPERATOR_COMMANDS := ((?:.*\\\n)*.*)$", makefile, re.M)
    assert match, "the Makefile lost OPERATOR_COMMANDS"
    targets = set(match.group(1).replace("\\\n", " ").split())
    command = typer.main.get_command(app)
    names = set(command.commands)  # type: ignore[attr-defined]
    operator = {
        "login", "logout", "status", "health", "test-alert", "test-batch", "demo",
        "full-demo", "webhook-add", "webhooks", "analytics", "security", "deploy", "build",
        "down", "restart", "clean", "logs", "scale", "scale-down",
    }  # fmt: skip
    assert operator <= names
    assert targets == operator
    dry_make = subprocess.run(
        ["make", "--no-print-directory", "-n", "full-demo", "ARGS=--cleanup"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert dry_make.stdout.strip().endswith(".venv/bin/oncallnova full-demo --cleanup")
    test_target = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True)
    assert ".venv/bin/pytest" in test_target.stdout  # `make test` is still the suite


@pytest.mark.parametrize("name", ["check", "security"])
def test_check_is_an_alias_of_security(name: str):
    done = run(name, "--help")
    assert done.returncode == 0 and "--offline" in done.stdout
