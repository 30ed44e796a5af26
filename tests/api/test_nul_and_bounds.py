"""Text a database cannot store (a NUL character, an unpaired surrogate), an absurd
offset and an instant outside UTC's years are bad input: a 422 naming the place, the
same on SQLite and PostgreSQL, and nothing stored. Before, PostgreSQL answered such text
with 503 "database unavailable" (senders retried it forever) and SQLite stored it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import new_service

NUL = "\u0000"


async def refused(response: httpx.Response, *places: str) -> None:
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    for place in places:
        assert any(e.startswith(place + ":") for e in errors), (place, errors)


async def nothing_stored(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/incidents")).json()["total"] == 0


async def test_nul_in_any_alert_field_is_a_422(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    key = {"X-Routing-Key": svc["key"]}
    alert = {"title": "disk full", "severity": "high"}
    await refused(
        await client.post("/api/v1/alerts", json={**alert, "title": f"disk{NUL}"}, headers=key),
        "title",
    )
    labelled = {**alert, "labels": {"host": f"db{NUL}1", f"r{NUL}": "x"}}
    response = await client.post("/api/v1/alerts", json=labelled, headers=key)
    await refused(response, "labels.host")
    assert any("key" in e for e in response.json()["errors"])
    batch = [alert, {**alert, "details": {"deep": [{"note": NUL}]}}]
    await refused(
        await client.post("/api/v1/alerts", json=batch, headers=key), "[1].details.deep[0].note"
    )
    am = {"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {}}]}
    am["alerts"][0]["annotations"] = {"summary": f"x{NUL}"}
    await refused(
        await client.post("/api/v1/integrations/alertmanager", json=am, headers=key),
        "alerts[0].annotations.summary",
    )
    pd = {
        "routing_key": svc["key"],
        "event_action": "trigger",
        "payload": {"summary": f"x{NUL}", "source": "s", "severity": "info"},
    }
    pagerduty = await client.post("/v2/enqueue", json=pd)
    assert pagerduty.status_code == 400, pagerduty.text  # PagerDuty's "invalid event"
    assert pagerduty.json()["status"] == "invalid event"
    assert any(e.startswith("payload.summary:") for e in pagerduty.json()["errors"])
    await nothing_stored(client)


async def test_nul_in_names_queries_paths_and_forms(client: httpx.AsyncClient) -> None:
    await refused(await client.post("/api/v1/services", json={"name": f"a{NUL}b"}), "name")
    assert "\\u0000" not in (await client.get("/api/v1/services")).text
    await refused(await client.get("/api/v1/incidents", params={"q": f"a{NUL}"}), "query.q")
    await refused(await client.get("/api/v1/incidents/abc%00"), "path")
    form = {"username": f"a{NUL}@example.com", "password": "x"}
    await refused(await client.post("/api/v1/auth/token", data=form), "username")


async def test_unpaired_surrogates_are_refused_and_real_pairs_kept(
    client: httpx.AsyncClient,
) -> None:
    lone = b'{"name": "svc \\ud800"}'
    response = await client.post(
        "/api/v1/services", content=lone, headers={"Content-Type": "application/json"}
    )
    await refused(response, "name")
    # An emoji escaped as a surrogate pair, and an escaped backslash before "u0000", are
    # ordinary text.
    fine = b'{"name": "svc \\ud83d\\ude00 \\\\u0000"}'
    created = await client.post(
        "/api/v1/services", content=fine, headers={"Content-Type": "application/json"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "svc \U0001f600 \\u0000"


async def test_a_nul_split_across_body_chunks_is_found(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    body = b'{"title": "disk \\u0000 full", "severity": "low"}'
    cut = body.index(b"\\u00") + 3

    async def chunks() -> AsyncIterator[bytes]:
        yield body[:cut]
        yield body[cut:]

    response = await client.post(
        "/api/v1/alerts",
        content=chunks(),
        headers={"X-Routing-Key": svc["key"], "Content-Type": "application/json"},
    )
    await refused(response, "title")
    await nothing_stored(client)


async def test_offset_is_bounded(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/incidents", params={"offset": 10_000_000})).status_code == 200
    await refused(await client.get("/api/v1/incidents", params={"offset": 10**12}), "query.offset")
    await refused(await client.get("/api/v1/incidents", params={"offset": 2**63}), "query.offset")


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"])
async def test_instants_outside_utc_years_are_a_422(
    client: httpx.AsyncClient, instant: str
) -> None:
    svc = await new_service(client)
    alert = {"title": "disk full", "severity": "high", "timestamp": instant}
    await refused(
        await client.post("/api/v1/alerts", json=alert, headers={"X-Routing-Key": svc["key"]}),
        "timestamp",
    )
    await refused(await client.get("/api/v1/incidents", params={"since": instant}), "query.since")
    am = {
        "version": "4",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": instant}],
    }
    await refused(
        await client.post(
            "/api/v1/integrations/alertmanager", json=am, headers={"X-Routing-Key": svc["key"]}
        ),
        "alerts[0].startsAt",
    )
    await nothing_stored(client)


async def test_schedule_times_near_the_ends_of_the_calendar_are_a_422(
    client: httpx.AsyncClient,
) -> None:
    """A schedule reads a time without an offset in its own zone: one within a day of
    year 1 or 9999 has no UTC form there."""
    user_id = (await client.get("/api/v1/auth/me")).json()["user_id"]
    for handoff in ("0001-01-01T00:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00"):
        layer = {"name": "l", "users": [user_id], "turn": "daily", "handoff": handoff}
        body = {"name": "primary", "time_zone": "Europe/Paris", "layers": [layer]}
        await refused(await client.post("/api/v1/schedules", json=body), "layers.0.handoff")
    await refused(
        await client.get(
            "/api/v1/schedules/any/shifts",
            params={"start": "0001-01-01T00:00:00+01:00", "end": "2026-01-01T00:00:00Z"},
        ),
        "query.start",
    )
