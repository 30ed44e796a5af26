"""Schedules over HTTP: who is on call, shifts, overrides, /oncall, iCalendar feeds."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import icalendar

from oncallnova.core.clock import FakeClock
from tests.api.oncall_helpers import level, policy, schedule, user
from tests.conftest import new_service


async def test_oncall_at_shifts_and_overrides(client: httpx.AsyncClient) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    rota = await schedule(
        client,
        "Primary",
        [
            {
                "name": "daily",
                "users": [ann, ben],
                "turn": "daily",
                "handoff": "2026-03-02T09:00:00+01:00",
            }
        ],
        time_zone="Europe/Paris",
    )
    base = f"/api/v1/schedules/{rota['id']}"
    first = (await client.get(f"{base}/oncall", params={"at": "2026-03-02T12:00:00+01:00"})).json()
    assert [u["user_name"] for u in first["users"]] == ["Ann"]
    second = (await client.get(f"{base}/oncall", params={"at": "2026-03-03T09:00:00+01:00"})).json()
    assert [u["user_name"] for u in second["users"]] == ["Ben"]
    before = (await client.get(f"{base}/oncall", params={"at": "2026-03-01T12:00:00Z"})).json()
    assert before["users"] == []
    shifts = (
        await client.get(
            f"{base}/shifts",
            params={"start": "2026-03-02T08:00:00Z", "end": "2026-03-05T08:00:00Z"},
        )
    ).json()["shifts"]
    assert [(s["user_name"], s["start"]) for s in shifts] == [
        ("Ann", "2026-03-02T08:00:00Z"),
        ("Ben", "2026-03-03T08:00:00Z"),
        ("Ann", "2026-03-04T08:00:00Z"),
    ]
    override = await client.post(
        f"{base}/overrides",
        json={"user_id": ben, "start": "2026-03-02T10:00:00Z", "end": "2026-03-02T12:00:00Z"},
    )
    assert override.status_code == 201
    during = (await client.get(f"{base}/oncall", params={"at": "2026-03-02T11:00:00Z"})).json()
    assert [(u["user_name"], u["source"]) for u in during["users"]] == [("Ben", "override")]
    await client.delete(f"{base}/overrides/{override.json()['id']}")
    after = (await client.get(f"{base}/oncall", params={"at": "2026-03-02T11:00:00Z"})).json()
    assert [u["user_name"] for u in after["users"]] == ["Ann"]


async def test_times_without_offset_are_read_in_the_schedules_zone(
    client: httpx.AsyncClient,
) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    layers = [
        {"name": "local", "users": [ann, ben], "turn": "daily", "handoff": "2026-03-02T09:00:00"},
        # An explicit offset is an instant and is kept as given.
        {
            "name": "offset",
            "users": [ben],
            "turn": "weekly",
            "handoff": "2026-03-02T09:00:00-05:00",
            "end": "2026-04-02T09:00:00",
        },
    ]
    rota = await schedule(client, "Paris", layers, time_zone="Europe/Paris")
    stored = [(la["handoff"], la["end"]) for la in rota["layers"]]
    assert stored == [
        ("2026-03-02T09:00:00+01:00", None),
        ("2026-03-02T09:00:00-05:00", "2026-04-02T09:00:00+02:00"),
    ]
    base = f"/api/v1/schedules/{rota['id']}"
    assert (await client.get(base)).json()["layers"] == rota["layers"]
    shifts = (
        await client.get(
            f"{base}/shifts",
            params={"start": "2026-03-02T00:00:00Z", "end": "2026-03-03T12:00:00Z"},
        )
    ).json()["shifts"]
    assert [(s["user_name"], s["start"]) for s in shifts] == [
        ("Ann", "2026-03-02T08:00:00Z"),  # 09:00 in Paris, not 09:00 UTC
        ("Ben", "2026-03-02T14:00:00Z"),  # the higher layer, from 09:00 in New York
    ]

    # A patch of the layers alone reads them in the stored zone; a wall-clock time that
    # a clock change skips is read as the rotations read one (02:30 is 03:30 CEST).
    patch = {"layers": [{**layers[0], "handoff": "2026-03-29T02:30:00"}]}
    patched = (await client.patch(base, json=patch)).json()
    assert patched["layers"][0]["handoff"] == "2026-03-29T03:30:00+02:00"
    moved = (await client.patch(base, json={"time_zone": "Asia/Tokyo"})).json()
    assert moved["layers"][0]["handoff"] == "2026-03-29T03:30:00+02:00"

    override = await client.post(
        f"{base}/overrides",
        json={"user_id": ben, "start": "2026-04-01T10:00:00", "end": "2026-04-01T12:00:00"},
    )
    assert override.status_code == 201, override.text
    assert (override.json()["start"], override.json()["end"]) == (
        "2026-04-01T01:00:00Z",  # now read in Tokyo (UTC+9)
        "2026-04-01T03:00:00Z",
    )
    # One time with an offset and one without compare as instants (01:00Z, 00:30Z).
    reversed_local = await client.post(
        f"{base}/overrides",
        json={"user_id": ben, "start": "2026-04-01T10:00:00", "end": "2026-04-01T00:30:00Z"},
    )
    assert reversed_local.status_code == 422
    assert "end" in reversed_local.text


async def test_schedule_validation(client: httpx.AsyncClient) -> None:
    ann = await user(client, "Ann")
    layer = {"name": "l", "users": [ann], "turn": "daily", "handoff": "2026-01-01T00:00:00Z"}
    cases = [
        ({"name": "s", "time_zone": "Nowhere/City", "layers": [layer]}, "time_zone"),
        ({"name": "s", "layers": [{**layer, "users": []}]}, "users"),
        ({"name": "s", "layers": [{**layer, "users": ["ghost"]}]}, "ghost"),
        ({"name": "s", "layers": [{**layer, "turn": 0}]}, "turn"),
        ({"name": "s", "layers": [{**layer, "turn": "fortnightly"}]}, "turn"),
        (
            {
                "name": "s",
                "layers": [{**layer, "restrictions": [{"start": "25:00", "end": "08:00"}]}],
            },
            "restriction",
        ),
        ({"name": "s", "layers": [layer, layer]}, "duplicate"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/schedules", json=body)
        assert response.status_code == 422, body
        assert field in response.text, response.text
    ok = await schedule(client, "s", [layer])
    bad_override = await client.post(
        f"/api/v1/schedules/{ok['id']}/overrides",
        json={"user_id": ann, "start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
    )
    assert bad_override.status_code == 422
    too_long = await client.get(
        f"/api/v1/schedules/{ok['id']}/shifts",
        params={"start": "2026-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z"},
    )
    assert too_long.status_code == 422


async def test_oncall_now_per_schedule_and_service(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    rota = await schedule(
        client,
        "Primary",
        [{"name": "l", "users": [ann], "turn": "weekly", "handoff": "2026-01-05T00:00:00Z"}],
    )
    policy_id = await policy(client, "p", [level(60, ("schedule", rota["id"]), ("user", ben))])
    await new_service(client, "shop", escalation_policy_id=policy_id)
    await new_service(client, "lonely")
    now = (await client.get("/api/v1/oncall")).json()
    assert now["at"].startswith(clock.now().strftime("%Y-%m-%dT%H:%M"))
    assert [(s["name"], s["user_names"]) for s in now["schedules"]] == [("Primary", ["Ann"])]
    services = {s["name"]: s["user_names"] for s in now["services"]}
    assert services == {"shop": ["Ann", "Ben"], "lonely": []}


async def test_oncall_at_an_instant_per_schedule_and_service(client: httpx.AsyncClient) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    layer = {"name": "l", "users": [ann, ben], "turn": "weekly", "handoff": "2026-01-05T00:00:00Z"}
    rota = await schedule(client, "Primary", [layer])
    policy_id = await policy(client, "p", [level(60, ("schedule", rota["id"]))])
    await new_service(client, "shop", escalation_policy_id=policy_id)
    for at, name in (
        ("2026-01-05T00:00:00Z", "Ann"),
        ("2026-01-11T23:59:59Z", "Ann"),
        ("2026-01-12T00:00:00Z", "Ben"),
        ("2026-01-12T02:00:00+03:00", "Ann"),  # 2026-01-11T23:00Z
    ):
        answer = (await client.get("/api/v1/oncall", params={"at": at})).json()
        assert [(s["name"], s["user_names"]) for s in answer["schedules"]] == [("Primary", [name])]
        assert [(s["name"], s["user_names"]) for s in answer["services"]] == [("shop", [name])]
    answer = (await client.get("/api/v1/oncall", params={"at": "2026-01-12T02:00:00+03:00"})).json()
    assert answer["at"] == "2026-01-11T23:00:00Z"
    bad = await client.get("/api/v1/oncall", params={"at": "yesterday"})
    assert bad.status_code == 422 and "at" in bad.text


async def test_ical_feed_matches_shifts_and_token_rotates(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    rota = await schedule(
        client,
        "Primary",
        [{"name": "l", "users": [ann, ben], "turn": 36, "handoff": "2026-02-01T00:00:00Z"}],
    )
    feed_path = rota["ical_url"].split("://", 1)[1].split("/", 1)[1]
    response = await client.get(f"/{feed_path}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = [
        (
            str(e["X-ONCALLNOVA-USER-ID"]),
            str(e["SUMMARY"]),
            e.decoded("DTSTART"),
            e.decoded("DTEND"),
        )
        for e in calendar.walk("VEVENT")
    ]
    # the feed covers 7 days back and 60 ahead of now: the same range through /shifts
    now = clock.now()
    shifts = (
        await client.get(
            f"/api/v1/schedules/{rota['id']}/shifts",
            params={
                "start": (now - timedelta(days=7)).isoformat(),
                "end": (now + timedelta(days=60)).isoformat(),
            },
        )
    ).json()["shifts"]
    expected = [
        (
            s["user_id"],
            f"On call: {s['user_name']}",
            datetime.fromisoformat(s["start"]),
            datetime.fromisoformat(s["end"]),
        )
        for s in shifts
    ]
    assert len(events) > 40
    # ... except the shift going on 7 days back, given whole (36 h turns from Feb 1).
    assert expected[0][2] == datetime.fromisoformat("2026-02-22T12:00:00Z")
    first = (*expected[0][:2], datetime.fromisoformat("2026-02-22T00:00:00Z"), expected[0][3])
    assert events == [first, *expected[1:]]
    rotated = (await client.post(f"/api/v1/schedules/{rota['id']}/ical-token")).json()
    assert rotated["ical_url"] != rota["ical_url"]
    assert (await client.get(f"/{feed_path}")).status_code == 404


def _uids(feed: bytes) -> dict[datetime, str]:
    events = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    return {e.decoded("DTSTART"): str(e["UID"]) for e in events}


async def test_feed_uids_stay_when_the_window_moves(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    daily = {"name": "l", "users": [ann, ben], "turn": 36, "handoff": "2026-02-01T00:00:00Z"}
    rota = await schedule(client, "Primary", [daily])
    await schedule(client, "Secondary", [daily])
    schedule_feed = "/" + rota["ical_url"].split("://", 1)[1].split("/", 1)[1]
    link = (await client.post(f"/api/v1/users/{ann}/ical-token")).json()["ical_url"]
    user_feed = "/" + link.split("://", 1)[1].split("/", 1)[1]
    feed = (await client.get(schedule_feed)).content
    before = _uids(feed)
    anns = [
        e for e in icalendar.Calendar.from_ical(feed).walk("VEVENT") if e["SUMMARY"][-3:] == "Ann"
    ]
    mine = icalendar.Calendar.from_ical((await client.get(user_feed)).content).walk("VEVENT")
    # Both schedules put Ann on at the same times in a layer named "l": two events each.
    assert len(mine) == 2 * len(anns) > 0
    assert len({str(e["UID"]) for e in mine}) == len(mine)
    clock.advance(20 * 3600)  # the window's start moves inside a shift
    after = _uids((await client.get(schedule_feed)).content)
    common = before.keys() & after.keys()
    assert min(before) in common  # the shift cut by the window's start is still there
    assert {at: before[at] for at in common} == {at: after[at] for at in common}


async def test_user_feed(client: httpx.AsyncClient) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    await schedule(
        client,
        "Primary",
        [{"name": "l", "users": [ann, ben], "turn": "daily", "handoff": "2026-02-01T00:00:00Z"}],
    )
    link = (await client.post(f"/api/v1/users/{ann}/ical-token")).json()["ical_url"]
    response = await client.get("/" + link.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert events and {str(e["SUMMARY"]) for e in events} == {"On call: Ann"}
    assert (await client.get("/api/v1/calendars/users/nope.ics")).status_code == 404
