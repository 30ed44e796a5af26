"""`import opsgenie`: read Opsgenie's REST API with a read-only API key (header
`Authorization: GenieKey <key>`), in the shapes docs.opsgenie.com documents for the User,
Team, Schedule (with `expand=rotation`), Schedule Override, Escalation and Integration
APIs: `{"data": [...], "paging": {"next": ...}}`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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

DEFAULT_URL = "https://api.opsgenie.com"
# Integrations whose senders call the Alert API, which OnCallNova accepts as Opsgenie does.
ALERT_API_TYPES = {"API", "Prometheus", "Alertmanager", "DefaultIntegration"}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Reader:
    def __init__(self, url: str, key: str, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.http = client or httpx.Client(timeout=30)
        self.headers = {"Authorization": f"GenieKey {key}"}

    def all(self, path: str, **params: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        next_url: str | None = f"{self.url}{path}"
        query: dict[str, str] | None = params
        while next_url:
            response = self.http.get(next_url, params=query, headers=self.headers)
            response.raise_for_status()
            page = response.json()
            data = page.get("data") or []
            items.extend(data if isinstance(data, list) else [data])
            next_url, query = (page.get("paging") or {}).get("next"), None
        return items

    def one(self, path: str) -> dict[str, Any]:
        response = self.http.get(f"{self.url}{path}", headers=self.headers)
        response.raise_for_status()
        data: dict[str, Any] = response.json().get("data") or {}
        return data


def fetch(url: str, key: str, client: httpx.Client | None = None) -> dict[str, Any]:
    reader = Reader(url, key, client)
    teams = [reader.one(f"/v2/teams/{t['id']}") for t in reader.all("/v2/teams")]
    schedules = reader.all("/v2/schedules", expand="rotation")
    overrides = {s["id"]: reader.all(f"/v2/schedules/{s['id']}/overrides") for s in schedules}
    return {
        "url": reader.url,
        "users": reader.all("/v2/users"),
        "teams": teams,
        "schedules": schedules,
        "overrides": overrides,
        "escalations": reader.all("/v2/escalations"),
        "integrations": reader.all("/v2/integrations"),
    }


def to_bundle(data: dict[str, Any]) -> Bundle:
    bundle = Bundle()
    for user in data["users"]:
        name = user.get("fullName") or user["username"]
        bundle.users.append(UserSpec(user["username"], name, user.get("timeZone") or "UTC"))
    team_names = {t["id"]: t["name"] for t in data["teams"]}
    for team in data["teams"]:
        members = [m["user"]["username"] for m in team.get("members") or [] if m.get("user")]
        bundle.teams.append(TeamSpec(team["name"], members))
    for schedule in data["schedules"]:
        bundle.schedules.append(
            _schedule(bundle, schedule, data["overrides"].get(schedule["id"], []))
        )
    for escalation in data["escalations"]:
        bundle.policies.append(_policy(bundle, escalation))
    for integration in data["integrations"]:
        name, kind = integration["name"], integration.get("type") or ""
        if kind not in ALERT_API_TYPES:
            bundle.remark(
                "integration",
                name,
                f"type {kind}: its sender posts Opsgenie's {kind} format, which OnCallNova "
                "does not accept; point it at OnCallNova's native, Alertmanager, PagerDuty "
                "or Grafana OnCall URL",
            )
            continue
        team = team_names.get(integration.get("teamId") or "")
        bundle.services.append(
            ServiceSpec(
                name=name,
                sender="opsgenie",
                old_urls=[f"{data['url']}/v2/alerts  (GenieKey of '{name}')"],
                team=team,
            )
        )
        bundle.remark(
            "integration",
            name,
            "Opsgenie routes alerts to teams and their routing rules; here the service's "
            "escalation policy pages: set it after the import",
        )
    return bundle


def _schedule(
    bundle: Bundle, schedule: dict[str, Any], overrides: list[dict[str, Any]]
) -> ScheduleSpec:
    name = schedule["name"]
    spec = ScheduleSpec(name=name, time_zone=schedule.get("timezone") or "UTC")
    rotations = schedule.get("rotations") or []
    if len(rotations) > 1:
        bundle.remark(
            "schedule",
            name,
            "Opsgenie puts every rotation on call at once; here a later layer covers an "
            "earlier one where it has someone",
        )
    for rotation in rotations:
        where = f"{name} / {rotation.get('name')}"
        people = []
        for participant in rotation.get("participants") or []:
            if participant.get("type") == "user" and participant.get("username"):
                people.append(participant["username"])
            else:
                bundle.remark(
                    "rotation",
                    where,
                    f"participant of type {participant.get('type')}: no equivalent; left out",
                )
        if not people:
            continue
        kind, length = rotation.get("type") or "weekly", int(rotation.get("length") or 1)
        hours = {"hourly": 1, "daily": 24, "weekly": 168}.get(kind)
        if hours is None:
            bundle.remark("rotation", where, f"rotation type {kind}: no equivalent; left out")
            continue
        turn: str | float = kind if length == 1 else float(hours * length)
        end = rotation.get("endDate")
        spec.layers.append(
            LayerSpec(
                name=rotation.get("name") or "rotation",
                emails=people,
                turn=turn,
                handoff=_instant(rotation["startDate"]),
                restrictions=_restrictions(rotation.get("timeRestriction")),
                end=_instant(end) if end else None,
            )
        )
    for override in overrides:
        user = override.get("user") or {}
        if user.get("type") != "user" or not user.get("username"):
            bundle.remark(
                "override", f"{name} / {override.get('alias')}", "not a single user: left out"
            )
            continue
        if override.get("rotations"):
            bundle.remark(
                "override",
                f"{name} / {override.get('alias')}",
                "limited to some rotations: covers the whole schedule here",
            )
        spec.overrides.append(
            OverrideSpec(
                user["username"], _instant(override["startDate"]), _instant(override["endDate"])
            )
        )
    return spec


def _restrictions(value: dict[str, Any] | None) -> list[dict[str, str | int]]:
    if not value:
        return []
    if value.get("type") == "time-of-day":
        r = value.get("restriction") or {}
        return [{"start": _hhmm(r, "start"), "end": _hhmm(r, "end")}]
    return [
        {
            "start": _hhmm(r, "start"),
            "end": _hhmm(r, "end"),
            "start_day": _DAYS.index(str(r["startDay"]).lower()),
            "end_day": _DAYS.index(str(r["endDay"]).lower()),
        }
        for r in value.get("restrictions") or []
    ]


def _hhmm(restriction: dict[str, Any], which: str) -> str:
    hour, minute = restriction.get(which + "Hour", 0), restriction.get(which + "Min", 0)
    return f"{int(hour):02d}:{int(minute):02d}"


def _policy(bundle: Bundle, escalation: dict[str, Any]) -> PolicySpec:
    """Opsgenie's rule delays count from the alert's creation; OnCallNova's level delay
    is the wait before the next level."""
    name = escalation["name"]
    levels: list[LevelSpec] = []
    delays: list[int] = []
    for rule in escalation.get("rules") or []:
        recipient = rule.get("recipient") or {}
        kind = recipient.get("type")
        if rule.get("condition") not in (None, "if-not-acked"):
            bundle.remark(
                "escalation",
                name,
                f"condition {rule.get('condition')}: escalation here stops at acknowledgement",
            )
        if kind == "user" and recipient.get("username"):
            target = TargetSpec("user", recipient["username"])
        elif kind == "schedule" and recipient.get("name"):
            target = TargetSpec("schedule", recipient["name"])
        else:
            bundle.remark("escalation", name, f"recipient of type {kind}: no equivalent; left out")
            continue
        delay = rule.get("delay") or {}
        minutes = int(delay.get("timeAmount") or 0) * (
            60 if delay.get("timeUnit") == "hours" else 1
        )
        if delays and delays[-1] == minutes:
            levels[-1].targets.append(target)
            continue
        levels.append(LevelSpec(targets=[target]))
        delays.append(minutes)
    for n in range(len(levels) - 1):
        levels[n].delay_seconds = max(0, delays[n + 1] - delays[n]) * 60
    repeat = escalation.get("repeat") or {}
    count = int(repeat.get("count") or 0)
    if count > 5:
        bundle.remark("escalation", name, f"repeats {count} times: at most 5 here")
    if repeat.get("waitInterval"):
        bundle.remark(
            "escalation", name, "a wait between repeats: no equivalent; repeats follow at once"
        )
    return PolicySpec(name=name, levels=levels, repeat=min(count, 5))


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
