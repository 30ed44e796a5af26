"""The six roles as separate processes on PostgreSQL and Redis, talking gRPC: alerts of
all three formats into `ingestion`, the incident seen and acknowledged through `web`,
the page in the outbox, the webhook at a receiver."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncallnova.notify.signing import verify
from tests.support.receiver import Receiver
from tests.system.split import Split

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def split(fresh_pg: str, tmp_path: Path) -> Iterator[Split]:
    running = Split(fresh_pg, tmp_path, {"REDIS_URL": REDIS_URL}).start()
    try:
        yield running
    finally:
        running.stop()


def eventually(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_alerts_through_ingestion_are_seen_paged_and_acknowledged_through_web(
    split: Split,
) -> None:
    web = httpx.Client(base_url=split.url("web"), headers=split.servers["web"].headers)
    ingest = httpx.Client(base_url=split.url("ingestion"))
    with Receiver() as receiver, web, ingest:
        # Set-up through web: each call crosses to incidents or oncall over gRPC.
        ann = web.post("/api/v1/users", json={"name": "Ann", "email": "ann@example.com"})
        assert ann.status_code == 201, ann.text
        level = {"delay_seconds": 60, "targets": [{"type": "user", "id": ann.json()["id"]}]}
        policy = web.post("/api/v1/escalation-policies", json={"name": "p", "levels": [level]})
        assert policy.status_code == 201, policy.text
        service = web.post(
            "/api/v1/services",
            json={"name": "checkout", "escalation_policy_id": policy.json()["id"]},
        )
        assert service.status_code == 201, service.text
        key = service.json()["integration_keys"][0]["key"]
        hook = web.post("/api/v1/webhooks", json={"url": receiver.url})
        assert hook.status_code == 201, hook.text
        secret = hook.json()["secret"]

        # The three formats, into ingestion; a 202 means stored (incidents replied).
        native = ingest.post(
            "/api/v1/alerts",
            headers={"X-Routing-Key": key},
            json={"title": "checkout 5xx", "severity": "critical", "dedup_key": "c-5xx"},
        )
        assert native.status_code == 202, native.text
        incident_id = native.json()["alerts"][0]["incident_id"]
        pagerduty = ingest.post(
            "/v2/enqueue",
            json={
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": "c-5xx",
                "payload": {"summary": "checkout 5xx", "source": "lb", "severity": "critical"},
            },
        )
        assert pagerduty.status_code == 202, pagerduty.text
        alertmanager = ingest.post(
            "/api/v1/integrations/alertmanager",
            headers={"X-Routing-Key": key},
            json={
                "version": "4",
                "status": "firing",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": {"alertname": "CheckoutLatency", "severity": "critical"},
                        "annotations": {"summary": "checkout slow"},
                        "fingerprint": "f00d",
                    }
                ],
            },
        )
        assert alertmanager.status_code == 202, alertmanager.text
        bad = ingest.post("/api/v1/alerts", headers={"X-Routing-Key": "nope"}, json={})
        assert bad.status_code == 401  # the key is checked with incidents, over gRPC

        # Seen through web: one incident (same service and severity), its three alerts.
        detail = web.get(f"/api/v1/incidents/{incident_id}").json()
        assert detail["status"] == "triggered"
        assert sorted((a["title"], a["count"]) for a in detail["alerts"]) == [
            ("checkout 5xx", 2),
            ("checkout slow", 1),
        ]
        # The engine pages Ann: the page is in the outbox, shown on the incident.
        paged = eventually(lambda: web.get(f"/api/v1/incidents/{incident_id}").json()["pages"])
        assert [(p["user_id"], p["level"]) for p in paged] == [(ann.json()["id"], 1)]
        # The webhook reached the receiver, signed.
        assert eventually(lambda: receiver.requests)
        first = receiver.requests[0]
        assert verify(secret, first.body, first.headers["x-oncallnova-signature"])

        # Acknowledged through web.
        acked = web.post(f"/api/v1/incidents/{incident_id}/acknowledge")
        assert acked.status_code == 200, acked.text
        assert acked.json()["status"] == "acknowledged"
        again = web.post(f"/api/v1/incidents/{incident_id}/acknowledge")
        assert again.status_code == 409  # the same refusal as the all-in-one's
        listed = web.get("/api/v1/incidents", params={"status": "acknowledged"}).json()
        assert [i["id"] for i in listed["items"]] == [incident_id]

        # A heartbeat monitor made through web, beaten through ingestion (its token is
        # the only credential), seen beating through web.
        monitor = web.post(
            "/api/v1/heartbeat-monitors",
            json={"service_id": service.json()["id"], "name": "nightly", "interval_seconds": 60},
        )
        assert monitor.status_code == 201, monitor.text
        beat = ingest.post(f"/api/v1/heartbeats/{monitor.json()['token']}")
        assert (beat.status_code, beat.json()["state"]) == (200, "up"), beat.text
        assert ingest.get("/api/v1/heartbeats/no-such-token").status_code == 404
        assert web.get(f"/api/v1/heartbeat-monitors/{monitor.json()['id']}").json()["state"] == "up"
        # A silence made through web holds what it matches when ingestion sends it.
        silence = web.post(
            "/api/v1/silences",
            json={
                "matchers": [{"name": "env", "value": "canary"}],
                "ends_at": "2100-01-01T00:00:00Z",
                "comment": "canary noise",
            },
        )
        assert silence.status_code == 201, silence.text
        quiet = ingest.post(
            "/api/v1/alerts",
            headers={"X-Routing-Key": key},
            json={"title": "canary slow", "severity": "low", "labels": {"env": "canary"}},
        )
        assert quiet.status_code == 202, quiet.text
        held = web.get("/api/v1/incidents", params={"silenced": "true"}).json()["items"]
        assert [i["silence_id"] for i in held] == [silence.json()["id"]]
