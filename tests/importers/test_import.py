"""`oncallnova import`: the old tools' exports become OnCallNova objects; a dry run
changes nothing; a second apply creates nothing new."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from oncallnova.cli import app
from oncallnova.core.authz import SYSTEM
from oncallnova.importers import grafana_oncall, ical, opsgenie
from oncallnova.importers.reconcile import Reconciler, Report
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.services import Services
from oncallnova.users.schemas import UserIn
from tests.conftest import api_client
from tests.importers.fixtures import (
    GRAFANA_ONCALL_ICS,
    OPSGENIE_ICS,
    PAGERDUTY_ICS,
    grafana_oncall_pages,
    loopback,
    opsgenie_pages,
)

BASE = "http://oncallnova.test"


async def counts(svc: Services) -> dict[str, int]:
    schedules = await svc.schedules.list(SYSTEM)
    return {
        "users": len(await svc.users.list_users(SYSTEM)),
        "teams": len(await svc.users.list_teams(SYSTEM)),
        "schedules": len(schedules),
        "overrides": sum(len(s.overrides) for s in schedules),
        "policies": len(await svc.policies.list(SYSTEM)),
        "services": len(await svc.catalog.list(SYSTEM)),
    }


async def plan_apply_again(svc: Services, bundle: Any) -> tuple[Report, Report]:
    """Dry run (nothing changes), apply, apply again (nothing new)."""
    before = await counts(svc)
    plan = await Reconciler(svc, BASE, apply=False).run(bundle)
    assert await counts(svc) == before
    assert plan.created > 0 and all(s.action != "create" for s in plan.steps)
    done = await Reconciler(svc, BASE, apply=True).run(bundle)
    assert done.created == plan.created
    after = await counts(svc)
    again = await Reconciler(svc, BASE, apply=True).run(bundle)
    assert again.created == 0, [s for s in again.steps if s.action != "exists"]
    assert await counts(svc) == after
    return plan, done


async def test_grafana_oncall_import(rt: Runtime) -> None:
    svc = rt.use_cases
    with loopback(grafana_oncall_pages, "meowmeowmeow") as base:
        bundle = grafana_oncall.to_bundle(grafana_oncall.fetch(base, "meowmeowmeow"))
    plan, done = await plan_apply_again(svc, bundle)
    users = {u.email: u for u in await svc.users.list_users(SYSTEM)}
    assert {"public-api-demo-user-1@grafana.com", "bob@example.com"} <= set(users)
    [team] = [t for t in await svc.users.list_teams(SYSTEM) if t.name == "my test team"]
    assert [m.email for m in team.members] == ["public-api-demo-user-1@grafana.com"]
    schedule = {s.name: s for s in await svc.schedules.list(SYSTEM)}["Demo schedule Calendar"]
    alex, bob = users["public-api-demo-user-1@grafana.com"].id, users["bob@example.com"].id
    # level 0 first, the rolling rotation (level 1) above it; the single event an override
    assert [layer.name for layer in schedule.layers] == ["Demo recurrent event", "Primary rotation"]
    assert schedule.layers[1].users == [alex, bob] and schedule.layers[1].turn == "daily"
    assert schedule.layers[0].turn == 336.0  # weekly, every 2 weeks
    assert schedule.layers[0].restrictions[0].start == "16:00"
    [override] = schedule.overrides
    assert override.user_id == alex and (override.end - override.start).seconds == 10800
    [policy] = await svc.policies.list(SYSTEM)
    assert [len(level.targets) for level in policy.levels] == [1, 1]
    assert policy.levels[0].delay_seconds == 300 and policy.repeat == 1
    remarks = {(r.kind, r.name): r.text for r in done.remarks}
    assert "trigger_webhook" in remarks[("escalation chain", "example-chain")]
    assert "oncallnova import ical" in remarks[("schedule", "Demo schedule iCal")]
    assert "zabbix" in remarks[("integration", "Zabbix prod")]
    assert any("limited to some days" in r.text for r in done.remarks)
    # every old URL has its new one, and the new one takes the old body
    service = {s.name: s for s in await svc.catalog.list(SYSTEM)}["Grafana :blush:"]
    assert service.escalation_policy_id == policy.id and service.team_id == team.id
    key = service.integration_keys[0].key
    old = f"{base}/integrations/v1/grafana/mReAoNwDm0eMwKo1mTeTwYo/"
    new = f"{BASE}/integrations/v1/grafana/{key}/"
    assert dict(done.urls) == {old: new, old + "heartbeat/": new + "heartbeat/"}
    async with api_client(rt) as client:
        new = done.urls[0][1].removeprefix(BASE)
        sent = await client.post(
            new, json={"title": "[Alerting] x", "ruleName": "x", "state": "alerting"}
        )
        assert sent.status_code == 200, sent.text
    assert any("would create" in s.action for s in plan.steps)


async def test_opsgenie_import(rt: Runtime) -> None:
    svc = rt.use_cases
    with loopback(opsgenie_pages(), "GenieKey read-only-key") as url:
        bundle = opsgenie.to_bundle(opsgenie.fetch(url, "read-only-key"))
    _, done = await plan_apply_again(svc, bundle)
    users = {u.email: u for u in await svc.users.list_users(SYSTEM)}
    john, jane = users["john.doe@opsgenie.com"], users["jane.doe@opsgenie.com"]
    assert john.name == "John Doe" and john.time_zone == "Europe/Istanbul"
    [schedule] = await svc.schedules.list(SYSTEM)
    [layer] = schedule.layers
    assert layer.users == [john.id, jane.id] and layer.turn == "weekly"
    restriction = layer.restrictions[0]
    assert (restriction.start, restriction.end, restriction.start_day, restriction.end_day) == (
        "09:00",
        "17:00",
        0,
        4,
    )
    [override] = schedule.overrides
    assert override.user_id == jane.id
    assert override.start == datetime(2024, 2, 1, 9, tzinfo=UTC)
    [policy] = await svc.policies.list(SYSTEM)
    assert [t.type for level in policy.levels for t in level.targets] == ["schedule", "user"]
    assert policy.levels[0].delay_seconds == 300
    assert policy.repeat == 2
    texts = [f"{r.kind} {r.name}: {r.text}" for r in done.remarks]
    assert any("recipient of type team" in t for t in texts)
    assert any("participant of type none" in t for t in texts)
    assert any(t.startswith("integration Datadog") for t in texts)
    [service] = await svc.catalog.list(SYSTEM)
    assert service.name == "Prometheus prod"
    [(old, new)] = done.urls
    assert old.endswith("/v2/alerts  (GenieKey of 'Prometheus prod')")
    assert new == f"{BASE}/v2/alerts  (Authorization: GenieKey {service.integration_keys[0].key})"


async def test_ical_feeds_of_each_tool(rt: Runtime, tmp_path: Path) -> None:
    svc = rt.use_cases
    for email, name in (("ann@example.com", "Ann Lee"), ("bob@example.com", "bob")):
        await svc.users.create_user(SYSTEM, UserIn(name=name, email=email))
    ann = next(u for u in await svc.users.list_users(SYSTEM) if u.email == "ann@example.com")
    for feed, schedule in (
        (PAGERDUTY_ICS, "PD primary"),
        (OPSGENIE_ICS, "OG primary"),
        (GRAFANA_ONCALL_ICS, "GO primary"),
    ):
        path = tmp_path / f"{schedule}.ics"
        path.write_bytes(feed)
        bundle = ical.to_bundle(ical.read_source(str(path)), schedule)
        await plan_apply_again(svc, bundle)
    schedules = {s.name: s for s in await svc.schedules.list(SYSTEM)}
    pd = schedules["PD primary"]
    assert [(o.user_id, o.start.isoformat()) for o in pd.overrides] == [
        (ann.id, "2024-03-01T09:00:00+00:00")
    ]
    assert schedules["OG primary"].time_zone == "Europe/Istanbul"
    assert schedules["OG primary"].overrides[0].user_id == ann.id
    [go] = schedules["GO primary"].overrides
    assert go.start == datetime(2024, 3, 4, 14, tzinfo=UTC)  # 09:00 in New York
    # who was unknown is listed, per shift
    report = await Reconciler(svc, BASE, apply=False).run(
        ical.to_bundle(PAGERDUTY_ICS, "PD primary")
    )
    assert any("zed@example.com" in r.text for r in report.remarks)
    empty = ical.to_bundle(GRAFANA_ONCALL_ICS, "x")
    assert [r.text for r in empty.remarks] == ["names nobody by email: left out"]
    # what the shifts are now: the feed's
    shifts = await svc.schedules.shifts(
        SYSTEM, pd.id, datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 4, tzinfo=UTC)
    )
    assert [(s.user_id, s.start.hour, (s.end - s.start).days) for s in shifts.shifts] == [
        (ann.id, 9, 1)
    ]


def test_cli_dry_run_then_apply(tmp_path: Path) -> None:
    feed = tmp_path / "pd.ics"
    feed.write_bytes(PAGERDUTY_ICS)
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}",
        "ONCALLNOVA_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "a-test-secret-that-is-long-enough-for-hs256-0123456789",
    }
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    args = ["import", "ical", str(feed), "--schedule", "Primary"]
    dry = runner.invoke(app, args, env=env)
    assert dry.exit_code == 0, dry.output
    assert "Plan (dry run" in dry.output and "would create" in dry.output
    assert "unknown user ann@example.com" in dry.output  # nobody has that address yet
    applied = runner.invoke(app, [*args, "--apply"], env=env)
    assert applied.exit_code == 0, applied.output
    assert "1 created." in applied.output
    again = runner.invoke(app, [*args, "--apply"], env=env)
    assert "0 created." in again.output and "exists" in again.output
