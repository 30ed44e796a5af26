"""Analytics API on SQLite and PostgreSQL: trends, MTTA/MTTR distribution, summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import level, policy, user
from tests.conftest import api_client, new_service, sign_in

SEVERITIES = ("critical", "high", "medium", "low")
_titles = count()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def service(client: httpx.AsyncClient, name: str, **fields: Any) -> dict[str, Any]:
    """A service where each alert title opens its own incident."""
    return await new_service(client, name, correlation_key=["title"], **fields)


async def incident(
    client: httpx.AsyncClient,
    clock: FakeClock,
    key: str,
    severity: str,
    at: datetime | None = None,
    title: str | None = None,
) -> str:
    if at is not None:
        clock.set(at)
    body = {"title": title or f"alert {next(_titles)}", "severity": severity}
    response = await client.post("/api/v1/alerts", json=body, headers={"X-Routing-Key": key})
    assert response.status_code == 202, response.text
    return str(response.json()["alerts"][0]["incident_id"])


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/api/v1/analytics/{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def counts(body: dict[str, Any]) -> list[tuple[str, ...]]:
    """(start, then the non-zero severities as name=n) per bucket."""
    return [(b["start"], *[f"{s}={b[s]}" for s in SEVERITIES if b[s]]) for b in body["buckets"]]


@pytest.fixture
async def admin(rt: Runtime, client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The admin's client on an API token, which outlives the clock's jumps of days."""
    who, _ = await rt.auth.authenticate(client.headers["Authorization"].split()[1], None)
    client.headers["Authorization"] = f"Bearer {(await rt.auth.create_api_token(who, 't')).token}"
    return client


@pytest.fixture
async def spread(client: httpx.AsyncClient, clock: FakeClock) -> dict[str, Any]:
    team = (await client.post("/api/v1/teams", json={"name": "Payments"})).json()
    a = await service(client, "api", team_id=team["id"])
    b = await service(client, "web")
    await incident(client, clock, a["key"], "critical", utc(2026, 2, 20, 10))  # too old
    await incident(client, clock, b["key"], "medium", utc(2026, 2, 28, 23, 30))
    await incident(client, clock, a["key"], "critical", utc(2026, 3, 1, 8, 10))
    await incident(client, clock, a["key"], "high", utc(2026, 3, 1, 8, 50))
    await incident(client, clock, b["key"], "critical", utc(2026, 3, 1, 9, 5))
    await incident(client, clock, a["key"], "low", utc(2026, 3, 1, 11, 59))
    clock.set(utc(2026, 3, 1, 12))
    return {"team": team["id"], "a": a["id"], "b": b["id"]}


async def test_hourly_trend_lists_every_bucket(
    client: httpx.AsyncClient, spread: dict[str, Any]
) -> None:
    body = await get(client, "trends", period="6h", bucket="1h")
    assert (body["start"], body["end"]) == ("2026-03-01T06:00:00Z", "2026-03-01T12:00:00Z")
    assert (body["bucket"], body["tz"]) == ("1h", "UTC")
    assert counts(body) == [
        ("2026-03-01T06:00:00Z",),
        ("2026-03-01T07:00:00Z",),
        ("2026-03-01T08:00:00Z", "critical=1", "high=1"),
        ("2026-03-01T09:00:00Z", "critical=1"),
        ("2026-03-01T10:00:00Z",),
        ("2026-03-01T11:00:00Z", "low=1"),
        ("2026-03-01T12:00:00Z",),
    ]
    assert [b["total"] for b in body["buckets"]] == [0, 0, 2, 1, 0, 1, 0]
    assert body["totals"] == {"critical": 2, "high": 1, "medium": 0, "low": 1, "total": 4}


async def test_daily_trend_and_filters(client: httpx.AsyncClient, spread: dict[str, Any]) -> None:
    body = await get(client, "trends", days=7, bucket="1d")
    starts = [b["start"] for b in body["buckets"]]
    assert starts == [f"2026-02-{d}T00:00:00Z" for d in range(22, 29)] + ["2026-03-01T00:00:00Z"]
    assert [b["total"] for b in body["buckets"]] == [0, 0, 0, 0, 0, 0, 1, 4]
    assert body["totals"]["total"] == 5
    assert body == await get(client, "trends", period="7d", bucket="1d")
    urgent = await get(client, "trends", days=7, bucket="1d", severity=["critical", "high"])
    assert urgent["totals"] == {"critical": 2, "high": 1, "medium": 0, "low": 0, "total": 3}
    web = await get(client, "trends", days=7, bucket="1d", service=spread["b"])
    assert counts(web)[-2:] == [
        ("2026-02-28T00:00:00Z", "medium=1"),
        ("2026-03-01T00:00:00Z", "critical=1"),
    ]
    team = await get(client, "trends", days=30, bucket="1w", team=spread["team"])
    assert [(b["start"], b["total"]) for b in team["buckets"]][-2:] == [
        ("2026-02-16T00:00:00Z", 1),  # Monday 16 February holds the 20th
        ("2026-02-23T00:00:00Z", 3),
    ]
    assert team["totals"]["total"] == 4
    assert len(team["buckets"]) == 5  # weeks from Monday 26 January
    six = await get(client, "trends", period="1d", bucket="6h", severity="critical,low")
    assert [b["total"] for b in six["buckets"]] == [0, 0, 0, 3, 0]


async def test_service_and_team_by_name_or_id_and_unknown_ones_refused(
    client: httpx.AsyncClient, spread: dict[str, Any]
) -> None:
    by_id = await get(client, "summary", service=spread["b"])
    assert by_id["incidents_in_period"] == 2
    assert await get(client, "summary", service="web") == by_id
    team = await get(client, "trends", days=30, bucket="1w", team=spread["team"])
    assert await get(client, "trends", days=30, bucket="1w", team="Payments") == team
    for path in ("trends", "mttr-distribution", "summary"):
        for name, value in (("service", "no-such-service"), ("team", "Nobody")):
            response = await client.get(f"/api/v1/analytics/{path}", params={name: value})
            assert response.status_code == 422, response.text
            assert any(e.startswith(f"{name}:") and value in e for e in response.json()["errors"])


async def test_daily_buckets_follow_paris_midnight_across_dst(
    admin: httpx.AsyncClient, clock: FakeClock
) -> None:
    client = admin
    svc = await service(client, "api")
    for at in (
        utc(2026, 3, 28, 23, 30),  # 00:30 on the 29th in Paris (UTC+1)
        utc(2026, 3, 29, 21, 30),  # 23:30 on the 29th (UTC+2 since 02:00)
        utc(2026, 3, 29, 22, 0),  # midnight: the 30th
        utc(2026, 3, 29, 23, 30),  # 01:30 on the 30th
    ):
        await incident(client, clock, svc["key"], "high", at)
    clock.set(utc(2026, 3, 31, 12))
    paris = await get(client, "trends", period="4d", bucket="1d", tz="Europe/Paris")
    assert (paris["start"], paris["tz"]) == ("2026-03-27T13:00:00+01:00", "Europe/Paris")
    assert paris["end"] == "2026-03-31T14:00:00+02:00"
    assert [(b["start"], b["high"]) for b in paris["buckets"]] == [
        ("2026-03-27T00:00:00+01:00", 0),
        ("2026-03-28T00:00:00+01:00", 0),
        ("2026-03-29T00:00:00+01:00", 2),
        ("2026-03-30T00:00:00+02:00", 2),
        ("2026-03-31T00:00:00+02:00", 0),
    ]
    starts = [datetime.fromisoformat(b["start"]) for b in paris["buckets"]]
    assert starts[3] - starts[2] == timedelta(hours=23)
    in_utc = await get(client, "trends", period="4d", bucket="1d")
    assert [b["high"] for b in in_utc["buckets"]] == [0, 1, 3, 0, 0]


async def test_mtta_mttr_distribution(admin: httpx.AsyncClient, clock: FakeClock) -> None:
    client = admin
    svc = await service(client, "api")
    kinds = {"c": "critical", "h": "high", "l": "low"}
    names = ["c1", "c2", "c3", "h1", "h2", "l1"]
    ids = {n: await incident(client, clock, svc["key"], kinds[n[0]]) for n in names}
    start = clock.now()
    # (seconds after opening, action, incident): MTTA critical 30/90/400, high 60;
    # MTTR critical 100/600/4000, high 50000/90000; l1 stays open.
    plan = "30 ack c1, 60 ack h2, 90 ack c2, 100 res c1, 400 ack c3, 600 res c2, 4000 res c3"
    steps = [s.split() for s in (plan + ", 50000 res h1, 90000 res h2").split(", ")]
    verbs = {"ack": "acknowledge", "res": "resolve"}
    for seconds, verb, name in steps:
        clock.set(start + timedelta(seconds=int(seconds)))
        done = await client.post(f"/api/v1/incidents/{ids[name]}/{verbs[verb]}")
        assert done.status_code == 200, done.text
    body = await get(client, "mttr-distribution")
    assert body["method"].startswith("nearest rank")

    def summary(stats: dict[str, Any]) -> tuple[Any, ...]:
        bins = [h["count"] for h in stats["histogram"]]
        return (stats["count"], stats["p50"], stats["p90"], stats["p99"], bins)

    mtta, mttr = body["mtta"], body["mttr"]
    assert [h["le"] for h in mtta["overall"]["histogram"]] == [
        *[60, 300, 900, 1800, 3600, 14400, 86400],
        "+Inf",
    ]
    # Cumulative, as `le` says (and as /metrics is): each bin counts all up to its edge.
    assert summary(mtta["overall"]) == (4, 60, 400, 400, [2, 3, 4, 4, 4, 4, 4, 4])
    assert mtta["overall"]["mean"] == 145
    assert summary(mtta["by_severity"]["critical"]) == (3, 90, 400, 400, [1, 2, 3, 3, 3, 3, 3, 3])
    assert mtta["by_severity"]["critical"]["mean"] == pytest.approx(520 / 3)
    assert summary(mtta["by_severity"]["high"]) == (1, 60, 60, 60, [1] * 8)
    empty = (0, None, None, None, [0] * 8)
    assert summary(mtta["by_severity"]["low"]) == empty
    assert mtta["by_severity"]["low"]["mean"] is None
    assert summary(mttr["overall"]) == (5, 4000, 90000, 90000, [0, 1, 2, 2, 2, 3, 4, 5])
    assert mttr["overall"]["mean"] == 28940
    assert summary(mttr["by_severity"]["critical"]) == (
        *(3, 600, 4000, 4000),
        [0, 1, 2, 2, 2, 3, 3, 3],
    )
    assert summary(mttr["by_severity"]["high"]) == (2, 50000, 90000, 90000, [0] * 6 + [1, 2])
    assert mttr["by_severity"]["high"]["mean"] == 70000
    assert summary(mttr["by_severity"]["medium"]) == empty
    high = await get(client, "mttr-distribution", severity="high", days=2)
    assert summary(high["mttr"]["overall"]) == summary(mttr["by_severity"]["high"])
    assert high["mtta"]["by_severity"]["critical"]["count"] == 0
    clock.advance(7 * 86400)  # the incidents are now older than the period
    assert (await get(client, "mttr-distribution"))["mttr"]["overall"]["count"] == 0


async def test_summary(admin: httpx.AsyncClient, clock: FakeClock, rt: Runtime) -> None:
    client = admin
    alice = {"Authorization": "Bearer " + await sign_in(rt, "al@example.com", "responder", "Alice")}
    bob = {"Authorization": "Bearer " + await sign_in(rt, "bo@example.com", "responder", "Bob")}
    first, second = await user(client, "Pat"), await user(client, "Sam")
    policy_id = await policy(
        client, "Two levels", [level(300, ("user", first)), level(300, ("user", second))]
    )
    team = (await client.post("/api/v1/teams", json={"name": "Payments"})).json()["id"]
    a = await service(client, "api", team_id=team, escalation_policy_id=policy_id)
    b = await service(client, "web")
    old = await incident(client, clock, a["key"], "critical", utc(2026, 2, 10))
    clock.set(utc(2026, 3, 1, 12))
    a1 = await incident(client, clock, a["key"], "critical", title="disk full")
    await incident(client, clock, a["key"], "critical", title="disk full")  # a repeat
    a2 = await incident(client, clock, a["key"], "high")
    a3 = await incident(client, clock, a["key"], "critical")
    b1 = await incident(client, clock, b["key"], "low")
    clock.advance(120)
    for incident_id, who in ((a1, bob), (a2, alice), (b1, alice), (old, alice)):
        response = await client.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=who)
        assert response.status_code == 200, response.text
    assert (await client.post(f"/api/v1/incidents/{b1}/resolve")).status_code == 200
    for expected in (1, 2):  # a3 pages level 1, then level 2
        response = await client.post(f"/api/v1/incidents/{a3}/escalate")
        assert response.json()["escalation_level"] == expected, response.text

    body = await get(client, "summary")
    assert (body["start"], body["end"]) == ("2026-02-22T12:02:00Z", "2026-03-01T12:02:00Z")
    assert {k: body[k] for k in list(body)[3:10]} == {
        "open_incidents": 4,  # old, a1, a2, a3
        "incidents_in_period": 4,
        "alerts_received": 5,  # a1's alert came twice
        "alerts_per_incident": 1.25,
        "escalated_incidents": 1,
        "escalation_rate": 0.25,
        "top_services": [
            {"service_id": a["id"], "name": "api", "incidents": 3},
            {"service_id": b["id"], "name": "web", "incidents": 1},
        ],
    }
    # acknowledgements made in the period, whatever the incident's age (old is Alice's)
    assert body["acks_by_responder"] == [
        {"responder": "Alice", "acks": 3},
        {"responder": "Bob", "acks": 1},
    ]
    team_only = await get(client, "summary", team=team)
    assert (team_only["open_incidents"], team_only["incidents_in_period"]) == (4, 3)
    assert (team_only["alerts_received"], team_only["escalation_rate"]) == (4, 0.3333)
    assert [s["name"] for s in team_only["top_services"]] == ["api"]
    critical = await get(client, "summary", severity="critical")
    assert (critical["open_incidents"], critical["incidents_in_period"]) == (3, 2)
    assert (critical["alerts_per_incident"], critical["escalation_rate"]) == (1.5, 0.5)
    assert [(r["responder"], r["acks"]) for r in critical["acks_by_responder"]] == [
        ("Alice", 1),
        ("Bob", 1),
    ]
    web = await get(client, "summary", service=b["id"], tz="Europe/Paris")
    assert web["start"] == "2026-02-22T13:02:00+01:00"
    assert (web["open_incidents"], web["incidents_in_period"], web["escalation_rate"]) == (
        *(0, 1),
        0.0,
    )
    clock.advance(8 * 86400)
    later = await get(client, "summary")
    assert (later["incidents_in_period"], later["alerts_per_incident"]) == (0, None)
    assert (later["escalation_rate"], later["top_services"]) == (None, [])


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("trends", {"period": "7x"}, "period"),
        ("trends", {"period": "400d"}, "period"),
        ("trends", {"days": 0}, "days"),
        ("trends", {"days": 3, "period": "3d"}, "days"),
        ("trends", {"days": "many"}, "days"),
        ("trends", {"bucket": "2h"}, "bucket"),
        ("trends", {"tz": "Mars/Olympus"}, "tz"),
        ("trends", {"severity": "urgent"}, "severity"),
        ("mttr-distribution", {"tz": "Europe"}, "tz"),
        ("summary", {"period": "1y"}, "period"),
    ],
)
async def test_bad_parameters_get_422_naming_them(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], field: str
) -> None:
    response = await client.get(f"/api/v1/analytics/{path}", params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert any(field in e.split(":")[0] for e in body["errors"]), body


async def test_viewers_may_read_analytics(rt: Runtime, client: httpx.AsyncClient) -> None:
    token = await sign_in(rt, "viewer@example.com", "viewer")
    async with api_client(rt, token) as viewer, api_client(rt, token="") as anonymous:
        for path in ("trends", "mttr-distribution", "summary"):
            assert (await viewer.get(f"/api/v1/analytics/{path}")).status_code == 200
            assert (await anonymous.get(f"/api/v1/analytics/{path}")).status_code == 401
    empty = await get(client, "trends")
    assert len(empty["buckets"]) == 8 and empty["totals"]["total"] == 0
