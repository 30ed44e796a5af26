"""Users, teams and escalation policies: CRUD and validation."""

from __future__ import annotations

import httpx

from tests.api.oncall_helpers import level, policy, user
from tests.conftest import api_client, new_service


async def test_user_crud_and_validation(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/users",
        json={
            "name": "Ann",
            "email": "Ann@Example.com",
            "time_zone": "Europe/Paris",
        },
    )
    assert created.status_code == 201
    ann = created.json()
    assert ann["email"] == "ann@example.com"
    assert ann["role"] == "responder"
    [method] = ann["contact_methods"]
    assert (method["type"], method["address"]) == ("email", "ann@example.com") and method["id"]
    duplicate = await client.post("/api/v1/users", json={"name": "A", "email": "ann@example.com"})
    assert duplicate.status_code == 409
    for body, field in [
        ({"name": "B", "email": "not-an-email"}, "email"),
        ({"name": "B", "email": "b@example.com", "time_zone": "Mars/Base"}, "time_zone"),
        ({"name": "B", "email": "b@example.com", "role": "god"}, "role"),
        ({"email": "b@example.com"}, "name"),
    ]:
        response = await client.post("/api/v1/users", json=body)
        assert response.status_code == 422, body
        assert field in response.json()["detail"]
    patched = await client.patch(f"/api/v1/users/{ann['id']}", json={"role": "admin"})
    assert patched.json()["role"] == "admin"
    assert (await client.delete(f"/api/v1/users/{ann['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/users/{ann['id']}")).status_code == 404


async def test_teams_with_members_and_services(client: httpx.AsyncClient) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    team = await client.post("/api/v1/teams", json={"name": "Payments", "member_ids": [ann, ben]})
    assert team.status_code == 201
    assert sorted(m["name"] for m in team.json()["members"]) == ["Ann", "Ben"]
    team_id = team.json()["id"]
    patched = await client.patch(f"/api/v1/teams/{team_id}", json={"member_ids": [ben]})
    assert [m["name"] for m in patched.json()["members"]] == ["Ben"]
    unknown = await client.post("/api/v1/teams", json={"name": "X", "member_ids": ["nope"]})
    assert unknown.status_code == 422
    assert "nope" in unknown.json()["detail"]
    svc = await new_service(client, team_id=team_id)
    assert svc["team_id"] == team_id
    bad = await client.post("/api/v1/services", json={"name": "other", "team_id": "nope"})
    assert bad.status_code == 422
    assert "team" in bad.json()["detail"]


async def test_policy_crud_defaults_and_validation(client: httpx.AsyncClient) -> None:
    ann = await user(client, "Ann")
    created = await client.post(
        "/api/v1/escalation-policies",
        json={
            "name": "Default",
            "levels": [{"targets": [{"type": "user", "id": ann}]}],
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["repeat"] == 0
    assert body["levels"][0]["delay_seconds"] == 120  # ESCALATION_TIMEOUT_SECONDS
    for bad, field in [
        ({"name": "x", "levels": []}, "levels"),
        ({"name": "x", "levels": [level(60, ("user", ann))], "repeat": 6}, "repeat"),
        ({"name": "x", "levels": [level(60, ("user", "nobody"))]}, "nobody"),
        ({"name": "x", "levels": [level(60, ("schedule", "nothing"))]}, "nothing"),
        ({"name": "x", "levels": [level(60, ("team", ann))]}, "type"),
    ]:
        response = await client.post("/api/v1/escalation-policies", json=bad)
        assert response.status_code == 422, bad
        assert field in response.json()["detail"], response.json()
    duplicate = await client.post(
        "/api/v1/escalation-policies", json={"name": "Default", "levels": [level(1, ("user", ann))]}
    )
    assert duplicate.status_code == 409
    listing = (await client.get("/api/v1/escalation-policies")).json()["items"]
    assert [p["name"] for p in listing] == ["Default"]
    svc = await new_service(client, escalation_policy_id=body["id"])
    assert svc["escalation_policy_id"] == body["id"]
    missing = await client.patch(
        f"/api/v1/services/{svc['id']}", json={"escalation_policy_id": "nope"}
    )
    assert missing.status_code == 422
    # In use by a service: refused (its next incident would page nobody), then allowed.
    refused = await client.delete(f"/api/v1/escalation-policies/{body['id']}")
    assert refused.status_code == 409 and "service 'checkout'" in refused.json()["detail"]
    await client.patch(f"/api/v1/services/{svc['id']}", json={"escalation_policy_id": None})
    assert (await client.delete(f"/api/v1/escalation-policies/{body['id']}")).status_code == 204


async def test_custom_escalation_timeout_default(make_runtime: object) -> None:
    rt = await make_runtime(ESCALATION_TIMEOUT_SECONDS="45")  # type: ignore[operator]
    async with api_client(rt) as c:
        ann = await user(c, "Ann")
        policy_id = await policy(c, "p", [{"targets": [{"type": "user", "id": ann}]}])
        body = (await c.get(f"/api/v1/escalation-policies/{policy_id}")).json()
    assert body["levels"][0]["delay_seconds"] == 45
