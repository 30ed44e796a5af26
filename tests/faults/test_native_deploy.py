"""The operator's deployment commands on the no-Docker topology (`--native`: they run
`oncallnova stack`), and `full-demo` against that split topology through its gateway;
and `stack up` in the foreground, stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from oncallnova.stack.state import running
from tests.faults.stack import Stack, eventually
from tests.operator.test_full_demo import maildev  # noqa: F401 (a fixture)
from tests.support.redis import shared_redis

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def replicas(stack: Stack, role: str) -> list[str]:
    status = json.loads(stack.cli("stack", "status", "--json").stdout)
    return [row["name"] for row in status["processes"] if row["role"] == role]


def test_deployment_commands_and_full_demo_on_the_native_topology(
    fresh_pg: str,
    tmp_path: Path,
    maildev: tuple[int, str],  # noqa: F811
) -> None:
    smtp_port, mail_api = maildev
    stack = Stack(tmp_path, fresh_pg, shared_redis(), SMTP_HOST="127.0.0.1")
    stack.env["SMTP_PORT"] = str(smtp_port)
    try:
        deployed = stack.cli("deploy", "--native", timeout=400)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert "stack healthy" in deployed.stdout and stack.url in deployed.stdout
        assert replicas(stack, "ingestion") == ["ingestion-1"]

        # `status` shows the stack's processes per role beside the HTTP checks.
        shown = stack.cli("status", "--url", stack.url, "--json")
        assert shown.returncode == 0, shown.stderr
        components = {c["name"]: c for c in json.loads(shown.stdout)["components"]}
        assert components["oncallnova"]["state"] == "up"
        assert components["ingestion (stack)"]["replicas"] == 1
        assert components["engine (stack)"]["health"] == "1/1 healthy"

        scaled = stack.cli("scale", "2", "--native")
        assert scaled.returncode == 0, scaled.stderr
        assert replicas(stack, "ingestion") == ["ingestion-1", "ingestion-2"]
        logs = stack.cli("logs", "ingestion", "--native")
        assert logs.returncode == 0 and "ingestion-2 | " in logs.stdout
        restarted = stack.cli("restart", "ingestion", "--native")
        assert restarted.returncode == 0, restarted.stderr
        assert replicas(stack, "ingestion") == ["ingestion-3", "ingestion-4"]
        down_to_one = stack.cli("scale-down", "--native")
        assert down_to_one.returncode == 0, down_to_one.stderr
        assert len(replicas(stack, "ingestion")) == 1

        # The full demo against the split topology, through its gateway.
        token = stack.admin()["Authorization"].removeprefix("Bearer ")
        demo = stack.cli(
            *("full-demo", "--url", stack.url, "--mail-api", mail_api, "--cleanup"),
            timeout=400,
            ONCALLNOVA_TOKEN=token,
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "7/7 steps passed" in demo.stdout
        assert "every signature verified" in demo.stdout
        assert f"email captured at {mail_api}" in demo.stdout

        pids = [proc.pid for proc in stack.state().processes]
        stopped = stack.cli("down", "--native", timeout=200)
        assert stopped.returncode == 0, stopped.stderr
        assert stack.cli("stack", "status").returncode == 1
        assert not any(_alive(pid) for pid in pids)
        cleaned = stack.cli("clean", "--native", "--yes")
        assert cleaned.returncode == 0, cleaned.stderr
        assert not (stack.data / "stack").exists()
    finally:
        stack.down()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()


def test_stack_up_in_the_foreground_stops_everything_on_ctrl_c(
    fresh_pg: str, tmp_path: Path
) -> None:
    stack = Stack(tmp_path, fresh_pg, shared_redis())
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "oncallnova", "stack", "up"],
            env={**stack.env, "COLUMNS": "200"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert eventually(lambda: "Ctrl-C stops" in log.read_text() or up.poll() is not None, 400)
        assert up.poll() is None, log.read_text()
        procs = stack.state().processes
        assert httpx.get(f"{stack.url}/health", timeout=10).status_code == 200
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=120) == 0, log.read_text()
        assert not any(running(proc) for proc in procs)
        assert "stopped" in log.read_text()
        assert stack.cli("stack", "status").returncode == 1
    finally:
        if up.poll() is None:
            up.kill()
        stack.down()
