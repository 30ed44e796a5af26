"""Service, escalation policy and webhook pages rendered on the server (no browser), per role."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import level, policy, schedule, user
from tests.conftest import api_client, new_service, sign_in


@pytest.fixture
async def catalogue(client: httpx.AsyncClient) -> dict[str, Any]:
    """A team, a user, a schedule, a policy naming both, a service using it, a webhook."""
    ann = await user(client, "Ann")
    rota = await schedule(
        client,
        "Primary rota",
        [{"name": "weekly", "users": [ann], "turn": "weekly", "handoff": "2026-01-05T09:00:00Z"}],
    )
    policy_id = await policy(
        client, "Checkout policy", [level(300, ("user", ann)), level(600, ("schedule", rota["id"]))]
    )
    team = await client.post("/api/v1/teams", json={"name": "Payments", "member_ids": [ann]})
    svc = await new_service(
        client,
        "checkout",
        description="Takes the money",
        team_id=team.json()["id"],
        escalation_policy_id=policy_id,
    )
    hook = await client.post(
        "/api/v1/webhooks", json={"name": "chat", "url": "http://127.0.0.1:9/"}
    )
    assert hook.status_code == 201, hook.text
    return {"policy": policy_id, "service": svc, "webhook": hook.json()["id"]}


async def test_admin_sees_the_catalogue_and_every_control(
    client: httpx.AsyncClient, catalogue: dict[str, Any]
) -> None:
    svc = catalogue["service"]
    listing = await client.get("/services")
    assert listing.status_code == 200
    assert "<h1>Services</h1>" in listing.text
    assert "checkout" in listing.text and "Payments" in listing.text
    assert "Checkout policy" in listing.text
    assert 'data-api="/api/v1/services"' in listing.text

    page = await client.get(f"/services/{svc['id']}")
    assert page.status_code == 200
    html = page.text
    assert "Takes the money" in html
    assert f'data-copy="{svc["key"]}"' in html  # the key with its copy button
    assert f'data-api="/api/v1/services/{svc["id"]}/integration-keys"' in html
    assert 'data-method="DELETE"' in html and 'data-method="PATCH"' in html
    assert 'id="new-key" class="secret" hidden' in html
    assert "/api/v1/alerts" in html and "/v2/enqueue" in html
    assert "/api/v1/integrations/alertmanager" in html and "X-Routing-Key" in html
    assert f'href="/incidents?service_id={svc["id"]}"' in html

    policies = await client.get("/escalation-policies")
    assert policies.status_code == 200
    assert "Checkout policy" in policies.text and "Ann" in policies.text
    assert 'data-api="/api/v1/escalation-policies"' in policies.text
    one = await client.get(f"/escalation-policies/{catalogue['policy']}")
    assert one.status_code == 200
    assert "Ann" in one.text and "Primary rota" in one.text and "5m 0s" in one.text
    assert 'data-type="json"' in one.text and "delay_seconds" in one.text
    assert 'data-method="DELETE"' in one.text

    hooks = await client.get("/webhooks")
    assert hooks.status_code == 200
    assert "chat" in hooks.text and 'name="events[]"' in hooks.text
    assert 'id="new-secret"' in hooks.text
    hook = await client.get(f"/webhooks/{catalogue['webhook']}")
    assert hook.status_code == 200
    hook_api = f"/api/v1/webhooks/{catalogue['webhook']}"
    for action in ("/test", "/rotate-secret"):
        assert f'data-api="{hook_api}{action}"' in hook.text
    assert "No deliveries yet." in hook.text


async def test_empty_pages_say_what_to_do(client: httpx.AsyncClient) -> None:
    for url, text in [
        ("/services", "No services yet."),
        ("/escalation-policies", "No escalation policies yet."),
        ("/webhooks", "No webhooks yet."),
    ]:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert text in response.text


async def test_viewer_reads_without_controls_and_is_refused_webhooks(
    rt: Runtime, client: httpx.AsyncClient, catalogue: dict[str, Any]
) -> None:
    svc = catalogue["service"]
    token = await sign_in(rt, "viewer@example.com", "viewer")
    async with api_client(rt, token) as viewer:
        for url in ("/services", f"/services/{svc['id']}"):
            response = await viewer.get(url)
            assert response.status_code == 200, url
            assert "checkout" in response.text
            assert "data-api=" not in response.text.split("</header>", 1)[1], url
        for url in ("/escalation-policies", f"/escalation-policies/{catalogue['policy']}"):
            response = await viewer.get(url)
            assert response.status_code == 200, url
            assert "Checkout policy" in response.text
            assert "data-api=" not in response.text.split("</header>", 1)[1], url
        for url in ("/webhooks", f"/webhooks/{catalogue['webhook']}"):
            response = await viewer.get(url)
            assert response.status_code == 403, url
            assert "text/html" in response.headers["content-type"]
            assert "Not allowed" in response.text and "chat" not in response.text


async def test_unknown_ids_are_html_404_pages(client: httpx.AsyncClient) -> None:
    for url in ("/services/nope", "/escalation-policies/nope", "/webhooks/nope"):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert "text/html" in response.headers["content-type"]
        assert "<h1>Not found</h1>" in response.text


async def test_anonymous_visitor_is_sent_to_sign_in(rt: Runtime) -> None:
    async with api_client(rt, "") as anonymous:
        response = await anonymous.get("/services")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fservices"


async def test_services_list_counts_open_incidents_per_service(client: httpx.AsyncClient) -> None:
    busy = await new_service(client, "busy")
    await new_service(client, "quiet")
    opened = []
    for severity in ("critical", "high", "low"):  # three incidents (one per severity)
        response = await client.post(
            "/api/v1/alerts",
            headers={"X-Routing-Key": busy["key"]},
            json={"title": f"{severity} down", "severity": severity},
        )
        opened.append(response.json()["alerts"][0]["incident_id"])
    await client.post(f"/api/v1/incidents/{opened[0]}/resolve")
    await client.post(f"/api/v1/incidents/{opened[1]}/acknowledge")
    page = await client.get("/services")
    assert page.status_code == 200
    link = f'/incidents?service_id={busy["id"]}&amp;status=triggered&amp;status=acknowledged">2</a>'
    assert link in page.text  # triggered + acknowledged, not the resolved one
    assert page.text.count("&amp;status=acknowledged") == 1  # the quiet service shows 0
