"""Opsgenie's Alert API at /v2/alerts, answering as Opsgenie does.

The bodies are the examples of Opsgenie's Alert API documentation (docs.opsgenie.com,
"Alert API": Create Alert, Close Alert, Acknowledge Alert, Add Note to Alert) and the
request status shape of the same page ("Get Request Status"); the 404 text of an
unknown request is Opsgenie's as its clients quote it.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import new_service

# Opsgenie's documented Create Alert example body.
DOCUMENTED_CREATE: dict[str, Any] = {
    "message": "An example alert message",
    "alias": "Life is too short for no alias",
    "description": "Every alert needs a description",
    "responders": [
        {"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "team"},
        {"name": "NOC", "type": "team"},
        {"id": "bb4d9938-c3c2-455d-aaab-727aa701c0d8", "type": "user"},
        {"username": "trinity@opsgenie.com", "type": "user"},
        {"id": "aee8a0de-c80f-4515-a232-501c0bc9d715", "type": "escalation"},
        {"name": "Nightwatch Escalation", "type": "escalation"},
        {"id": "80564037-1984-4f38-b98e-8a1f662df552", "type": "schedule"},
        {"name": "First Responders Schedule", "type": "schedule"},
    ],
    "visibleTo": [
        {"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "team"},
        {"name": "rocket_team", "type": "team"},
        {"id": "bb4d9938-c3c2-455d-aaab-727aa701c0d8", "type": "user"},
        {"username": "trinity@opsgenie.com", "type": "user"},
    ],
    "actions": ["Restart", "AnExampleAction"],
    "tags": ["OverwriteQuietHours", "Critical"],
    "details": {"key1": "value1", "key2": "value2"},
    "entity": "An example entity",
    "priority": "P1",
}
# Opsgenie's documented body of Close, Acknowledge and Add Note.
DOCUMENTED_ACTION = {
    "user": "Monitoring Script",
    "source": "AWS Lambda",
    "note": "Action executed via Alert API",
}


def genie(key: str) -> dict[str, str]:
    return {"Authorization": f"GenieKey {key}"}


async def status_of(client: httpx.AsyncClient, key: str, answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["result"] == "Request will be processed"
    assert isinstance(body["took"], float)
    polled = await client.get(f"/v2/alerts/requests/{body['requestId']}", headers=genie(key))
    assert polled.status_code == 200, polled.text
    result: dict[str, Any] = polled.json()
    assert set(result) == {"data", "took", "requestId"}
    return result["data"]


async def only_incident(client: httpx.AsyncClient) -> dict[str, Any]:
    listing = (await client.get("/api/v1/incidents")).json()
    assert listing["total"] == 1
    detail: dict[str, Any] = (
        await client.get(f"/api/v1/incidents/{listing['items'][0]['id']}")
    ).json()
    return detail


async def test_documented_create_then_request_status(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    answer = await client.post("/v2/alerts", json=DOCUMENTED_CREATE, headers=genie(svc["key"]))
    data = await status_of(client, svc["key"], answer)
    assert data["success"] is True and data["isSuccess"] is True
    assert data["action"] == "Create"
    assert data["status"] == "Created alert"
    assert data["alias"] == "Life is too short for no alias"
    assert data["integrationId"] == svc["id"]
    assert data["processedAt"].endswith("Z")
    incident = await only_incident(client)
    assert incident["severity"] == "critical"  # P1
    alert = incident["alerts"][0]
    assert alert["id"] == data["alertId"]
    assert alert["title"] == "An example alert message"
    assert alert["description"] == "Every alert needs a description"
    assert alert["labels"] == {"OverwriteQuietHours": "true", "Critical": "true"}
    assert alert["details"]["custom_details"] == {"key1": "value1", "key2": "value2"}
    assert alert["details"]["entity"] == "An example entity"
    assert alert["details"]["responders"][1] == {"name": "NOC", "type": "team"}
    # the same alias again is a repeat of the open alert
    again = await client.post("/v2/alerts", json=DOCUMENTED_CREATE, headers=genie(svc["key"]))
    repeat = await status_of(client, svc["key"], again)
    assert repeat["alertId"] == data["alertId"]
    assert "already exists" in repeat["status"]
    assert (await only_incident(client))["alerts"][0]["count"] == 2


async def test_priorities_map_to_severities(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    expected = {"P1": "critical", "P2": "high", "P3": "medium", "P4": "low", "P5": "low"}
    for priority, severity in expected.items():
        body = {"message": f"m {priority}", "alias": priority, "priority": priority}
        answer = await client.post("/v2/alerts", json=body, headers=genie(svc["key"]))
        data = await status_of(client, svc["key"], answer)
        incidents = (await client.get("/api/v1/incidents", params={"severity": severity})).json()
        ids = {
            a["id"]
            for i in incidents["items"]
            for a in (await client.get(f"/api/v1/incidents/{i['id']}")).json()["alerts"]
        }
        assert data["alertId"] in ids, priority
    plain = await client.post("/v2/alerts", json={"message": "default"}, headers=genie(svc["key"]))
    data = await status_of(client, svc["key"], plain)
    assert len(data["alias"]) >= 16  # an alert without alias gets its own
    medium = (await client.get("/api/v1/incidents", params={"severity": "medium"})).json()
    assert medium["total"] >= 1


async def test_close_acknowledge_and_note_by_alias_id_and_tiny(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    key = svc["key"]
    created = await status_of(
        client, key, await client.post("/v2/alerts", json=DOCUMENTED_CREATE, headers=genie(key))
    )
    alias = DOCUMENTED_CREATE["alias"]
    # acknowledge by alias, with Opsgenie's documented body
    ack = await client.post(
        f"/v2/alerts/{alias}/acknowledge",
        params={"identifierType": "alias"},
        json=DOCUMENTED_ACTION,
        headers=genie(key),
    )
    data = await status_of(client, key, ack)
    assert (data["action"], data["success"], data["alertId"]) == (
        "Acknowledge",
        True,
        created["alertId"],
    )
    incident = await only_incident(client)
    assert incident["status"] == "acknowledged"
    notes = [e for e in incident["timeline"] if e["kind"] == "note"]
    assert notes[-1]["message"] == "Action executed via Alert API (Monitoring Script)"
    # a note by the alert's id (the default identifierType)
    note = await client.post(
        f"/v2/alerts/{created['alertId']}/notes",
        json={"note": "looking into it", "user": "ann"},
        headers=genie(key),
    )
    assert (await status_of(client, key, note))["status"] == "Added note"
    incident = await only_incident(client)
    assert incident["timeline"][-1]["message"] == "looking into it (ann)"
    # close by the incident's short number: every alert of it, and so the incident
    close = await client.post(
        f"/v2/alerts/{incident['number']}/close",
        params={"identifierType": "tiny"},
        headers=genie(key),
    )
    data = await status_of(client, key, close)
    assert (data["action"], data["status"]) == ("Close", "Closed alert")
    incident = await only_incident(client)
    assert incident["status"] == "resolved"
    assert incident["alerts"][0]["status"] == "resolved"
    # closing again succeeds and says so; acknowledging a closed alert does not
    again = await client.post(
        f"/v2/alerts/{alias}/close", params={"identifierType": "alias"}, headers=genie(key)
    )
    assert (await status_of(client, key, again))["status"] == "Alert is already closed"
    late = await client.post(f"/v2/alerts/{created['alertId']}/acknowledge", headers=genie(key))
    assert (await status_of(client, key, late))["success"] is False


async def test_unknown_alert_and_other_services_alerts(client: httpx.AsyncClient) -> None:
    mine = await new_service(client, "mine")
    other = await new_service(client, "other")
    created = await status_of(
        client,
        other["key"],
        await client.post(
            "/v2/alerts", json={"message": "x", "alias": "a1"}, headers=genie(other["key"])
        ),
    )
    for path, params in (
        ("/v2/alerts/nope/close", {"identifierType": "alias"}),
        (f"/v2/alerts/{created['alertId']}/close", {}),  # another service's alert
        ("/v2/alerts/a1/close", {"identifierType": "alias"}),
        ("/v2/alerts/99999/acknowledge", {"identifierType": "tiny"}),
    ):
        answer = await client.post(path, params=params, headers=genie(mine["key"]))
        data = await status_of(client, mine["key"], answer)
        assert (data["success"], data["status"]) == (False, "Alert does not exist"), path
    # the other service's alert is still open, and its request is not mine to read
    assert (await only_incident(client))["status"] == "triggered"
    foreign = await client.post("/v2/alerts", json={"message": "y"}, headers=genie(other["key"]))
    request_id = foreign.json()["requestId"]
    hidden = await client.get(f"/v2/alerts/requests/{request_id}", headers=genie(mine["key"]))
    assert hidden.status_code == 404
    body = hidden.json()
    assert body["message"] == "Request not found. It might not be processed, yet."
    assert set(body) == {"message", "took", "requestId"}
