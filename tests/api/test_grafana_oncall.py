"""Grafana OnCall's integration URLs, with the example bodies of grafana/oncall's own
integration configs (`engine/config_integrations/<type>.py`, `example_payload`) and of
its views (`engine/apps/integrations/views.py`, the legacy Grafana notification)."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from oncallnova.runtime.container import Runtime
from tests.conftest import new_service

# engine/config_integrations/alertmanager.py (and grafana_alerting.py), example_payload.
ALERTMANAGER_EXAMPLE: dict[str, Any] = {
    "alerts": [
        {
            "endsAt": "0001-01-01T00:00:00Z",
            "labels": {
                "job": "node",
                "group": "production",
                "instance": "localhost:8081",
                "severity": "critical",
                "alertname": "InstanceDown",
            },
            "status": "firing",
            "startsAt": "2023-06-12T08:24:38.326Z",
            "annotations": {
                "title": "Instance localhost:8081 down",
                "description": "localhost:8081 of job node has been down for more than 1 minute.",
            },
            "fingerprint": "f404ecabc8dd5cd7",
            "generatorURL": "",
        },
        {
            "endsAt": "0001-01-01T00:00:00Z",
            "labels": {
                "job": "node",
                "group": "canary",
                "instance": "localhost:8082",
                "severity": "critical",
                "alertname": "InstanceDown",
            },
            "status": "firing",
            "startsAt": "2023-06-12T08:24:38.326Z",
            "annotations": {
                "title": "Instance localhost:8082 down",
                "description": "localhost:8082 of job node has been down for more than 1 minute.",
            },
            "fingerprint": "f8f08d4e32c61a9d",
            "generatorURL": "",
        },
    ],
    "status": "firing",
    "version": "4",
    "groupKey": '{}:{alertname="InstanceDown"}',
    "receiver": "combo",
    "numFiring": 2,
    "externalURL": "",
    "groupLabels": {"alertname": "InstanceDown"},
    "numResolved": 0,
    "commonLabels": {"job": "node", "severity": "critical", "alertname": "InstanceDown"},
    "truncatedAlerts": 0,
    "commonAnnotations": {},
}
# engine/apps/integrations/views.py, GrafanaAPIView: "Example of request.data from old Grafana".
LEGACY_GRAFANA_EXAMPLE = {
    "evalMatches": [
        {"value": 100, "metric": "High value", "tags": None},
        {"value": 200, "metric": "Higher Value", "tags": None},
    ],
    "imageUrl": "http://grafana.org/assets/img/blog/mixed_styles.png",
    "message": "Someone is testing the alert notification within grafana.",
    "ruleId": 0,
    "ruleName": "Test notification",
    "ruleUrl": "http://localhost:3000/",
    "state": "alerting",
    "title": "[Alerting] Test notification",
}
# engine/config_integrations/formatted_webhook.py, example_payload.
FORMATTED_EXAMPLE = {
    "alert_uid": "08d6891a-835c-e661-39fa-96b6a9e26552",
    "title": "TestAlert: The whole system is down",
    "image_url": "https://upload.wikimedia.org/wikipedia/commons/e/ee/Grumpy_Cat_by_Gage_Skidmore.jpg",
    "state": "alerting",
    "link_to_upstream_details": "https://en.wikipedia.org/wiki/Downtime",
    "message": "This alert was sent by user for the demonstration purposes\nSmth happened. Oh no!",
}
# engine/config_integrations/webhook.py, example_payload.
WEBHOOK_EXAMPLE = {"message": "This alert was sent by user for the demonstration purposes"}


async def incidents(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items = (await client.get("/api/v1/incidents")).json()["items"]
    return [(await client.get(f"/api/v1/incidents/{i['id']}")).json() for i in items]


async def send(client: httpx.AsyncClient, kind: str, key: str, body: object) -> dict[str, Any]:
    response = await client.post(f"/integrations/v1/{kind}/{key}/", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_alertmanager_and_grafana_alerting_group_by_group_key(
    client: httpx.AsyncClient,
) -> None:
    for kind in ("alertmanager", "grafana_alerting"):
        svc = await new_service(client, kind)
        body = copy.deepcopy(ALERTMANAGER_EXAMPLE)
        if kind == "grafana_alerting":  # the fields Grafana adds to the Alertmanager form
            body.update(version="1", orgId=1, state="alerting", title="[FIRING:2] InstanceDown")
        first = await send(client, kind, svc["key"], body)
        assert first["accepted"] == 1  # the whole group is one alert, as Grafana OnCall had it
        again = await send(client, kind, svc["key"], body)
        assert again["alerts"][0]["deduplicated"] is True
        [incident] = [i for i in await incidents(client) if i["service_id"] == svc["id"]]
        [alert] = incident["alerts"]
        assert alert["count"] == 2 and alert["severity"] == "critical"
        assert alert["dedup_key"] == '{}:{alertname="InstanceDown"}'
        assert alert["details"]["firing"] == 2
        assert len(alert["details"]["alerts"]) == 2
        body["status"] = "resolved"
        for entry in body["alerts"]:
            entry["status"] = "resolved"
        await send(client, kind, svc["key"], body)
        [incident] = [i for i in await incidents(client) if i["service_id"] == svc["id"]]
        assert incident["status"] == "resolved"


async def test_legacy_grafana_by_rule_and_entries_one_by_one(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    await send(client, "grafana", svc["key"], LEGACY_GRAFANA_EXAMPLE)
    [incident] = await incidents(client)
    alert = incident["alerts"][0]
    assert alert["title"] == "[Alerting] Test notification"
    assert alert["description"] == "Someone is testing the alert notification within grafana."
    assert {"text": "Grafana rule", "href": "http://localhost:3000/"} in alert["links"]
    await send(client, "grafana", svc["key"], {**LEGACY_GRAFANA_EXAMPLE, "state": "ok"})
    assert (await incidents(client))[0]["status"] == "resolved"
    # Alertmanager-form entries sent to the `grafana` URL: one alert each
    entries = await send(client, "grafana", svc["key"], {"alerts": ALERTMANAGER_EXAMPLE["alerts"]})
    assert entries["accepted"] == 2
    keys = {a["fingerprint"] for a in entries["alerts"]}
    assert keys == {"f404ecabc8dd5cd7", "f8f08d4e32c61a9d"}


async def test_formatted_webhook_by_alert_uid(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    first = await send(
        client, "formatted_webhook", svc["key"], {**FORMATTED_EXAMPLE, "severity_x": "1"}
    )
    assert first["warnings"] == ["severity_x: unknown field, ignored"]
    [incident] = await incidents(client)
    alert = incident["alerts"][0]
    assert alert["title"] == "TestAlert: The whole system is down"
    assert alert["description"].startswith("This alert was sent")
    hrefs = {link["href"] for link in alert["links"]}
    assert "https://en.wikipedia.org/wiki/Downtime" in hrefs
    await send(client, "formatted_webhook", svc["key"], {**FORMATTED_EXAMPLE, "state": "OK"})
    assert (await incidents(client))[0]["status"] == "resolved"


async def test_generic_webhook(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    await send(client, "webhook", svc["key"], WEBHOOK_EXAMPLE)
    [incident] = await incidents(client)
    alert = incident["alerts"][0]
    assert alert["title"] == WEBHOOK_EXAMPLE["message"]
    assert alert["details"]["custom_details"] == WEBHOOK_EXAMPLE
    # the same body with state OK resolves it; an identity field keeps alerts apart
    await send(client, "webhook", svc["key"], {**WEBHOOK_EXAMPLE, "state": "OK"})
    assert (await incidents(client))[0]["status"] == "resolved"
    await send(
        client, "webhook", svc["key"], {"id": 7, "title": "disk full", "url": "https://x.example/7"}
    )
    await send(client, "webhook", svc["key"], {"id": 8, "title": "disk full"})
    open_alerts = [
        a for i in await incidents(client) for a in i["alerts"] if a["status"] == "firing"
    ]
    assert len(open_alerts) == 2


async def test_heartbeat_is_recorded(client: httpx.AsyncClient, rt: Runtime) -> None:
    svc = await new_service(client)
    got = await client.get(f"/integrations/v1/alertmanager/{svc['key']}/heartbeat/")
    assert got.status_code == 200 and got.json()["beats"] == 1
    posted = await client.post(f"/integrations/v1/alertmanager/{svc['key']}/heartbeat/")
    assert posted.status_code == 200 and posted.json()["beats"] == 2
    beat = await rt.use_cases.integration_beats.last(svc["id"], "alertmanager")
    assert beat is not None and beat.beats == 2
    assert (await client.get("/api/v1/incidents")).json()["total"] == 0
