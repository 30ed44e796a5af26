"""The data every MCP test reads: people, a team, a schedule, a policy, two services and
incidents with a history, put in through the REST API as an admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "a-password-for-mcp-tests"
HANDOFF = "2026-01-05T00:00:00+00:00"  # a Monday: Ann's weeks are even, Bob's odd


@dataclass(frozen=True)
class Seeded:
    ann: str
    bob: str
    vic: str
    team: str
    schedule: str
    policy: str
    checkout: str
    payments: str
    first: str  # checkout, critical, resolved ("Rolled back deploy 42"), with a note
    second: str  # checkout, critical, resolved ("Restarted the pods")
    open: str  # checkout, critical, triggered: the two above are its past
    other: str  # payments, high, triggered
    open_number: int
    responder_token: str  # Ann's API token
    viewer_token: str  # Vic's API token


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.url, response.text)
    return response.json()


async def _person(http: httpx.AsyncClient, name: str, role: str) -> tuple[str, str]:
    """A user with `role` and an API token of theirs. Viewers cannot create tokens: a
    viewer's token is made while they are a responder, then their role is lowered (the
    token acts with its user's current role)."""
    email = f"{name.lower()}@example.com"
    body = {"name": name, "email": email, "role": "responder"}
    user_id = (await _ok(await http.post("/api/v1/users", json=body), 201))["id"]
    put = await http.put(f"/api/v1/users/{user_id}/password", json={"password": PASSWORD})
    assert put.status_code == 204, put.text
    form = {"username": email, "password": PASSWORD}
    jwt = (await _ok(await http.post("/api/v1/auth/token", data=form)))["access_token"]
    token = await _ok(
        await http.post(
            "/api/v1/auth/api-tokens",
            json={"name": "assistant"},
            headers={"Authorization": f"Bearer {jwt}"},
        ),
        201,
    )
    if role != "responder":
        await _ok(await http.patch(f"/api/v1/users/{user_id}", json={"role": role}))
    return user_id, token["token"]


async def _alert(http: httpx.AsyncClient, key: str, title: str, severity: str) -> str:
    response = await http.post(
        "/api/v1/alerts",
        json={"title": title, "severity": severity},
        headers={"X-Routing-Key": key},
    )
    return str((await _ok(response, 202))["alerts"][0]["incident_id"])


async def seed(http: httpx.AsyncClient, tick: Callable[[], Awaitable[None]]) -> Seeded:
    """`http` is signed in as an admin; `tick` lets time pass between incidents."""
    ann, responder_token = await _person(http, "Ann", "responder")
    bob, _ = await _person(http, "Bob", "responder")
    vic, viewer_token = await _person(http, "Vic", "viewer")
    team = await _ok(
        await http.post("/api/v1/teams", json={"name": "Shop", "member_ids": [ann, bob]}), 201
    )
    layer = {"name": "weekly", "users": [ann, bob], "turn": "weekly", "handoff": HANDOFF}
    rota = await _ok(
        await http.post("/api/v1/schedules", json={"name": "Primary", "layers": [layer]}), 201
    )
    levels = [
        {"delay_seconds": 300, "targets": [{"type": "schedule", "id": rota["id"]}]},
        {"delay_seconds": 300, "targets": [{"type": "user", "id": bob}]},
    ]
    policy = await _ok(
        await http.post(
            "/api/v1/escalation-policies", json={"name": "Shop policy", "levels": levels}
        ),
        201,
    )
    shop = {"team_id": team["id"], "escalation_policy_id": policy["id"]}
    checkout = await _ok(
        await http.post("/api/v1/services", json={"name": "checkout", **shop}), 201
    )
    payments = await _ok(await http.post("/api/v1/services", json={"name": "payments"}), 201)
    key = checkout["integration_keys"][0]["key"]

    first = await _alert(http, key, "Checkout 5xx over 5%", "critical")
    await tick()
    note = {"message": "Cause: a bad feature flag"}
    await _ok(await http.post(f"/api/v1/incidents/{first}/notes", json=note), 201)
    resolve = {"message": "Rolled back deploy 42"}
    await _ok(await http.post(f"/api/v1/incidents/{first}/resolve", json=resolve))
    await tick()
    second = await _alert(http, key, "Checkout 5xx over 5%", "critical")
    await tick()
    resolve = {"message": "Restarted the pods"}
    await _ok(await http.post(f"/api/v1/incidents/{second}/resolve", json=resolve))
    await tick()
    current = await _alert(http, key, "Checkout 5xx over 10%", "critical")
    other = await _alert(
        http, payments["integration_keys"][0]["key"], "Payments latency high", "high"
    )
    number = (await _ok(await http.get(f"/api/v1/incidents/{current}")))["number"]
    return Seeded(
        ann=ann,
        bob=bob,
        vic=vic,
        team=team["id"],
        schedule=rota["id"],
        policy=policy["id"],
        checkout=checkout["id"],
        payments=payments["id"],
        first=first,
        second=second,
        open=current,
        other=other,
        open_number=number,
        responder_token=responder_token,
        viewer_token=viewer_token,
    )
