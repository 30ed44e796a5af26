"""Heartbeat, maintenance and silence pages rendered on the server (no browser), per role."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.conftest import api_client, new_service, sign_in


@pytest.fixture
def backend() -> str:
    """Rendering does not depend on the database: SQLite is enough."""
    return "sqlite"


@pytest.fixture
async def quiet(client: httpx.AsyncClient, clock: FakeClock) -> dict[str, Any]:
    svc = await new_service(client, "checkout")
    later = (clock.now() + timedelta(hours=1)).isoformat()
    monitor = await client.post(
        "/api/v1/heartbeat-monitors",
        json={"service_id": svc["id"], "name": "nightly-backup", "interval_seconds": 3600},
    )
    window = await client.post(
        "/api/v1/maintenance-windows",
        json={"service_ids": [svc["id"]], "ends_at": later, "description": "Postgres 16 upgrade"},
    )
    silence = await client.post(
        "/api/v1/silences",
        json={
            "matchers": [{"name": "env", "op": "=~", "value": "dev|test"}],
            "ends_at": later,
            "comment": "noisy canary",
        },
    )
    for made in (monitor, window, silence):
        assert made.status_code == 201, made.text
    alert = await client.post(
        "/api/v1/alerts",
        json={"title": "Disk full", "severity": "high", "labels": {"env": "prod", "host": "db1"}},
        headers={"X-Routing-Key": svc["key"]},
    )
    return {
        "service": svc,
        "monitor": monitor.json(),
        "window": window.json(),
        "silence": silence.json(),
        "incident": alert.json()["alerts"][0]["incident_id"],
    }


async def test_heartbeat_pages_show_state_and_the_beat_url_to_whom_may_use_it(
    client: httpx.AsyncClient, rt: Runtime, quiet: dict[str, Any]
) -> None:
    monitor = quiet["monitor"]
    listing = await client.get("/heartbeats")
    assert listing.status_code == 200
    assert "nightly-backup" in listing.text and "inactive" in listing.text
    assert 'data-api="/api/v1/heartbeat-monitors"' in listing.text
    assert '<a href="/heartbeats" aria-current="page">Heartbeats</a>' in listing.text
    page = await client.get(f"/heartbeats/{monitor['id']}")
    assert page.status_code == 200
    assert f'data-copy="{monitor["url"]}"' in page.text
    assert f"curl -fsS -X POST {monitor['url']}" in page.text
    assert 'data-method="PATCH"' in page.text and 'data-method="DELETE"' in page.text
    viewer = await sign_in(rt, "viewer@example.com", "viewer")
    async with api_client(rt, viewer) as looking:
        seen = await looking.get(f"/heartbeats/{monitor['id']}")
        assert seen.status_code == 200 and monitor["token"] not in seen.text
        assert 'data-method="PATCH"' not in seen.text
        assert (
            'data-api="/api/v1/heartbeat-monitors"' not in (await looking.get("/heartbeats")).text
        )


async def test_maintenance_pages_list_windows_and_offer_the_forms(
    client: httpx.AsyncClient, rt: Runtime, quiet: dict[str, Any]
) -> None:
    window = quiet["window"]
    listing = await client.get("/maintenance")
    assert listing.status_code == 200
    assert "Postgres 16 upgrade" in listing.text and "active" in listing.text
    assert 'data-api="/api/v1/maintenance-windows"' in listing.text
    page = await client.get(f"/maintenance/{window['id']}")
    assert page.status_code == 200
    assert "checkout" in page.text and "created" in page.text  # the trail
    assert "End now" in page.text
    incident = await client.get(f"/incidents/{quiet['incident']}")
    assert f'href="/maintenance/{window["id"]}"' in incident.text
    viewer = await sign_in(rt, "viewer@example.com", "viewer")
    async with api_client(rt, viewer) as looking:
        seen = await looking.get(f"/maintenance/{window['id']}")
        assert seen.status_code == 200 and "End now" not in seen.text


async def test_silence_pages_and_a_silence_filled_in_from_an_incident(
    client: httpx.AsyncClient, quiet: dict[str, Any]
) -> None:
    silence = quiet["silence"]
    listing = await client.get("/silences")
    assert listing.status_code == 200, listing.text
    assert 'env=~"dev|test"' in listing.text and "noisy canary" in listing.text
    page = await client.get(f"/silences/{silence['id']}")
    assert page.status_code == 200 and "Expire now" in page.text
    incident = await client.get(f"/incidents/{quiet['incident']}")
    assert f'href="/silences/new?incident={quiet["incident"]}"' in incident.text
    form = await client.get("/silences/new", params={"incident": quiet["incident"]})
    assert form.status_code == 200
    prefilled = form.text.replace("&#34;", '"')
    assert '{"name": "env", "op": "=", "value": "prod"}' in prefilled
    assert '{"name": "host", "op": "=", "value": "db1"}' in prefilled
    assert f'<option value="{quiet["service"]["id"]}" selected>' in form.text
    assert 'data-api="/api/v1/silences"' in form.text
    assert (await client.get("/silences/new", params={"incident": "nope"})).status_code == 404
