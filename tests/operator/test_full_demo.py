"""`full-demo` against a real all-in-one server: seven numbered steps pass, the page
email is found in MailDev (the SMTP capture server the server sends to), --cleanup
removes what it made; a server that refuses the demo's webhook fails step 2, skips
what depends on it and exits non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import need_service
from tests.operator.conftest import make_cli, start_server
from tests.system.servers import Server, free_port

pytestmark = pytest.mark.slow
MAILDEV = Path(__file__).resolve().parents[2] / ".tools/maildev/node_modules/.bin/maildev"


@pytest.fixture
def maildev(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """MailDev on free ports: (SMTP port, HTTP API URL)."""
    binary = os.environ.get("MAILDEV_PATH", str(MAILDEV))
    if not Path(binary).exists():
        need_service(
            "MailDev (npm; scripts/test-services.sh installs it)", FileNotFoundError(binary)
        )
    smtp, web = free_port(), free_port()
    log = (tmp_path / "maildev.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "--smtp",
            str(smtp),
            "--web",
            str(web),
            "--ip",
            "127.0.0.1",
            "--web-ip",
            "127.0.0.1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{web}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{api}/api/email", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "MailDev did not start"
        time.sleep(0.2)
    yield smtp, api
    process.terminate()
    process.wait(timeout=10)


def test_full_demo_passes_and_cleans_up(tmp_path: Path, maildev: tuple[int, str]):
    smtp_port, mail_api = maildev
    server = start_server(tmp_path / "srv", SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port))
    try:
        cli = make_cli(server.url, tmp_path / "config")
        token = server.headers["Authorization"].removeprefix("Bearer ")
        done = cli("full-demo", "--mail-api", mail_api, "--cleanup", ONCALLNOVA_TOKEN=token)
        out = done.stdout
        assert done.returncode == 0, out + done.stderr
        for n in range(1, 8):
            assert f"PASS {n}." in out
        assert "7/7 steps passed" in out
        assert "every signature verified" in out
        assert f"email captured at {mail_api}" in out
        assert "paged Bob" in out and "escalated: Paged level 2" in out
        assert "MTTA" in out and "MTTR" in out
        assert "oncall_alerts_ingested_total" in out and "/analytics" in out
        assert "cleaned up: webhook, service, policy, schedule" in out
        run = out.rsplit("(run ", 1)[1].split(")")[0]
        services = httpx.get(f"{server.url}/api/v1/services", headers=server.headers).json()
        assert not [s for s in services["items"] if s["name"] == f"demo-{run}"]
    finally:
        server.stop()


def test_full_demo_as_json_against_make_run_defaults(tmp_path: Path):
    """No SMTP, as `make run` starts it: the email is reported unchecked, not failed."""
    server = start_server(tmp_path / "srv")
    try:
        cli = make_cli(server.url, tmp_path / "config")
        token = server.headers["Authorization"].removeprefix("Bearer ")
        done = cli("full-demo", "--json", "--alerts", "120", ONCALLNOVA_TOKEN=token)
        assert done.returncode == 0, done.stdout + done.stderr
        result = json.loads(done.stdout)
        assert result["passed"] is True
        assert [s["outcome"] for s in result["steps"]] == ["passed"] * 7
        step3 = result["steps"][2]["details"]
        assert step3[0].startswith("120 alerts in")
        assert "-> 4 incidents" in step3[2]
        assert any("email: not checked" in d for d in result["steps"][3]["details"])
    finally:
        server.stop()


def test_a_failing_step_fails_the_command(tmp_path: Path):
    server: Server = start_server(tmp_path / "srv", WEBHOOK_ALLOW_PRIVATE="false")
    try:
        cli = make_cli(server.url, tmp_path / "config")
        token = server.headers["Authorization"].removeprefix("Bearer ")
        done = cli("full-demo", "--cleanup", ONCALLNOVA_TOKEN=token)
        assert done.returncode == 1
        assert "PASS 1." in done.stdout
        assert "FAIL 2." in done.stdout and "webhooks" in done.stdout
        for n in range(3, 8):
            assert f"SKIP {n}." in done.stdout
        assert "1/7 steps passed" in done.stdout
    finally:
        server.stop()


def test_full_demo_needs_a_sign_in(tmp_path: Path):
    cli = make_cli(f"http://127.0.0.1:{free_port()}", tmp_path / "config")
    done = cli("full-demo")
    assert done.returncode == 2
    assert "not signed in" in done.stderr and "oncallnova login" in done.stderr
