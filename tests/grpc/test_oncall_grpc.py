"""`OnCallService` over a real gRPC connection: every method of the on-call, schedules
and policies clients answers what the in-process use case answers, and fails alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from oncallnova.core.errors import Forbidden, InvalidInput, NotFound
from oncallnova.oncall.policy_schemas import PolicyIn, PolicyPatch
from oncallnova.oncall.schedule_schemas import (
    OverrideIn,
    RestrictionIn,
    ScheduleIn,
    SchedulePatch,
)
from oncallnova.runtime.container import Runtime
from oncallnova.services.schemas import ServiceIn
from oncallnova.transport.grpc.clients.oncall import OncallClient, PoliciesClient, SchedulesClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import oncall_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import oncall_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import acting_as
from oncallnova.users.schemas import UserIn
from tests.grpc.conftest import START, Stack, same, same_error, serving

LAYERS: list[dict[str, Any]] = [
    {"name": "weekdays", "turn": "weekly", "handoff": "2026-02-02T09:00:00+01:00"},
    {
        "name": "nights",
        "turn": 36,
        "handoff": "2026-02-01T20:00:00",
        "restrictions": [{"start": "20:00", "end": "08:00", "start_day": 4, "end_day": 0}],
        "end": "2026-06-01T00:00:00",
    },
]


@pytest.fixture(scope="module")
async def seeded(stack: Stack) -> dict[str, Any]:
    """Two people, a schedule with an override, a policy paging it, a service on it."""
    local, admin = stack.local, stack.admin
    ann = await local.users.create_user(admin, UserIn(name="Ann", email="ann@example.com"))
    ben = await local.users.create_user(admin, UserIn(name="Ben", email="ben@example.com"))
    layers = [{**LAYERS[0], "users": [ann.id, ben.id]}, {**LAYERS[1], "users": [ben.id]}]
    data = ScheduleIn(name="Primary", time_zone="Europe/Paris", layers=layers)  # type: ignore[arg-type]
    rota = await local.schedules.create(admin, data)
    cover = OverrideIn(user_id=ann.id, start=START, end=START + timedelta(hours=4))
    await local.schedules.add_override(admin, rota.id, cover)
    levels = [{"targets": [{"type": "schedule", "id": rota.id}, {"type": "user", "id": ann.id}]}]
    policy = await local.policies.create(admin, PolicyIn(name="Checkout", levels=levels))  # type: ignore[arg-type]
    await local.catalog.create(admin, ServiceIn(name="shop", escalation_policy_id=policy.id))
    return {"ann": ann.id, "ben": ben.id, "schedule": rota.id, "policy": policy.id}


@pytest.fixture(scope="module")
def clients(stack: Stack) -> tuple[OncallClient, SchedulesClient, PoliciesClient]:
    channel = stack.channel
    return OncallClient(channel), SchedulesClient(channel), PoliciesClient(channel)


async def test_who_is_on_call_now(stack: Stack, seeded: dict[str, Any], clients: Any) -> None:
    oncall = clients[0]
    for who in (stack.viewer, stack.admin):
        same(await oncall.now(who), await stack.local.oncall.now(who))
        rows = await oncall.services_on_call(who)
        same(rows, await stack.local.oncall.services_on_call(who))
    assert rows[0].policy_id == seeded["policy"] and rows[0].user_ids


async def test_schedule_reads(stack: Stack, seeded: dict[str, Any], clients: Any) -> None:
    schedules, local = clients[1], stack.local.schedules
    rota = seeded["schedule"]
    # Viewers get no feed URL; responders do: the same answer either way.
    for who in (stack.viewer, stack.responder):
        same(await schedules.list(who), await local.list(who))
        same(await schedules.get(who, rota), await local.get(who, rota))
        same(await schedules.now_per_schedule(who), await local.now_per_schedule(who))
    got = await schedules.get(stack.viewer, rota)
    assert got.ical_url is None and got.layers[0].turn == "weekly"
    # A wall-clock handoff was stored in the schedule's zone, offset and all.
    assert got.layers[1].turn == 36.0
    assert got.layers[1].handoff.isoformat() == "2026-02-01T20:00:00+01:00"
    at = START + timedelta(hours=1)
    same(
        await schedules.oncall_at(stack.viewer, rota, at),
        await local.oncall_at(stack.viewer, rota, at),
    )
    start, end = START - timedelta(days=7), START + timedelta(days=7)
    listing = await schedules.shifts(stack.viewer, rota, start, end)
    same(listing, await local.shifts(stack.viewer, rota, start, end))
    assert {s.source for s in listing.shifts} == {"weekdays", "nights", "override"}
    people = [seeded["ann"], seeded["ben"], "nobody"]
    same(await schedules.names(people), await local.names(people))


async def test_calendar_feeds(stack: Stack, seeded: dict[str, Any], clients: Any) -> None:
    schedules, local = clients[1], stack.local.schedules
    url = (await local.get(stack.admin, seeded["schedule"])).ical_url
    assert url is not None
    token = url.rsplit("/", 1)[-1].removesuffix(".ics")
    feed = await schedules.schedule_feed(token)
    same(feed, await local.schedule_feed(token))
    assert feed is not None and feed.startswith(b"BEGIN:VCALENDAR")
    assert await schedules.schedule_feed("not-a-token") is None
    same(
        await schedules.user_feed(seeded["ben"], "Ben"), await local.user_feed(seeded["ben"], "Ben")
    )


async def test_schedule_writes(stack: Stack, seeded: dict[str, Any], clients: Any) -> None:
    schedules, local, admin = clients[1], stack.local.schedules, stack.admin
    layer = {**LAYERS[0], "users": [seeded["ann"]]}
    data = ScheduleIn(name="Secondary", description="backup", layers=[layer])  # type: ignore[list-item]
    created = await schedules.create(admin, data)
    same(created, await local.get(admin, created.id))
    # A patch clears what it sets to null and leaves what it does not name.
    patch = SchedulePatch(description=None, time_zone="America/New_York")
    updated = await schedules.update(admin, created.id, patch)
    same(updated, await local.get(admin, created.id))
    assert (updated.description, updated.name, updated.layers) == (
        None,
        "Secondary",
        created.layers,
    )
    cover = OverrideIn(
        user_id=seeded["ben"], start="2026-03-02T09:00:00", end="2026-03-02T17:00:00"
    )  # type: ignore[arg-type]
    override = await schedules.add_override(stack.responder, created.id, cover)
    listed = (await local.get(admin, created.id)).overrides
    same([override], listed)
    # Wall-clock times were read in the schedule's zone, as the in-process call reads them.
    assert override.start.isoformat() == "2026-03-02T14:00:00+00:00"
    await schedules.delete_override(stack.responder, created.id, override.id)
    assert (await local.get(admin, created.id)).overrides == []
    rotated = await schedules.rotate_ical_token(admin, created.id)
    same(rotated, await local.get(admin, created.id))
    assert rotated.ical_url != created.ical_url
    await schedules.delete(admin, created.id)
    with pytest.raises(NotFound):
        await local.get(admin, created.id)


async def test_day_names_travel_as_numbers(
    stack: Stack, seeded: dict[str, Any], clients: Any
) -> None:
    """The contract carries a restriction's days as 0 (Monday) to 6, whatever form the
    schedule was written with; everything else of the schedule is as the service says."""
    schedules, local, admin = clients[1], stack.local.schedules, stack.admin
    window = {"start": "09:00", "end": "17:00", "start_day": "mon", "end_day": "Friday"}
    layer = {**LAYERS[0], "users": [seeded["ann"]], "restrictions": [window]}
    named = await local.create(admin, ScheduleIn(name="Named days", layers=[layer]))  # type: ignore[list-item]
    got = await schedules.get(admin, named.id)
    assert (got.layers[0].restrictions[0].start_day, got.layers[0].restrictions[0].end_day) == (
        0,
        4,
    )
    restrictions = [RestrictionIn(start="09:00", end="17:00", start_day=0, end_day=4)]
    numbered = named.layers[0].model_copy(update={"restrictions": restrictions})
    assert got == named.model_copy(update={"layers": [numbered]})
    # Sent by the client, names arrive as numbers too.
    sent = await schedules.create(admin, ScheduleIn(name="Sent named", layers=[layer]))  # type: ignore[list-item]
    assert sent.layers[0].restrictions == got.layers[0].restrictions


async def test_policies(stack: Stack, seeded: dict[str, Any], clients: Any) -> None:
    policies, local, admin = clients[2], stack.local.policies, stack.admin
    same(await policies.list(stack.viewer), await local.list(stack.viewer))
    same(
        await policies.get(stack.viewer, seeded["policy"]),
        await local.get(stack.viewer, seeded["policy"]),
    )
    levels = [
        {"targets": [{"type": "user", "id": seeded["ben"]}], "delay_seconds": 60},
        {"targets": [{"type": "schedule", "id": seeded["schedule"]}]},
    ]
    created = await policies.create(
        admin, PolicyIn(name="Night", description="n", repeat=2, levels=levels)
    )  # type: ignore[arg-type]
    same(created, await local.get(admin, created.id))
    assert created.levels[1].delay_seconds == stack.rt.settings.escalation_timeout_seconds
    updated = await policies.update(admin, created.id, PolicyPatch(description=None, repeat=0))
    same(updated, await local.get(admin, created.id))
    assert (updated.description, updated.repeat, updated.levels) == (None, 0, created.levels)
    await policies.delete(admin, created.id)
    with pytest.raises(NotFound):
        await local.get(admin, created.id)


async def test_errors_are_the_in_process_ones(
    stack: Stack, seeded: dict[str, Any], clients: Any
) -> None:
    oncall, schedules, policies = clients
    local, admin, viewer = stack.local, stack.admin, stack.viewer
    rota, at = seeded["schedule"], START
    # Unknown ids.
    await same_error(schedules.get(viewer, "nope"), local.schedules.get(viewer, "nope"))
    await same_error(
        schedules.oncall_at(viewer, "nope", at), local.schedules.oncall_at(viewer, "nope", at)
    )
    await same_error(
        schedules.delete_override(admin, rota, "nope"),
        local.schedules.delete_override(admin, rota, "nope"),
    )
    await same_error(policies.delete(admin, "nope"), local.policies.delete(admin, "nope"))
    # A viewer doing an admin's or a responder's work.
    patch = SchedulePatch(name="mine")
    err = await same_error(
        schedules.update(viewer, rota, patch), local.schedules.update(viewer, rota, patch)
    )
    assert isinstance(err, Forbidden)
    cover = OverrideIn(user_id=seeded["ann"], start=at, end=at + timedelta(hours=1))
    await same_error(
        schedules.add_override(viewer, rota, cover),
        local.schedules.add_override(viewer, rota, cover),
    )
    await same_error(
        policies.delete(viewer, seeded["policy"]), local.policies.delete(viewer, seeded["policy"])
    )
    # Input only the service can refuse, naming the field.
    err = await same_error(
        schedules.shifts(viewer, rota, at, at), local.schedules.shifts(viewer, rota, at, at)
    )
    assert isinstance(err, InvalidInput) and err.field == "end"
    layer = {**LAYERS[0], "users": ["ghost"]}
    data = ScheduleIn(name="Ghostly", layers=[layer])  # type: ignore[list-item]
    err = await same_error(schedules.create(admin, data), local.schedules.create(admin, data))
    assert err.field == "layers.users"
    # In use: the policy pages the schedule, a service follows the policy.
    await same_error(schedules.delete(admin, rota), local.schedules.delete(admin, rota))
    await same_error(
        policies.delete(admin, seeded["policy"]), local.policies.delete(admin, seeded["policy"])
    )
    assert oncall is not None


async def test_a_message_no_model_accepts_is_invalid_input(stack: Stack) -> None:
    """What the client's models would refuse, sent by another client, is refused by
    the server, naming the field as the HTTP API does."""
    stub = pb_grpc.OnCallServiceStub(stack.channel)
    bad = [
        (pb.CreateScheduleRequest(schedule=pb.ScheduleIn(name="")), "name"),
        (
            pb.CreateScheduleRequest(schedule=pb.ScheduleIn(name="x", time_zone="Mars/Base")),
            "time_zone",
        ),
        (
            pb.CreateScheduleRequest(
                schedule=pb.ScheduleIn(
                    name="x",
                    layers=[pb.Layer(name="l", users=["u"], named_turn="daily", handoff="soon")],
                )
            ),
            "layers.0.handoff",
        ),
        (
            pb.UpdateScheduleRequest(
                schedule_id="s", patch=pb.SchedulePatch(update_mask={"paths": ["colour"]})
            ),
            "colour",
        ),
        (pb.WhoIsOnCallAtRequest(schedule_id="s"), "at"),
        (pb.CreateEscalationPolicyRequest(policy=pb.EscalationPolicyIn(name="p")), "levels"),
    ]
    with acting_as(stack.admin):
        for request, field in bad:
            method = {
                pb.CreateScheduleRequest: stub.CreateSchedule,
                pb.UpdateScheduleRequest: stub.UpdateSchedule,
                pb.WhoIsOnCallAtRequest: stub.WhoIsOnCallAt,
                pb.CreateEscalationPolicyRequest: stub.CreateEscalationPolicy,
            }[type(request)]
            with pytest.raises(InvalidInput) as refused:
                await method(request)
            assert refused.value.field == field, refused.value.message


@pytest.fixture
async def on_each_backend(rt: Runtime) -> AsyncIterator[SchedulesClient]:
    async with serving(rt) as channel:
        yield SchedulesClient(channel)


async def test_a_schedule_round_trip_on_each_backend(
    rt: Runtime, on_each_backend: SchedulesClient
) -> None:
    """Times, zones and layers come back from SQLite and PostgreSQL alike."""
    from oncallnova.core.authz import SYSTEM

    user = await rt.use_cases.users.create_user(SYSTEM, UserIn(name="Cy", email="cy@example.com"))
    layers = [{**layer, "users": [user.id]} for layer in LAYERS]
    data = ScheduleIn(name="Both", time_zone="Asia/Kolkata", layers=layers)  # type: ignore[arg-type]
    created = await on_each_backend.create(SYSTEM, data)
    same(created, await rt.use_cases.schedules.get(SYSTEM, created.id))
    same(await on_each_backend.list(SYSTEM), await rt.use_cases.schedules.list(SYSTEM))
