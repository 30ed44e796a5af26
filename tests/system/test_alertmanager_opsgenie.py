"""Debian's real Prometheus Alertmanager, through its own `opsgenie_configs` receiver with
`api_url` pointed at `oncallnova serve`: a firing group creates an alert (alias = a
SHA-256 of Alertmanager's group key), its resolution closes it by alias.

Alertmanager is the Debian package `prometheus-alertmanager`, which
`scripts/test-services.sh` installs when missing. Locally a missing binary skips this
test; under CI=true it fails.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import need_service
from tests.system.servers import Server, free_port
from tests.system.test_prometheus import stop, wait_healthy

pytestmark = pytest.mark.slow

CONFIG = """\
route:
  receiver: oncallnova
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncallnova
    opsgenie_configs:
      - api_key: {key}
        api_url: {url}/
        send_resolved: true
        priority: P2
        source: alertmanager-test
        tags: team:storage,disk
"""


def alertmanager_binary() -> str:
    for name in ("prometheus-alertmanager", "alertmanager"):
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if found:
            return found
    need_service(
        "Alertmanager", FileNotFoundError("no alertmanager (Debian: prometheus-alertmanager)")
    )
    raise AssertionError("unreachable")


def wait_until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what}: not seen within {timeout} s (last: {last})")


def test_alertmanager_opsgenie_receiver_creates_and_closes(tmp_path: Path) -> None:
    binary = alertmanager_binary()
    env = {
        "ONCALLNOVA_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "RATE_LIMIT_ENABLED": "false",
    }
    server = Server(env, tmp_path / "server.log").start(timeout=120)
    port = free_port()
    log = tmp_path / "alertmanager.log"
    try:
        created = httpx.post(
            f"{server.url}/api/v1/services", headers=server.headers, json={"name": "storage"}
        )
        assert created.status_code == 201, created.text
        key = created.json()["integration_keys"][0]["key"]
        config = tmp_path / "alertmanager.yml"
        config.write_text(CONFIG.format(key=key, url=server.url))
        with log.open("ab") as out:
            try:
                am = subprocess.Popen(
                    [
                        binary,
                        f"--config.file={config}",
                        f"--storage.path={tmp_path / 'am'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--cluster.listen-address=",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            except OSError as exc:
                need_service("Alertmanager", exc)
        am_url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(am_url, am, log, "/-/ready")
            starts = datetime.now(UTC) - timedelta(minutes=1)
            alert = {
                "labels": {"alertname": "DiskFull", "instance": "db1"},
                "annotations": {"summary": "Disk full on db1"},
                "startsAt": starts.isoformat(),
            }
            assert httpx.post(f"{am_url}/api/v2/alerts", json=[alert]).status_code == 200

            def incident() -> dict[str, Any] | None:
                items = httpx.get(f"{server.url}/api/v1/incidents", headers=server.headers).json()
                if not items["items"]:
                    return None
                found: dict[str, Any] = httpx.get(
                    f"{server.url}/api/v1/incidents/{items['items'][0]['id']}",
                    headers=server.headers,
                ).json()
                return found

            opened = wait_until(incident, "the incident Alertmanager's create opened")
            [stored] = opened["alerts"]
            assert stored["severity"] == "high"  # priority P2
            assert len(stored["dedup_key"]) == 64  # SHA-256 of the group key, in hex
            assert stored["title"].startswith("[FIRING:1] DiskFull")
            assert stored["source"] == "alertmanager-test"
            assert stored["labels"] == {"team": "storage", "disk": "true"}
            assert stored["details"]["custom_details"]["alertname"] == "DiskFull"

            alert["endsAt"] = datetime.now(UTC).isoformat()
            assert httpx.post(f"{am_url}/api/v2/alerts", json=[alert]).status_code == 200

            def resolved() -> dict[str, Any] | None:
                found = incident()
                return found if found and found["status"] == "resolved" else None

            closed = wait_until(resolved, "the incident resolved by Alertmanager's close")
            assert closed["alerts"][0]["status"] == "resolved"
            assert closed["resolved_by"] == "opsgenie:storage"
        finally:
            stop(am)
    finally:
        server.stop()
        print(log.read_text()[-2000:] if log.exists() else "")
