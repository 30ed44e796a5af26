"""status, health, test-alert, test-batch, demo, webhook-add, webhooks and analytics,
run as commands against a real all-in-one server."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import need_service
from tests.operator.conftest import Cli
from tests.system.servers import Server, free_port

pytestmark = pytest.mark.slow


def test_status_shows_each_component(cli: Cli, server: Server):
    done = cli("status", "--json")
    assert done.returncode == 0, done.stderr
    components = {c["name"]: c for c in json.loads(done.stdout)["components"]}
    app = components["oncallnova"]
    assert app["state"] == "up" and app["version"] == "0.1.0" and app["replicas"] == 1
    assert app["uptime_seconds"] > 0
    assert components["metrics endpoint"]["state"] == "up"
    assert components["database (seen by the server)"]["health"] == "ok"

    table = cli("status")
    assert table.returncode == 0
    for word in ("component", "replicas", "uptime", "oncallnova", "0.1.0"):
        assert word in table.stdout
    assert "\x1b[" not in table.stdout  # no colour codes when not on a terminal


def test_health_checks_the_infrastructure_this_environment_names(cli: Cli):
    done = cli("health")
    assert done.returncode == 0, done.stdout
    assert "everything is up" in done.stdout

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        need_service("Redis", exc)
    closed = free_port()  # nothing listens there: SMTP is down
    done = cli(
        "health",
        "--json",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(closed),
    )
    assert done.returncode == 1
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["Redis"]["state"] == "up" and checks["Redis"]["version"]
    assert checks["SMTP"]["state"] == "down"
    assert checks["SMTP"]["address"] == f"127.0.0.1:{closed}"
    assert json.loads(done.stdout)["healthy"] is False


def test_health_of_a_server_that_is_not_there(cli: Cli):
    done = cli("health", "--url", f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "down" in done.stdout and "oncallnova" in done.stdout


def test_test_alert_creates_the_demo_service_once(signed_in: Cli):
    first = signed_in("test-alert", "--json", "--severity", "critical", "--title", "Disk full")
    assert first.returncode == 0, first.stderr
    sent = json.loads(first.stdout)
    assert sent["service"] == "oncallnova-demo"
    [alert] = sent["alerts"]
    assert alert["incident_number"] >= 1 and alert["incident_status"] == "triggered"

    again = signed_in("test-alert", "--json", "--severity", "critical", "--title", "Disk full")
    repeat = json.loads(again.stdout)
    assert repeat["service_created"] is False  # idempotent: the same service
    assert repeat["alerts"][0]["incident_id"] == alert["incident_id"]
    assert repeat["alerts"][0]["deduplicated"] is True

    text = signed_in("test-alert", "--severity", "low")
    assert text.returncode == 0
    assert "Sent to oncallnova-demo" in text.stdout and "/incidents/" in text.stdout
    assert signed_in("test-alert", "--severity", "urgent").returncode == 2


def test_test_batch_sends_three_in_one_request(signed_in: Cli):
    done = signed_in("test-batch", "--json")
    assert done.returncode == 0, done.stderr
    alerts = json.loads(done.stdout)["alerts"]
    assert len(alerts) == 3
    # two "high" alerts correlate into one incident, the "medium" one opens another
    high = {a["incident_id"] for a in alerts[:2]}
    assert len(high) == 1 and alerts[2]["incident_id"] not in high


def test_demo_plays_its_scenario(signed_in: Cli):
    done = signed_in("demo")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6/6 steps passed" in done.stdout
    for n in range(1, 7):
        assert f"PASS {n}." in done.stdout
    assert "the same alert, count 2" in done.stdout
    assert "joined incident" in done.stdout and "MTTR" in done.stdout
    steps = json.loads(signed_in("demo", "--json").stdout)
    assert steps["passed"] is True and len(steps["steps"]) == 6


def test_webhooks(signed_in: Cli):
    done = signed_in(
        "webhook-add",
        "http://127.0.0.1:9/hook",
        "--name",
        "pager bridge",
        "--event",
        "incident.new",
        "--service",
        "oncallnova-demo",
        "--header",
        "X-Team: sre",
    )
    assert done.returncode == 0, done.stderr
    assert "secret: whsec_" in done.stdout and "(shown once)" in done.stdout
    listed = json.loads(signed_in("webhooks", "--json").stdout)["items"]
    hook = next(h for h in listed if h["name"] == "pager bridge")
    assert hook["events"] == ["incident.new"] and hook["headers"] == {"X-Team": "sre"}
    assert len(hook["service_ids"]) == 1
    assert "pager bridge" in signed_in("webhooks").stdout

    bad = signed_in("webhook-add", "ftp://nowhere")
    assert bad.returncode == 1 and "url" in bad.stderr
    assert signed_in("webhook-add", "http://x", "--header", "nocolon").returncode == 2


def test_analytics_chart_and_table(signed_in: Cli):
    assert signed_in("demo").returncode == 0  # at least one resolved incident
    done = signed_in("analytics", "--period", "1d", "--bucket", "1h")
    assert done.returncode == 0, done.stderr
    assert "Incidents per 1h" in done.stdout and "│" in done.stdout
    assert "critical" in done.stdout and "MTTA and MTTR by severity" in done.stdout
    assert "MTTR distribution" in done.stdout
    data = json.loads(signed_in("analytics", "--json", "--period", "1d").stdout)
    assert data["trends"]["totals"]["total"] >= 1
    assert data["distribution"]["mttr"]["overall"]["count"] >= 1
    unknown = signed_in("analytics", "--service", "no-such-service")
    assert unknown.returncode == 1 and "no-such-service" in unknown.stderr
