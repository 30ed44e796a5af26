"""Integration keys open and resolve incidents, so only those who may do that see them:
admins, and responders of the service's team; never viewers."""

from __future__ import annotations

import httpx

from oncallnova.runtime.container import Runtime
from tests.conftest import api_client, new_service, sign_in


def key_values(service: dict[str, object]) -> list[object]:
    return [k["key"] for k in service["integration_keys"]]  # type: ignore[attr-defined, index]


async def test_who_sees_the_keys(rt: Runtime, client: httpx.AsyncClient) -> None:
    viewer = await sign_in(rt, "vic@example.com", "viewer", "Vic")
    member = await sign_in(rt, "mia@example.com", "responder", "Mia")
    outsider = await sign_in(rt, "oz@example.com", "responder", "Oz")
    users = {u["email"]: u["id"] for u in (await client.get("/api/v1/users")).json()["items"]}
    team = await client.post(
        "/api/v1/teams", json={"name": "payments", "member_ids": [users["mia@example.com"]]}
    )
    svc = await new_service(client, "checkout", team_id=team.json()["id"])
    lone = await new_service(client, "batch")  # no team: admins only
    assert key_values((await client.get(f"/api/v1/services/{svc['id']}")).json()) == [svc["key"]]

    async def seen(token: str) -> dict[str, list[object]]:
        async with api_client(rt, token) as http:
            listed = (await http.get("/api/v1/services")).json()["items"]
            one = (await http.get(f"/api/v1/services/{svc['id']}")).json()
        assert key_values(one) == key_values(next(s for s in listed if s["id"] == svc["id"]))
        return {s["name"]: key_values(s) for s in listed}

    assert await seen(viewer) == {"checkout": [None], "batch": [None]}
    assert await seen(outsider) == {"checkout": [None], "batch": [None]}
    assert await seen(member) == {"checkout": [svc["key"]], "batch": [None]}
    assert lone["key"]  # the admin who created it got it


async def test_a_viewer_cannot_resolve_through_a_key_they_never_see(
    rt: Runtime, client: httpx.AsyncClient
) -> None:
    svc = await new_service(client, "api")
    viewer = await sign_in(rt, "val@example.com", "viewer", "Val")
    async with api_client(rt, viewer) as http:
        for path in (
            "/api/v1/services",
            f"/api/v1/services/{svc['id']}",
            "/services",
            f"/services/{svc['id']}",
        ):
            response = await http.get(path)
            assert response.status_code == 200, path
            assert svc["key"] not in response.text, path
    page = await client.get(f"/services/{svc['id']}")
    assert page.status_code == 200 and svc["key"] in page.text  # an admin's page shows it


async def test_the_service_page_tells_a_viewer_why_the_key_is_hidden(
    rt: Runtime, client: httpx.AsyncClient
) -> None:
    svc = await new_service(client, "web")
    viewer = await sign_in(rt, "vera@example.com", "viewer", "Vera")
    async with api_client(rt, viewer) as http:
        page = (await http.get(f"/services/{svc['id']}")).text
    assert 'id="keys-hidden"' in page and "key hidden" in page
    assert "YOUR-INTEGRATION-KEY" in page


async def test_schedule_feed_urls_are_not_shown_to_viewers(
    rt: Runtime, client: httpx.AsyncClient
) -> None:
    created = await client.post(
        "/api/v1/schedules", json={"name": "Primary", "time_zone": "UTC", "layers": []}
    )
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert schedule["ical_url"].endswith(".ics")
    viewer = await sign_in(rt, "wes@example.com", "viewer", "Wes")
    responder = await sign_in(rt, "rae@example.com", "responder", "Rae")
    async with api_client(rt, viewer) as http:
        listed = (await http.get("/api/v1/schedules")).json()["items"]
        one = (await http.get(f"/api/v1/schedules/{schedule['id']}")).json()
        page = (await http.get(f"/schedules/{schedule['id']}")).text
    assert [s["ical_url"] for s in listed] == [None] and one["ical_url"] is None
    assert schedule["ical_url"] not in page and 'id="feed-hidden"' in page
    async with api_client(rt, responder) as http:
        one = (await http.get(f"/api/v1/schedules/{schedule['id']}")).json()
    assert one["ical_url"] == schedule["ical_url"]


async def test_a_users_feed_url_is_only_for_themself_and_admins(
    rt: Runtime, client: httpx.AsyncClient
) -> None:
    viewer = await sign_in(rt, "xia@example.com", "viewer", "Xia")
    responder = await sign_in(rt, "yan@example.com", "responder", "Yan")
    users = {u["email"]: u["id"] for u in (await client.get("/api/v1/users")).json()["items"]}
    yan = users["yan@example.com"]
    link = (await client.post(f"/api/v1/users/{yan}/ical-token")).json()["ical_url"]
    token = link.rsplit("/", 1)[1].removesuffix(".ics")
    for who in (viewer, responder):
        async with api_client(rt, who) as http:
            for path in ("/api/v1/users", f"/api/v1/users/{yan}", f"/people/{yan}"):
                assert token not in (await http.get(path)).text, path
    async with api_client(rt, viewer) as http:
        assert (await http.post(f"/api/v1/users/{yan}/ical-token")).status_code == 403
    async with api_client(rt, responder) as http:
        own = await http.post(f"/api/v1/users/{yan}/ical-token")
        assert own.status_code == 200 and own.json()["ical_url"] != link
        other = users["xia@example.com"]
        assert (await http.post(f"/api/v1/users/{other}/ical-token")).status_code == 403
