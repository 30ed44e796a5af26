"""`import grafana-oncall`: read Grafana OnCall's public API (`/api/v1/…`, header
`Authorization: <token>`, pages of `{"count", "next", "results"}`), as its serializers
give it out (grafana/oncall `engine/apps/public_api/serializers/`: users.py, teams.py,
schedules_*.py, on_call_shifts.py, escalation_chains.py, escalation_policies.py,
integrations.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from oncallnova.importers.model import (
    Bundle,
    LayerSpec,
    LevelSpec,
    OverrideSpec,
    PolicySpec,
    ScheduleSpec,
    ServiceSpec,
    TargetSpec,
    TeamSpec,
    UserSpec,
)

ACCEPTED = ("alertmanager", "grafana_alerting", "grafana", "webhook", "formatted_webhook")
_HOURS = {"hourly": 1, "daily": 24, "weekly": 168}
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def fetch(
    url: str, token: str, client: httpx.Client | None = None
) -> dict[str, list[dict[str, Any]]]:
    http = client or httpx.Client(timeout=30)
    found: dict[str, list[dict[str, Any]]] = {}
    for name in (
        "users",
        "teams",
        "schedules",
        "on_call_shifts",
        "escalation_chains",
        "escalation_policies",
        "integrations",
    ):
        items: list[dict[str, Any]] = []
        next_url: str | None = f"{url.rstrip('/')}/api/v1/{name}/"
        while next_url:
            response = http.get(next_url, headers={"Authorization": token})
            response.raise_for_status()
            page = response.json()
            items.extend(page.get("results", []))
            next_url = page.get("next")
        found[name] = items
    return found


def to_bundle(data: dict[str, list[dict[str, Any]]]) -> Bundle:
    bundle = Bundle()
    emails = {u["id"]: u["email"] for u in data["users"]}
    for user in data["users"]:
        bundle.users.append(
            UserSpec(
                user["email"], user.get("username") or user["email"], user.get("timezone") or "UTC"
            )
        )
    teams = {t["id"]: t["name"] for t in data["teams"]}
    for team_id, name in teams.items():
        members = [u["email"] for u in data["users"] if team_id in (u.get("teams") or [])]
        bundle.teams.append(TeamSpec(name, members))
    shifts = {s["id"]: s for s in data["on_call_shifts"]}
    schedules = {s["id"]: s["name"] for s in data["schedules"]}
    for schedule in data["schedules"]:
        bundle.schedules.append(_schedule(bundle, schedule, shifts, emails))
    chains = {c["id"]: c["name"] for c in data["escalation_chains"]}
    for chain_id, name in chains.items():
        steps = sorted(
            (p for p in data["escalation_policies"] if p.get("escalation_chain_id") == chain_id),
            key=lambda p: p.get("position", 0),
        )
        bundle.policies.append(_policy(bundle, name, steps, emails, schedules))
    for integration in data["integrations"]:
        _integration(bundle, integration, chains, teams)
    return bundle


def _schedule(
    bundle: Bundle, schedule: dict[str, Any], shifts: dict[str, Any], emails: dict[str, str]
) -> ScheduleSpec:
    name = schedule["name"]
    spec = ScheduleSpec(name=name, time_zone=schedule.get("time_zone") or "UTC")
    if schedule.get("type") == "ical":
        url = schedule.get("ical_url_primary") or "(none)"
        bundle.remark(
            "schedule",
            name,
            "an iCal schedule: import its feed with "
            f"`oncallnova import ical {url} --schedule '{name}'`",
        )
    zone = ZoneInfo(spec.time_zone)
    layered: list[tuple[int, LayerSpec]] = []
    for shift_id in schedule.get("shifts") or []:
        shift = shifts.get(shift_id)
        if shift is None:
            continue
        start = _local(shift["start"], shift.get("time_zone"), zone)
        length = timedelta(seconds=int(shift.get("duration") or 0))
        kind = shift.get("type")
        if kind in ("single_event", "override"):
            for user in shift.get("users") or []:
                spec.overrides.append(OverrideSpec(emails.get(user, user), start, start + length))
            continue
        layer = _layer(bundle, name, shift, start, length, emails)
        if layer is not None:
            layered.append((int(shift.get("level") or 0), layer))
    # Grafana OnCall's higher level wins, as OnCallNova's later layer does.
    spec.layers = [layer for _, layer in sorted(layered, key=lambda pair: pair[0])]
    return spec


def _layer(
    bundle: Bundle,
    schedule: str,
    shift: dict[str, Any],
    start: datetime,
    length: timedelta,
    emails: dict[str, str],
) -> LayerSpec | None:
    where = f"{schedule} / {shift.get('name') or shift['id']}"
    frequency = shift.get("frequency")
    if frequency not in _HOURS:
        bundle.remark("shift", where, f"frequency {frequency}: no equivalent turn; left out")
        return None
    interval = int(shift.get("interval") or 1)
    groups = shift.get("rolling_users") or [[u] for u in shift.get("users") or []]
    if any(len(g) > 1 for g in groups):
        bundle.remark(
            "shift",
            where,
            "several users on call at once in one turn: each takes a turn of their own here",
        )
    users = [emails.get(u, u) for group in groups for u in group]
    if shift.get("type") == "recurrent_event" and len(users) > 1:
        bundle.remark("shift", where, "a recurrent event of several users: imported as a rotation")
    start_index = int(shift.get("start_rotation_from_user_index") or 0)
    users = users[start_index:] + users[:start_index]
    hours = _HOURS[frequency] * interval
    turn: str | float = frequency if interval == 1 else float(hours)
    restrictions: list[dict[str, str | int]] = []
    if length < timedelta(hours=hours):
        end = start + length
        if frequency == "daily" and length < timedelta(days=1):
            restrictions.append({"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")})
        elif frequency == "weekly" and length < timedelta(days=7):
            restrictions.append(
                {
                    "start": start.strftime("%H:%M"),
                    "end": end.strftime("%H:%M"),
                    "start_day": start.weekday(),
                    "end_day": end.weekday(),
                }
            )
        else:
            bundle.remark("shift", where, "covers part of each turn: imported as whole turns")
    if shift.get("by_day") or shift.get("by_month") or shift.get("by_monthday"):
        bundle.remark("shift", where, "limited to some days or months: imported without that limit")
    until = shift.get("until")
    return LayerSpec(
        name=str(shift.get("name") or shift["id"]),
        emails=users,
        turn=turn,
        handoff=start,
        restrictions=restrictions,
        end=_local(until, shift.get("time_zone"), ZoneInfo("UTC")) if until else None,
    )


def _policy(
    bundle: Bundle,
    name: str,
    steps: list[dict[str, Any]],
    emails: dict[str, str],
    schedules: dict[str, str],
) -> PolicySpec:
    levels: list[LevelSpec] = []
    current: LevelSpec | None = None
    repeat = 0
    for step in steps:
        kind = step.get("type")
        if kind == "wait":
            if not levels:
                text = "a wait before the first notification: level 1 pages at once here"
                bundle.remark("escalation chain", name, text)
            if current is not None:
                current.delay_seconds = (current.delay_seconds or 0) + int(
                    step.get("duration") or 0
                )
                current = None  # the next notify step starts the next level
            continue
        targets: list[TargetSpec] = []
        if kind in ("notify_persons", "notify_person_next_each_time"):
            people = (
                step.get("persons_to_notify") or step.get("persons_to_notify_next_each_time") or []
            )
            targets = [TargetSpec("user", emails.get(p, p)) for p in people]
            if kind == "notify_person_next_each_time":
                bundle.remark(
                    "escalation chain",
                    name,
                    "notify the next person each time: imported as notifying all of them",
                )
        elif kind == "notify_on_call_from_schedule":
            schedule = schedules.get(step.get("notify_on_call_from_schedule") or "")
            targets = [TargetSpec("schedule", schedule)] if schedule else []
        elif kind == "repeat_escalation":
            repeat = min(repeat + 1, 5)
            continue
        else:
            bundle.remark("escalation chain", name, f"step {kind}: no equivalent; left out")
            continue
        if current is None:
            current = LevelSpec(targets=[])
            levels.append(current)
        current.targets.extend(targets)
    return PolicySpec(name=name, levels=[level for level in levels if level.targets], repeat=repeat)


def _integration(
    bundle: Bundle, integration: dict[str, Any], chains: dict[str, str], teams: dict[str, str]
) -> None:
    name, kind = integration["name"], integration.get("type") or ""
    if kind not in ACCEPTED:
        bundle.remark(
            "integration",
            name,
            f"type {kind}: OnCallNova accepts no such body; point the sender at a webhook "
            "or formatted_webhook URL instead",
        )
        return
    urls = [integration["link"]] if integration.get("link") else []
    heartbeat = (integration.get("heartbeat") or {}).get("link")
    if heartbeat:
        urls.append(heartbeat)
    route = integration.get("default_route") or {}
    if len(integration.get("routes") or []) > 1:
        bundle.remark(
            "integration",
            name,
            "routes other than the default: no equivalent; every alert goes to the "
            "default route's chain",
        )
    bundle.services.append(
        ServiceSpec(
            name=name,
            sender=kind,
            old_urls=urls,
            policy=chains.get(route.get("escalation_chain_id") or ""),
            team=teams.get(integration.get("team_id") or ""),
        )
    )


def _local(value: str, zone_name: str | None, default: ZoneInfo) -> datetime:
    """Grafana OnCall writes shift times without an offset, in the shift's time zone."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        return parsed
    return parsed.replace(tzinfo=ZoneInfo(zone_name) if zone_name else default)
