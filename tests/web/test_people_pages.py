"""People, person, team and account pages rendered on the server (no browser), per role."""

from __future__ import annotations

from typing import Any

import httpx

from oncallnova.runtime.container import Runtime
from tests.conftest import api_client, sign_in


async def new_user(client: httpx.AsyncClient, name: str, email: str, **fields: Any) -> str:
    body = {"name": name, "email": email, **fields}
    response = await client.post("/api/v1/users", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_team(client: httpx.AsyncClient, name: str, member_ids: list[str]) -> str:
    body = {"name": name, "description": "Keeps checkout up", "member_ids": member_ids}
    response = await client.post("/api/v1/teams", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_admin_sees_people_teams_and_every_control(client: httpx.AsyncClient) -> None:
    ada = await new_user(client, "Ada Lovelace", "ada@example.com", time_zone="Europe/Paris")
    team_id = await new_team(client, "Payments", [ada])

    people = await client.get("/people")
    assert people.status_code == 200
    html = people.text
    assert "<h1>People</h1>" in html
    assert "Ada Lovelace" in html and "ada@example.com" in html and "Europe/Paris" in html
    assert f'href="/teams/{team_id}"' in html and "Payments" in html
    assert 'data-api="/api/v1/users"' in html and 'data-api="/api/v1/teams"' in html

    person = await client.get(f"/people/{ada}")
    assert person.status_code == 200
    assert f'data-api="/api/v1/users/{ada}"' in person.text  # edit
    assert f'data-api="/api/v1/users/{ada}/password"' in person.text
    assert f'data-api="/api/v1/users/{ada}/ical-token"' in person.text
    assert 'data-method="DELETE"' in person.text
    assert 'name="role"' in person.text and 'name="email"' in person.text

    team = await client.get(f"/teams/{team_id}")
    assert team.status_code == 200
    assert "Ada Lovelace" in team.text and "Keeps checkout up" in team.text
    assert f'data-api="/api/v1/teams/{team_id}"' in team.text

    account = await client.get("/account")
    assert account.status_code == 200
    assert "Your account" in account.text
    assert 'data-api="/api/v1/auth/api-tokens"' in account.text


async def test_viewer_sees_read_only_pages(client: httpx.AsyncClient, rt: Runtime) -> None:
    ada = await new_user(client, "Ada", "ada@example.com")
    team_id = await new_team(client, "Payments", [ada])
    token = await sign_in(rt, "viewer@example.com", "viewer")
    async with api_client(rt, token) as viewer:
        people = await viewer.get("/people")
        assert people.status_code == 200
        assert "Ada" in people.text and "Payments" in people.text
        assert "data-api" not in people.text  # no create forms, no delete buttons
        assert "Only admins add or remove people and teams." in people.text

        person = await viewer.get(f"/people/{ada}")
        assert person.status_code == 200
        assert "data-api" not in person.text  # not themselves, not an admin

        team = await viewer.get(f"/teams/{team_id}")
        assert team.status_code == 200
        assert "data-api" not in team.text

        account = await viewer.get("/account")
        assert account.status_code == 200
        assert "/password" in account.text  # a viewer may change their own password
        assert 'data-api="/api/v1/auth/api-tokens"' not in account.text
        assert 'data-method="PATCH"' not in account.text
        assert "API tokens need the responder role" in account.text


async def test_responder_edits_only_their_own_profile(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    ada = await new_user(client, "Ada", "ada@example.com")
    token = await sign_in(rt, "responder@example.com", "responder")
    async with api_client(rt, token) as responder:
        me = (await responder.get("/api/v1/auth/me")).json()["user_id"]
        own = await responder.get(f"/people/{me}")
        assert f'data-api="/api/v1/users/{me}"' in own.text
        assert 'name="role"' not in own.text and 'name="email"' not in own.text
        assert f'data-api="/api/v1/users/{me}" data-method="DELETE"' not in own.text
        other = await responder.get(f"/people/{ada}")
        assert "data-api" not in other.text

        created = await responder.post("/api/v1/auth/api-tokens", json={"name": "deploy"})
        assert created.status_code == 201
        account = await responder.get("/account")
        assert "deploy" in account.text and "Revoke" in account.text
        assert created.json()["token"] not in account.text  # shown once, never again


async def test_admin_sees_other_peoples_tokens(client: httpx.AsyncClient, rt: Runtime) -> None:
    token = await sign_in(rt, "responder@example.com", "responder", name="Rita")
    async with api_client(rt, token) as responder:
        created = await responder.post("/api/v1/auth/api-tokens", json={"name": "rita-cli"})
        assert created.status_code == 201
    account = await client.get("/account")
    assert "Other people's API tokens" in account.text
    assert "rita-cli" in account.text and "Rita" in account.text


async def test_unknown_ids_are_html_404_pages(client: httpx.AsyncClient) -> None:
    for url in ("/people/no-such-user", "/teams/no-such-team"):
        response = await client.get(url)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Not found" in response.text


async def test_pages_need_a_sign_in(rt: Runtime) -> None:
    async with api_client(rt, "") as anonymous:
        for url in ("/people", "/account"):
            response = await anonymous.get(url)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")
