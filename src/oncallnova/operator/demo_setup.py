"""What `full-demo` creates (a team, two people, a weekly schedule, a two-level
escalation policy, a service with its key, a signed webhook) and removes on --cleanup."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from oncallnova.operator.client import Api, OperatorError


@dataclass
class Created:
    """Ids of what the demo made, in the order they were made."""

    run: str
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # alice, bob
    team_id: str | None = None
    schedule_id: str | None = None
    policy_id: str | None = None
    service: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    webhook_id: str | None = None


def build(
    api: Api, created: Created, delay_seconds: int, receiver_url: str
) -> tuple[str, list[str]]:
    """Create everything; returns the webhook's secret and what to print."""
    run = created.run
    for who in ("alice", "bob"):
        created.users[who] = api.post(
            "/api/v1/users",
            {
                "name": f"{who.title()} Demo-{run}",
                "email": f"{who}.{run}@example.com",
                "role": "responder",
            },
        )
    alice, bob = created.users["alice"]["id"], created.users["bob"]["id"]
    team = api.post("/api/v1/teams", {"name": f"Demo team {run}", "member_ids": [alice, bob]})
    created.team_id = team["id"]
    # Handed over a minute ago, so Alice holds the first weekly turn now.
    handoff = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    schedule = api.post(
        "/api/v1/schedules",
        {
            "name": f"Demo weekly {run}",
            "time_zone": "UTC",
            "layers": [
                {"name": "weekly", "users": [alice, bob], "turn": "weekly", "handoff": handoff}
            ],
        },
    )
    created.schedule_id = schedule["id"]
    policy = api.post(
        "/api/v1/escalation-policies",
        {
            "name": f"Demo policy {run}",
            "repeat": 0,
            "levels": [
                {
                    "targets": [{"type": "schedule", "id": schedule["id"]}],
                    "delay_seconds": delay_seconds,
                },
                {"targets": [{"type": "user", "id": bob}], "delay_seconds": delay_seconds},
            ],
        },
    )
    created.policy_id = policy["id"]
    service = api.post(
        "/api/v1/services",
        {
            "name": f"demo-{run}",
            "description": "Made by `oncallnova full-demo`.",
            "team_id": team["id"],
            "escalation_policy_id": policy["id"],
        },
    )
    created.service = service
    created.key = next(k["key"] for k in service["integration_keys"] if k.get("key"))
    hook = api.post(
        "/api/v1/webhooks",
        {"name": f"demo {run}", "url": receiver_url, "service_ids": [service["id"]]},
    )
    created.webhook_id = hook["id"]
    oncall = api.get(f"/api/v1/schedules/{schedule['id']}/oncall")
    if not any(u.get("user_id") == alice for u in oncall.get("users", [])):
        raise OperatorError(
            f"Alice should be on call now; the schedule says {_oncall_names(oncall)}"
        )
    return hook["secret"], [
        f"people: {created.users['alice']['name']}, {created.users['bob']['name']} "
        f"in team {team['name']}",
        f"schedule {schedule['name']} (weekly), on call now: {_oncall_names(oncall)}",
        f"policy {policy['name']}: level 1 the schedule, level 2 Bob, {delay_seconds}s apart",
        f"service {service['name']} with integration key {created.key[:6]}...",
        f"signed webhook to {receiver_url} (receiver run by this demo)",
    ]


def _oncall_names(oncall: Any) -> str:
    users = oncall.get("users") if isinstance(oncall, dict) else None
    if isinstance(users, list) and users:
        return ", ".join(str(u.get("user_name") or u.get("user_id")) for u in users)
    return str(oncall)[:120]


def cleanup(api: Api, created: Created) -> list[str]:
    """Delete in the order the server's references allow; returns what was removed.
    The service's incidents must be resolved first (the server refuses otherwise)."""
    removed: list[str] = []
    steps: list[tuple[str, str | None]] = [
        ("webhook", created.webhook_id and f"/api/v1/webhooks/{created.webhook_id}"),
        ("service", created.service.get("id") and f"/api/v1/services/{created.service['id']}"),
        ("policy", created.policy_id and f"/api/v1/escalation-policies/{created.policy_id}"),
        ("schedule", created.schedule_id and f"/api/v1/schedules/{created.schedule_id}"),
        *[(f"user {who}", f"/api/v1/users/{u['id']}") for who, u in created.users.items()],
        ("team", created.team_id and f"/api/v1/teams/{created.team_id}"),
    ]
    problems = []
    for what, path in steps:
        if not path:
            continue
        try:
            api.delete(path)
            removed.append(what)
        except OperatorError as exc:
            problems.append(f"{what}: {exc.message}")
    if problems:
        raise OperatorError("cleanup left some things: " + "; ".join(problems))
    return removed
