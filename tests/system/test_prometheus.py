"""A real Prometheus scrapes `oncallnova serve` and `oncallnova serve --role metrics`.

Prometheus is the Debian package (`/usr/bin/prometheus`), which `scripts/test-services.sh`
installs when missing. Locally a missing Prometheus skips this test; under CI=true it
fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import need_service
from tests.system.servers import Server, free_port

pytestmark = pytest.mark.slow

TOKEN = "metrics-token-for-the-prometheus-test"
CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: oncallnova
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials: {token}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def prometheus_binary() -> str:
    found = shutil.which("prometheus") or (
        "/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None
    )
    if found is None:
        need_service("Prometheus", FileNotFoundError("no prometheus binary (Debian: prometheus)"))
    assert found is not None
    return found


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url + path, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def oncallnova(tmp_path: Path) -> Iterator[tuple[Server, int]]:
    """The all-in-one server and a `--role metrics` process on the same SQLite file."""
    env = {
        "ONCALLNOVA_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "METRICS_TOKEN": TOKEN,
        "RATE_LIMIT_ENABLED": "false",
    }
    server = Server(env, tmp_path / "server.log").start()
    port = free_port()
    log = tmp_path / "metrics-role.log"
    with log.open("ab") as out:
        role = subprocess.Popen(
            [sys.executable, "-m", "oncallnova", "serve", "--role", "metrics", "--port", str(port)],
            env=server.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", role, log, "/health")
        # The metrics role serves /metrics (with the token) and nothing of the API.
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert httpx.get(f"{url}/api/v1/incidents").status_code == 404
        yield server, port
    finally:
        stop(role)
        server.stop()


def query(prom: str, expr: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=5)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def wait_for(prom: str, expr: str, expected: dict[str, float], label: str = "") -> None:
    """Polls `expr` until its vector (keyed by `label`) equals `expected` (30 s at most)."""
    deadline = time.monotonic() + 30
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        seen = {r["metric"].get(label, ""): float(r["value"][1]) for r in query(prom, expr)}
        if seen == expected:
            return
        time.sleep(0.5)
    raise AssertionError(f"{expr}: expected {expected}, last saw {seen}")


def test_prometheus_scrapes_incident_metrics(
    tmp_path: Path, oncallnova: tuple[Server, int]
) -> None:
    binary = prometheus_binary()
    server, metrics_port = oncallnova
    created = httpx.post(
        f"{server.url}/api/v1/services", headers=server.headers, json={"name": "checkout"}
    )
    assert created.status_code == 201, created.text
    key = created.json()["integration_keys"][0]["key"]
    for title, severity in (("down", "critical"), ("slow", "high"), ("noisy", "low")):
        posted = httpx.post(
            f"{server.url}/api/v1/alerts",
            headers={"X-Routing-Key": key},
            json={"title": title, "severity": severity},
        )
        assert posted.status_code == 202, posted.text

    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(CONFIG.format(token=TOKEN, port=server.port))
    log = tmp_path / "prometheus.log"
    with log.open("ab") as out:
        try:
            prometheus = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            need_service("Prometheus", exc)
    prom = f"http://127.0.0.1:{prom_port}"
    try:
        try:
            wait_healthy(prom, prometheus, log, "/-/ready")
        except RuntimeError as exc:
            need_service("Prometheus", exc)
        wait_for(prom, "sum(oncall_incidents_total)", {"": 3})
        wait_for(
            prom,
            "sum by (severity) (oncall_incidents_total)",
            {"critical": 1, "high": 1, "low": 1},
            label="severity",
        )
        wait_for(
            prom,
            'oncall_incidents_active{severity=~"critical|medium"}',
            {"critical": 1, "medium": 0},
            label="severity",
        )
        wait_for(prom, 'sum(oncall_alerts_ingested_total{deduplicated="false"})', {"": 3})
        wait_for(prom, 'up{job="oncallnova"}', {"": 1})
    finally:
        stop(prometheus)
    # `serve --role metrics` on the same database reports the same state on its own.
    role = httpx.get(
        f"http://127.0.0.1:{metrics_port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert role.status_code == 200, role.text
    incidents = {
        (s.labels["service"], s.labels["severity"]): s.value
        for family in text_string_to_metric_families(role.text)
        for s in family.samples
        if s.name == "oncall_incidents_total"
    }
    assert incidents == {
        ("checkout", "critical"): 1,
        ("checkout", "high"): 1,
        ("checkout", "low"): 1,
    }
