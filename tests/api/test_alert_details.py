"""What the alerts say is shown: their details on the incident page (links safely), and
every distinct alert of an incident in the list and on its timeline."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import new_service
from tests.web.test_page_security import assert_safe_html


def am_webhook(annotations: dict[str, str], generator: str) -> dict[str, Any]:
    return {
        "version": "4",
        "status": "firing",
        "receiver": "oncallnova",
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "severity": "critical", "host": "db1"},
                "annotations": annotations,
                "startsAt": "2026-03-01T11:59:00Z",
                "generatorURL": generator,
                "fingerprint": "fp-disk",
            }
        ],
    }


def links(html: str) -> dict[str, str]:
    """href -> the whole <a> tag, for every link whose target is another site."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<a href="(https?://[^"]*)"[^>]*>', html)}


async def page(client: httpx.AsyncClient, incident_id: str) -> str:
    response = await client.get(f"/incidents/{incident_id}")
    assert response.status_code == 200, response.text[:300]
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert " style=" not in response.text and "<script>" not in response.text
    return response.text


async def test_alertmanager_annotations_runbook_and_generator_url_are_shown(
    client: httpx.AsyncClient,
) -> None:
    svc = await new_service(client)
    hook = am_webhook(
        {
            "summary": "Disk full on db1",
            "description": "Only 2% left on /var",
            "runbook_url": "https://wiki.example/runbooks/disk?x=1&y=2",
            "dashboard_url": "javascript:alert(1)",
            "owner": "<b>storage team</b>",
        },
        "http://prometheus:9090/graph?g0.expr=disk",
    )
    response = await client.post(
        "/api/v1/integrations/alertmanager", json=hook, headers={"X-Routing-Key": svc["key"]}
    )
    assert response.status_code == 202, response.text
    incident_id = response.json()["alerts"][0]["incident_id"]
    html = await page(client, incident_id)
    assert "Only 2% left on /var" in html
    assert "&lt;b&gt;storage team&lt;/b&gt;" in html and "<b>storage team" not in html
    found = links(html)
    runbook = found["https://wiki.example/runbooks/disk?x=1&amp;y=2"]
    assert 'rel="noopener noreferrer"' in runbook
    assert 'rel="noopener noreferrer"' in found["http://prometheus:9090/graph?g0.expr=disk"]
    # A javascript: URL is shown as text, never as a link.
    assert 'href="javascript:' not in html
    assert "javascript:alert(1)" in html
    detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    assert {"text": "Runbook", "href": "https://wiki.example/runbooks/disk?x=1&y=2"} in (
        detail["alerts"][0]["links"]
    )


async def test_pagerduty_custom_details_and_links_are_shown(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    event = {
        "routing_key": svc["key"],
        "event_action": "trigger",
        "dedup_key": "pay",
        "client": "Datadog",
        "client_url": "https://datadog.example/monitor/1",
        "links": [{"href": "https://status.example/pay", "text": "Status page"}],
        "payload": {
            "summary": "Payments failing",
            "source": "pay1",
            "severity": "critical",
            "custom_details": {"error_rate": "37%", "region": "eu-<west>"},
        },
    }
    assert (await client.post("/v2/enqueue", json=event)).status_code == 202
    incident_id = (await client.get("/api/v1/incidents")).json()["items"][0]["id"]
    html = await page(client, incident_id)
    assert "&#34;error_rate&#34;: &#34;37%&#34;" in html
    assert "eu-&lt;west&gt;" in html
    found = links(html)
    assert ">Status page<" in html[html.index("https://status.example/pay") :][:200]
    assert 'rel="noopener noreferrer"' in found["https://status.example/pay"]
    assert 'rel="noopener noreferrer"' in found["https://datadog.example/monitor/1"]


async def test_native_details_and_runbook_url(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    alert = {
        "title": "Checkout slow",
        "severity": "high",
        "description": "p99 over 2 s",
        "runbook_url": "https://runbooks.example/checkout",
        "details": {"p99_ms": 2300},
    }
    response = await client.post(
        "/api/v1/alerts", json=alert, headers={"X-Routing-Key": svc["key"]}
    )
    assert response.status_code == 202, response.text
    html = await page(client, response.json()["alerts"][0]["incident_id"])
    assert "p99 over 2 s" in html
    assert "&#34;p99_ms&#34;: 2300" in html  # the custom details, as escaped JSON
    assert 'rel="noopener noreferrer"' in links(html)["https://runbooks.example/checkout"]
    bad = {**alert, "runbook_url": "javascript:alert(1)"}
    refused = await client.post("/api/v1/alerts", json=bad, headers={"X-Routing-Key": svc["key"]})
    assert refused.status_code == 422 and "runbook_url" in refused.json()["detail"]


async def test_a_joining_alert_is_seen_in_the_list_and_on_the_timeline(
    client: httpx.AsyncClient,
) -> None:
    svc = await new_service(client)
    key = {"X-Routing-Key": svc["key"]}
    noisy = {"title": "5xx on checkout", "severity": "high", "dedup_key": "5xx"}
    first = (await client.post("/api/v1/alerts", json=noisy, headers=key)).json()["alerts"][0]
    for _ in range(3):  # repeats are not new alerts
        await client.post("/api/v1/alerts", json=noisy, headers=key)
    new = {"title": "Database primary down", "severity": "high", "dedup_key": "db"}
    joined = (await client.post("/api/v1/alerts", json=new, headers=key)).json()["alerts"][0]
    assert joined["incident_id"] == first["incident_id"]

    listing = (await client.get("/api/v1/incidents")).json()
    (item,) = listing["items"]
    assert item["title"] == "5xx on checkout"
    assert item["alert_count"] == 2
    assert item["other_titles"] == ["Database primary down"]
    assert item["other_titles_total"] == 1

    detail = (await client.get(f"/api/v1/incidents/{first['incident_id']}")).json()
    joins = [e["message"] for e in detail["timeline"] if e["kind"] == "alert"]
    assert joins == ["Alert joined: Database primary down"]

    response = await client.get("/incidents")
    assert_safe_html(response)
    row = response.text[response.text.index(f'data-incident="{first["incident_id"]}"') :]
    row = row[: row.index("</tr>")]
    assert "5xx on checkout" in row and "Database primary down" in row


async def test_list_caps_other_titles_and_counts_the_rest(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    batch = [{"title": f"alert {n}", "severity": "low"} for n in range(9)]
    response = await client.post(
        "/api/v1/alerts", json=batch, headers={"X-Routing-Key": svc["key"]}
    )
    assert response.status_code == 202
    (item,) = (await client.get("/api/v1/incidents")).json()["items"]
    assert item["title"] == "alert 0"
    assert len(item["other_titles"]) == 5 and "alert 0" not in item["other_titles"]
    assert item["other_titles_total"] == 8
    html = (await client.get("/incidents")).text
    assert "+3 more" in html
