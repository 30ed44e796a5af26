"""A real Alertmanager (Debian's `prometheus-alertmanager`) sends to OnCallNova while an
OnCallNova silence matches some of its alerts: the silenced ones are stored and page
nobody, the rest page.

`scripts/test-services.sh` installs the package when missing. Locally a missing
Alertmanager skips this test; under CI=true it fails.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import need_service
from tests.system.servers import Server, free_port
from tests.system.test_prometheus import stop, wait_healthy
from tests.system.test_quiet_engines import api as call
from tests.system.test_quiet_engines import wait_until

pytestmark = pytest.mark.slow
CONFIG = """\
route:
  receiver: oncallnova
  group_by: [alertname, env]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncallnova
    webhook_configs:
      - url: "{url}/api/v1/integrations/alertmanager?routing_key={key}"
        send_resolved: true
"""
ALERTS = [
    ("DiskFull", "staging"),  # silenced: alertname =~ Disk.* and env = staging
    ("DiskFull", "prod"),
    ("HighLatency", "staging"),
    ("DiskSlow", "staging"),  # silenced
]


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if found is None:
        need_service(
            "Alertmanager",
            FileNotFoundError(
                "no prometheus-alertmanager binary (Debian: prometheus-alertmanager)"
            ),
        )
    assert found is not None
    return found


@pytest.fixture
def oncallnova(tmp_path: Path) -> Iterator[Server]:
    env = {
        "ONCALLNOVA_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "RATE_LIMIT_ENABLED": "false",
    }
    server = Server(env, tmp_path / "server.log").start(timeout=120)
    try:
        yield server
    finally:
        server.stop()


def test_alertmanager_alerts_an_oncallnova_silence_matches_page_nobody(
    tmp_path: Path, oncallnova: Server
) -> None:
    binary = alertmanager_binary()
    server = oncallnova
    ann = call(server, "POST", "/api/v1/users", json={"name": "Ann", "email": "ann@example.com"})
    levels = [{"delay_seconds": 3600, "targets": [{"type": "user", "id": ann["id"]}]}]
    policy = call(
        server, "POST", "/api/v1/escalation-policies", json={"name": "p", "levels": levels}
    )
    service = call(
        server,
        "POST",
        "/api/v1/services",
        json={
            "name": "platform",
            "escalation_policy_id": policy["id"],
            "correlation_key": ["labels.alertname", "labels.env"],
        },
    )
    key = service["integration_keys"][0]["key"]
    ends = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    silence = call(
        server,
        "POST",
        "/api/v1/silences",
        json={
            "matchers": [
                {"name": "alertname", "op": "=~", "value": "Disk.*"},
                {"name": "env", "op": "=", "value": "staging"},
            ],
            "ends_at": ends,
            "comment": "staging disks are being replaced",
        },
    )

    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG.format(url=server.url, key=key))
    log = tmp_path / "alertmanager.log"
    with log.open("ab") as out:
        try:
            am = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.path={tmp_path / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",  # a single instance, no gossip port
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            need_service("Alertmanager", exc)
    am_url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_healthy(am_url, am, log, "/-/ready")
        except RuntimeError as exc:
            need_service("Alertmanager", exc)
        posted = httpx.post(
            f"{am_url}/api/v2/alerts",
            json=[
                {
                    "labels": {"alertname": name, "env": env, "severity": "critical"},
                    "annotations": {"summary": f"{name} in {env}"},
                }
                for name, env in ALERTS
            ],
            timeout=10,
        )
        assert posted.status_code == 200, posted.text

        def incidents() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = call(server, "GET", "/api/v1/incidents")["items"]
            return items if len(items) == len(ALERTS) else []

        found = wait_until(incidents, 60, "Alertmanager's alerts to reach OnCallNova")
        by_title = {i["title"]: i for i in found}
        loud = ["DiskFull in prod", "HighLatency in staging"]
        quiet = ["DiskFull in staging", "DiskSlow in staging"]

        def paged() -> bool:
            return all(
                call(server, "GET", f"/api/v1/incidents/{by_title[t]['id']}")["pages"] for t in loud
            )

        wait_until(paged, 60, "the engine to page the alerts no silence matches")
        time.sleep(3)  # the engine passes every second: a page for a silenced one would be here
        for title in loud:
            detail = call(server, "GET", f"/api/v1/incidents/{by_title[title]['id']}")
            assert detail["silence_id"] is None
            assert [p["level"] for p in detail["pages"]] == [1]
            assert detail["alerts"][0]["silence_id"] is None
        for title in quiet:
            detail = call(server, "GET", f"/api/v1/incidents/{by_title[title]['id']}")
            assert detail["pages"] == [], f"{title} paged despite the silence"
            assert detail["silence_id"] == silence["id"]
            [stored] = detail["alerts"]
            assert stored["silence_id"] == silence["id"] and stored["status"] == "firing"
            assert stored["labels"]["env"] == "staging"
        shown = call(server, "GET", "/api/v1/incidents", params={"silenced": "false"})["items"]
        assert sorted(i["title"] for i in shown) == loud
    finally:
        stop(am)
