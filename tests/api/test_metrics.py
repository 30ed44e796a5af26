"""Prometheus /metrics: database-derived state, process counters, HTTP durations, token."""

from __future__ import annotations

from typing import Any

import httpx
import prometheus_client
from prometheus_client.parser import text_string_to_metric_families

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import level, policy, schedule, user
from tests.conftest import RuntimeFactory, api_client, new_service

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


async def post_alert(
    client: httpx.AsyncClient, key: str, title: str, severity: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/alerts",
        json={"title": title, "severity": severity},
        headers={"X-Routing-Key": key},
    )
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()["alerts"][0]
    return result


async def test_incident_counts_gauges_histograms_and_ingest_counters(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    checkout = await new_service(client, "checkout")
    search = await new_service(client, "search")
    first = await post_alert(client, checkout["key"], "Checkout down", "critical")
    repeat = await post_alert(client, checkout["key"], "Checkout down", "critical")
    slow = await post_alert(client, checkout["key"], "Checkout slow", "high")
    other = await post_alert(client, search["key"], "Search down", "critical")
    assert repeat["deduplicated"] and not first["deduplicated"]
    pd = await client.post(
        "/v2/enqueue",
        json={
            "routing_key": search["key"],
            "event_action": "trigger",
            "payload": {"summary": "Index lag", "source": "idx", "severity": "warning"},
        },
    )
    assert pd.status_code == 202, pd.text

    clock.advance(90)
    ack = await client.post(f"/api/v1/incidents/{first['incident_id']}/acknowledge")
    assert ack.json()["mtta_seconds"] == 90
    clock.advance(210)
    done = await client.post(f"/api/v1/incidents/{first['incident_id']}/resolve")
    assert done.json()["mttr_seconds"] == 300
    clock.advance(3600)
    done = await client.post(f"/api/v1/incidents/{slow['incident_id']}/resolve")
    assert done.json()["mttr_seconds"] == 3900
    assert (await client.get("/no/such/page")).status_code == 404

    samples = await scrape(client)
    incidents = {
        dict(labels)["severity"] + "/" + dict(labels)["service"]: v
        for (name, labels), v in samples.items()
        if name == "oncall_incidents_total"
    }
    assert incidents == {
        "critical/checkout": 1,
        "high/checkout": 1,
        "critical/search": 1,
        "medium/search": 1,
    }
    active = {
        dict(labels)["severity"]: v
        for (name, labels), v in samples.items()
        if name == "oncall_incidents_active"
    }
    assert active == {"critical": 1, "high": 0, "medium": 1, "low": 0}
    assert other["incident_id"] not in (first["incident_id"], slow["incident_id"])

    # MTTA: one critical incident acknowledged after 90 s (the high one was never acked).
    assert value(samples, "oncall_mtta_seconds_count", severity="critical") == 1
    assert value(samples, "oncall_mtta_seconds_sum", severity="critical") == 90
    assert value(samples, "oncall_mtta_seconds_bucket", severity="critical", le="60.0") == 0
    assert value(samples, "oncall_mtta_seconds_bucket", severity="critical", le="120.0") == 1
    assert value(samples, "oncall_mtta_seconds_bucket", severity="critical", le="+Inf") == 1
    assert value(samples, "oncall_mtta_seconds_count", severity="high") is None
    # MTTR: critical 300 s, high 3900 s; bucket bounds are inclusive (le).
    assert value(samples, "oncall_mttr_seconds_count", severity="critical") == 1
    assert value(samples, "oncall_mttr_seconds_sum", severity="critical") == 300
    assert value(samples, "oncall_mttr_seconds_bucket", severity="critical", le="120.0") == 0
    assert value(samples, "oncall_mttr_seconds_bucket", severity="critical", le="300.0") == 1
    assert value(samples, "oncall_mttr_seconds_count", severity="high") == 1
    assert value(samples, "oncall_mttr_seconds_sum", severity="high") == 3900
    assert value(samples, "oncall_mttr_seconds_bucket", severity="high", le="3600.0") == 0
    assert value(samples, "oncall_mttr_seconds_bucket", severity="high", le="7200.0") == 1

    ingested = "oncall_alerts_ingested_total"
    assert value(samples, ingested, service="checkout", deduplicated="false") == 2
    assert value(samples, ingested, service="checkout", deduplicated="true") == 1
    assert value(samples, ingested, service="search", deduplicated="false") == 2
    assert value(samples, ingested, service="search", deduplicated="true") is None
    assert value(samples, "oncall_oncall_engineers_active") == 0

    http = "oncall_http_request_duration_seconds_count"
    assert value(samples, http, method="POST", route="/api/v1/alerts", status="202") == 4
    assert value(samples, http, method="POST", route="/v2/enqueue", status="202") == 1
    acked = "/api/v1/incidents/{incident_id}/acknowledge"
    assert value(samples, http, method="POST", route=acked, status="200") == 1
    assert value(samples, http, method="GET", route="other", status="404") == 1
    routes = {dict(labels).get("route") for (name, labels) in samples if name == http}
    assert not any(first["incident_id"] in r for r in routes if r)  # templates, not paths


async def test_on_call_engineers_escalations_and_notifications(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    bob = await user(client, "Bob")
    carol = await user(client, "Carol")
    layer = {"name": "weekly", "turn": "weekly", "handoff": "2026-01-05T09:00:00Z"}
    rota = await schedule(client, "Primary", [{**layer, "users": [bob]}])
    await schedule(client, "Secondary", [{**layer, "users": [carol]}])
    await schedule(client, "Shadow", [{**layer, "users": [bob]}])
    policy_id = await policy(client, "Default", [level(300, ("schedule", rota["id"]))])
    svc = await new_service(client, escalation_policy_id=policy_id)
    await post_alert(client, svc["key"], "Checkout down", "critical")
    done = await rt.engine.run_once()  # pages level 1 (Bob), then tries to email him
    assert done["escalation"] == 1

    samples = await scrape(client)
    assert value(samples, "oncall_oncall_engineers_active") == 2  # Bob and Carol, once each
    assert value(samples, "oncall_escalations_total") == 1
    # No SMTP_HOST in tests: email is off, so the page is marked failed for good.
    assert value(samples, "oncall_notifications_total", channel="email", outcome="failed") == 1


async def test_metrics_token_is_required_when_set(make_runtime: RuntimeFactory) -> None:
    rt = await make_runtime(METRICS_TOKEN="scrape-secret-123")
    async with api_client(rt, token="") as anonymous, api_client(rt) as admin:
        assert (await anonymous.get("/metrics")).status_code == 401
        wrong = await anonymous.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        basic = await anonymous.get("/metrics", headers={"Authorization": "Basic eDp5"})
        assert basic.status_code == 401
        # A user's JWT is not the metrics credential.
        assert (await admin.get("/metrics")).status_code == 401
        good = await anonymous.get(
            "/metrics", headers={"Authorization": "Bearer scrape-secret-123"}
        )
        assert good.status_code == 200
        assert "oncall_incidents_active" in good.text


async def test_metrics_open_without_token_and_not_in_openapi(rt: Runtime) -> None:
    async with api_client(rt, token="") as anonymous:
        assert (await anonymous.get("/metrics")).status_code == 200
        document = (await anonymous.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]


async def test_two_runtimes_have_separate_registries(make_runtime: RuntimeFactory) -> None:
    one = await make_runtime()
    two = await make_runtime()
    assert one.metrics.registry is not two.metrics.registry
    async with api_client(one) as client_one, api_client(two, token="") as client_two:
        svc = await new_service(client_one, "payments")
        await post_alert(client_one, svc["key"], "Payments down", "low")
        first = await scrape(client_one)
        second = await scrape(client_two)
    ingested = "oncall_alerts_ingested_total"
    assert value(first, ingested, service="payments", deduplicated="false") == 1
    assert value(second, ingested, service="payments", deduplicated="false") is None
    # ... while the database-derived numbers agree (both read the same database).
    key = ("oncall_incidents_total", frozenset({"severity": "low", "service": "payments"}.items()))
    assert first[key] == second[key] == 1
    # Nothing is registered on the process-global default registry.
    global_names = {m.name for m in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("oncall_") for name in global_names)


async def test_requests_through_a_trusted_proxy_keep_their_route_label(
    make_runtime: RuntimeFactory,
) -> None:
    rt = await make_runtime(TRUSTED_PROXIES="127.0.0.1", RATE_LIMIT_ENABLED=False)
    async with api_client(rt) as http:
        service = await new_service(http)
        forwarded = {"X-Routing-Key": service["key"], "X-Forwarded-For": "203.0.113.9"}
        body = {"title": "behind the gateway", "severity": "low"}
        assert (await http.post("/api/v1/alerts", json=body, headers=forwarded)).status_code == 202
        samples = await scrape(http)
    http_count = "oncall_http_request_duration_seconds_count"
    assert value(samples, http_count, method="POST", route="/api/v1/alerts", status="202") == 1
