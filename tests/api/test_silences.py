"""Silences with a fast-forwarded clock: label matchers AND-ed as Alertmanager's, a time
range, an optional service; silenced alerts are stored, tagged, and page nobody."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import level, pages, policy, user
from tests.conftest import RuntimeFactory, api_client, new_service, sign_in


def iso(clock: FakeClock, seconds: float = 0) -> str:
    return (clock.now() + timedelta(seconds=seconds)).isoformat()


async def silence(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/silences", json={"comment": "planned", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def send(
    client: httpx.AsyncClient, key: str, title: str, severity: str = "critical", **labels: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/alerts",
        json={"title": title, "severity": severity, "labels": labels},
        headers={"X-Routing-Key": key},
    )
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()["alerts"][0]
    return result


async def detail(client: httpx.AsyncClient, incident_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    return body


@pytest.fixture
async def setup(client: httpx.AsyncClient) -> dict[str, Any]:
    """A policy paging Ann, then Bob after 300 s; a service per title using it."""
    ann, bob = await user(client, "Ann"), await user(client, "Bob")
    policy_id = await policy(client, "p", [level(300, ("user", ann)), level(300, ("user", bob))])
    svc = await new_service(client, escalation_policy_id=policy_id, correlation_key=["title"])
    other = await new_service(
        client, "search", escalation_policy_id=policy_id, correlation_key=["title"]
    )
    return {"ann": ann, "bob": bob, "svc": svc, "other": other}


async def test_matchers_are_anded_and_silenced_alerts_are_stored_but_page_nobody(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    made = await silence(
        client,
        ends_at=iso(clock, 3600),
        matchers=[
            {"name": "env", "value": "prod", "op": "="},
            {"name": "team", "value": "db|cache", "op": "=~"},
            {"name": "region", "value": "us", "op": "!="},
            {"name": "alertname", "value": "Canary.*", "op": "!~"},
        ],
    )
    assert made["status"] == "active" and made["created_by"] == "Admin"
    key = setup["svc"]["key"]
    silenced = [
        await send(client, key, "a", env="prod", team="db", region="eu", alertname="DiskFull"),
        await send(client, key, "b", env="prod", team="cache"),  # no region, no alertname
    ]
    paging = [
        await send(client, key, "c", env="dev", team="db"),  # = fails
        await send(client, key, "d", env="prod", team="dbx"),  # =~ is anchored
        await send(client, key, "e", env="prod", team="db", region="us"),  # != fails
        await send(client, key, "f", env="prod", team="db", alertname="CanaryDown"),  # !~ fails
    ]
    await rt.escalation.run_due(clock.now())
    for result in silenced:
        found = await detail(client, result["incident_id"])
        assert found["silence_id"] == made["id"]
        assert found["alerts"][0]["silence_id"] == made["id"]
        assert found["pages"] == []
        assert any(e["kind"] == "silenced" and "planned" in e["message"] for e in found["timeline"])
    for result in paging:
        found = await detail(client, result["incident_id"])
        assert found["silence_id"] is None and found["alerts"][0]["silence_id"] is None
        assert [p["level"] for p in found["pages"]] == [1]
    clock.advance(300)  # the silenced ones stay quiet at every later step too
    await rt.escalation.run_due(clock.now())
    assert await pages(client, silenced[0]["incident_id"]) == []


async def test_a_silence_applies_on_every_ingestion_path(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    key = setup["svc"]["key"]
    made = await silence(
        client,
        ends_at=iso(clock, 600),
        matchers=[{"name": "title", "value": "muted .*", "op": "=~"}],
    )
    native = await send(client, key, "muted native")
    am = await client.post(
        "/api/v1/integrations/alertmanager",
        headers={"X-Routing-Key": key},
        json={
            "version": "4",
            "status": "firing",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "X"},
                    "annotations": {"summary": "muted am"},
                }
            ],
        },
    )
    pd = await client.post(
        "/v2/enqueue",
        json={
            "routing_key": key,
            "event_action": "trigger",
            "payload": {"summary": "muted pd", "source": "host", "severity": "critical"},
        },
    )
    assert am.status_code == 202 and pd.status_code == 202, (am.text, pd.text)
    await rt.escalation.run_due(clock.now())
    listing = (await client.get("/api/v1/incidents")).json()["items"]
    assert sorted(i["title"] for i in listing) == ["muted am", "muted native", "muted pd"]
    assert {i["silence_id"] for i in listing} == {made["id"]}
    assert [await pages(client, i["id"]) for i in listing] == [[], [], []]
    assert (await detail(client, native["incident_id"]))["alerts"][0]["silence_id"] == made["id"]


async def test_a_silence_of_one_service_leaves_the_others_alone(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    await silence(
        client,
        ends_at=iso(clock, 600),
        service_id=setup["svc"]["id"],
        matchers=[{"name": "env", "value": "prod"}],
    )
    quiet = await send(client, setup["svc"]["key"], "x", env="prod")
    loud = await send(client, setup["other"]["key"], "x", env="prod")
    await rt.escalation.run_due(clock.now())
    assert await pages(client, quiet["incident_id"]) == []
    assert await pages(client, loud["incident_id"]) == [(setup["ann"], 1, 0)]


async def test_a_silence_holds_only_during_its_range_and_expires_by_itself(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    made = await silence(
        client,
        starts_at=iso(clock, 600),
        ends_at=iso(clock, 1200),
        matchers=[{"name": "env", "value": "prod"}],
    )
    assert made["status"] == "pending"
    key = setup["svc"]["key"]
    before = await send(client, key, "before", env="prod")
    await rt.escalation.run_due(clock.now())
    assert len(await pages(client, before["incident_id"])) == 1
    clock.advance(600)
    assert await rt.quiet.phases.run_due(clock.now()) == 1  # it starts: the open one stops
    during = await send(client, key, "during", env="prod")
    clock.advance(300)
    await rt.escalation.run_due(clock.now())
    assert len(await pages(client, before["incident_id"])) == 1
    assert await pages(client, during["incident_id"]) == []
    clock.advance(300)
    assert await rt.quiet.phases.run_due(clock.now()) == 1  # it expires by itself
    assert await rt.quiet.phases.run_due(clock.now()) == 0  # once
    fetched = (await client.get(f"/api/v1/silences/{made['id']}")).json()
    assert fetched["status"] == "expired"
    assert [h["action"] for h in fetched["history"]] == ["created", "started", "expired"]
    await rt.escalation.run_due(clock.now())
    # Both were still firing: both page again from level 1.
    assert await pages(client, during["incident_id"]) == [(setup["ann"], 1, 0)]
    assert [p[1] for p in await pages(client, before["incident_id"])] == [1, 1]
    timeline = (await detail(client, during["incident_id"]))["timeline"]
    assert [e["kind"] for e in timeline][-3:] == ["silenced", "resumed", "paged"]
    after = await send(client, key, "after", env="prod")
    assert (await detail(client, after["incident_id"]))["silence_id"] is None


async def test_silencing_an_open_incident_stops_its_escalation(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    result = await send(client, setup["svc"]["key"], "noisy", env="prod", host="db1")
    await rt.escalation.run_due(clock.now())
    incident = result["incident_id"]
    draft = await client.get("/api/v1/silences/draft", params={"incident_id": incident})
    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert body["matchers"] == [
        {"name": "env", "op": "=", "value": "prod"},
        {"name": "host", "op": "=", "value": "db1"},
    ]
    assert body["service_id"] == setup["svc"]["id"]
    made = await silence(
        client, matchers=body["matchers"], service_id=body["service_id"], ends_at=body["ends_at"]
    )
    found = await detail(client, incident)
    assert found["silence_id"] == made["id"] and found["alerts"][0]["silence_id"] == made["id"]
    clock.advance(3600)
    await rt.escalation.run_due(clock.now())
    assert await pages(client, incident) == [(setup["ann"], 1, 0)]  # no level 2


async def test_an_alert_no_silence_matches_lifts_the_hold_of_its_incident(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    svc = await new_service(client, "db", escalation_policy_id=None)
    await client.patch(
        f"/api/v1/services/{svc['id']}",
        json={"escalation_policy_id": setup["svc"]["escalation_policy_id"]},
    )
    await silence(client, ends_at=iso(clock, 3600), matchers=[{"name": "host", "value": "db1"}])
    first = await send(client, svc["key"], "disk", host="db1")
    await rt.escalation.run_due(clock.now())
    assert await pages(client, first["incident_id"]) == []
    second = await send(client, svc["key"], "disk full", host="db2")  # same severity: joins
    assert second["incident_id"] == first["incident_id"]
    found = await detail(client, first["incident_id"])
    assert found["silence_id"] is None
    assert found["timeline"][-1]["message"].startswith("Alert joined that no silence matches")
    await rt.escalation.run_due(clock.now())
    assert await pages(client, first["incident_id"]) == [(setup["ann"], 1, 0)]


async def test_the_dashboard_shows_or_hides_silenced_incidents(
    client: httpx.AsyncClient, clock: FakeClock, setup: dict[str, Any]
) -> None:
    await silence(client, ends_at=iso(clock, 600), matchers=[{"name": "env", "value": "dev"}])
    await send(client, setup["svc"]["key"], "quiet", env="dev")
    await send(client, setup["svc"]["key"], "loud", env="prod")

    async def titles(**params: str) -> list[str]:
        items = (await client.get("/api/v1/incidents", params=params)).json()["items"]
        return sorted(i["title"] for i in items)

    assert await titles() == ["loud", "quiet"]
    assert await titles(silenced="false") == ["loud"]
    assert await titles(silenced="true") == ["quiet"]
    counts = (await client.get("/api/v1/incidents/counts", params={"silenced": "false"})).json()
    assert counts["triggered"] == 1
    page = await client.get("/incidents", params={"silenced": "false"})
    assert page.status_code == 200 and "loud" in page.text and ">quiet<" not in page.text


async def test_ending_changing_and_the_trail_of_who_when_why(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, setup: dict[str, Any]
) -> None:
    made = await silence(
        client, ends_at=iso(clock, 600), matchers=[{"name": "env", "value": "prod"}]
    )
    held = await send(client, setup["svc"]["key"], "held", env="prod")
    clock.advance(10)
    longer = await client.patch(
        f"/api/v1/silences/{made['id']}", json={"ends_at": iso(clock, 7200), "reason": "overran"}
    )
    assert longer.status_code == 200, longer.text
    assert longer.json()["ends_at"] == iso(clock, 7200).replace("+00:00", "Z")
    clock.advance(10)
    ended = await client.delete(f"/api/v1/silences/{made['id']}", params={"reason": "done"})
    assert ended.status_code == 204
    kept = (await client.get(f"/api/v1/silences/{made['id']}")).json()
    assert kept["status"] == "expired"
    trail = [(h["actor"], h["action"], h["reason"], h["at"]) for h in kept["history"]]
    assert trail == [
        ("Admin", "created", "planned", "2026-03-01T12:00:00Z"),
        ("Admin", "updated", "overran", "2026-03-01T12:00:10Z"),
        ("Admin", "ended", "done", "2026-03-01T12:00:20Z"),
    ]
    assert kept["history"][1]["changes"] == ["ends_at"]
    assert (await detail(client, held["incident_id"]))["silence_id"] is None  # released at once
    late = await client.patch(f"/api/v1/silences/{made['id']}", json={"comment": "x"})
    assert late.status_code == 409
    audit = (await client.get("/api/v1/audit")).json()
    actions = [e["action"] for e in audit if e["target_id"] == made["id"]]
    assert actions == ["silence.ended", "silence.updated", "silence.created"]
    pending = await silence(
        client,
        starts_at=iso(clock, 60),
        ends_at=iso(clock, 120),
        matchers=[{"name": "a", "value": "b"}],
    )
    assert (await client.delete(f"/api/v1/silences/{pending['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/silences/{pending['id']}")).status_code == 404
    listed = (await client.get("/api/v1/silences", params={"status": "expired"})).json()["items"]
    assert [s["id"] for s in listed] == [made["id"]]


async def test_bad_silences_are_refused_naming_the_field(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock
) -> None:
    good = {"name": "env", "value": "prod", "op": "="}
    cases = [
        ({"matchers": []}, "matchers"),
        ({"matchers": [{**good, "op": "=="}]}, "matchers.0.op"),
        ({"matchers": [{**good, "op": "=~", "value": "(unclosed"}]}, "matchers.0.value"),
        ({"matchers": [{"name": "env", "value": "", "op": "="}]}, "matchers"),
        ({"matchers": [{"name": "env", "value": ".*", "op": "=~"}]}, "matchers"),
        ({"matchers": [good], "ends_at": iso(clock, -1)}, "ends_at"),
        ({"matchers": [good], "starts_at": iso(clock, 60), "ends_at": iso(clock, 30)}, "ends_at"),
        ({"matchers": [good], "service_id": "nope"}, "service_id"),
        ({"matchers": [good], "comment": ""}, "comment"),
    ]
    for fields, where in cases:
        body = {"ends_at": iso(clock, 60), "comment": "why", **fields}
        refused = await client.post("/api/v1/silences", json=body)
        assert refused.status_code == 422, (fields, refused.text)
        assert where in refused.text, (where, refused.text)
    assert (await client.get("/api/v1/silences")).json()["items"] == []
    viewer = await sign_in(rt, "v@example.com", "viewer")
    async with api_client(rt, viewer) as looking:
        refused = await looking.post(
            "/api/v1/silences", json={"matchers": [good], "ends_at": iso(clock, 60), "comment": "x"}
        )
        assert refused.status_code == 403
        assert (await looking.get("/api/v1/silences")).status_code == 200


async def test_a_silence_made_by_another_process_holds_before_the_first_page(
    make_runtime: RuntimeFactory, clock: FakeClock, setup: dict[str, Any]
) -> None:
    """Ingestion here still has the silences it read before the silence was made, so the
    new alert is not tagged; the escalation engine reads them fresh and pages nobody."""
    here = await make_runtime(SILENCE_CACHE_SECONDS="3600")  # keeps what it read
    other = await make_runtime()  # another process on the same database
    async with api_client(here) as client:
        await send(client, setup["svc"]["key"], "primes the cache")
        async with api_client(other) as elsewhere:
            await silence(
                elsewhere, ends_at=iso(clock, 600), matchers=[{"name": "env", "value": "dev"}]
            )
        late = await send(client, setup["svc"]["key"], "late", env="dev")
        assert (await detail(client, late["incident_id"]))["alerts"][0]["silence_id"] is None
        await here.escalation.run_due(clock.now())
        found = await detail(client, late["incident_id"])
        assert found["pages"] == [] and found["silence_id"] is not None
        assert found["alerts"][0]["silence_id"] == found["silence_id"]  # tagged by the engine
