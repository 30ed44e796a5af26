"""`SilenceService` and `MaintenanceService` over a real gRPC connection: the clients
answer what the in-process silences and maintenance windows answer, trails included, and
fail alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from oncallnova.services.schemas import ServiceIn
from oncallnova.suppression.schemas import (
    MatcherIn,
    SilenceIn,
    SilencePatch,
    WindowIn,
    WindowPatch,
)
from oncallnova.transport.grpc.clients.suppression import MaintenanceClient, SilencesClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import suppression_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import suppression_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import acting_as
from tests.grpc.conftest import Stack, new_service, same, same_error

CANARY = [MatcherIn(name="env", op="=~", value="dev|test")]


@pytest.fixture(scope="module")
def silences(stack: Stack) -> SilencesClient:
    return SilencesClient(stack.channel)


@pytest.fixture(scope="module")
def windows(stack: Stack) -> MaintenanceClient:
    return MaintenanceClient(stack.channel)


async def test_silences_answer_as_in_process(stack: Stack, silences: SilencesClient) -> None:
    local, me, viewer = stack.local.silences, stack.responder, stack.viewer
    now = stack.clock.now()
    service_id = await new_service(stack, "silenced")
    active = await silences.create(
        me, SilenceIn(matchers=CANARY, ends_at=now + timedelta(hours=1), comment="noisy canary")
    )
    assert (active.status, active.starts_at, active.service_id) == ("active", now, None)
    assert [h.action for h in active.history] == ["created"]
    later = SilenceIn(
        matchers=[MatcherIn(name="job", value="etl"), MatcherIn(name="host", op="!=", value="")],
        starts_at=now + timedelta(hours=2),
        ends_at=now + timedelta(hours=3),
        service_id=service_id,
        comment="the nightly load",
    )
    pending = await silences.create(me, later)
    assert (pending.status, pending.service_name) == ("pending", "silenced")
    for who in (viewer, me):
        same(await silences.list(who), await local.list(who))
        same(await silences.get(who, pending.id), await local.get(who, pending.id))
    chosen = await silences.list(viewer, status=["pending"])
    same(chosen, await local.list(viewer, status=["pending"]))
    assert [s.id for s in chosen] == [pending.id]
    mine = await silences.list(viewer, service_id=service_id, status=[])
    same(mine, await local.list(viewer, service_id=service_id, status=[]))
    assert [s.id for s in mine] == [pending.id]
    # A patch says why; the trail names the fields it changed.
    clearer = await silences.update(
        me, active.id, SilencePatch(comment="canary deploys", reason="clearer")
    )
    same(clearer, await local.get(me, active.id))
    assert (clearer.history[-1].action, clearer.history[-1].reason) == ("updated", "clearer")
    assert clearer.history[-1].changes == ["comment"]
    # A service set to null: every service; what the patch leaves out stays.
    everywhere = await silences.update(me, pending.id, SilencePatch(service_id=None))
    same(everywhere, await local.get(me, pending.id))
    assert (everywhere.service_id, everywhere.comment) == (None, "the nightly load")
    # A pending silence ended is removed; an active one expires and is kept.
    await silences.end(me, pending.id, "not needed")
    with pytest.raises(NotFound):
        await local.get(viewer, pending.id)
    await silences.end(me, active.id, reason="canary fixed")
    ended = await local.get(viewer, active.id)
    assert (ended.status, ended.ends_at) == ("expired", now)
    assert (ended.history[-1].action, ended.history[-1].reason) == ("ended", "canary fixed")


async def test_a_draft_is_filled_in_from_the_incident(
    stack: Stack, silences: SilencesClient
) -> None:
    _, key = await stack.local.catalog.create(stack.admin, ServiceIn(name="drafted"))
    assert key.key is not None
    route = await stack.rt.ingestion.authenticate(key.key)
    alert = NormalizedAlert(
        title="Disk full", severity="high", labels={"env": "prod", "host": "db1"}
    )
    incident_id = (await stack.rt.ingestion.ingest(route, [alert], "native"))[0].incident_id
    assert incident_id is not None
    draft = await silences.draft(stack.viewer, incident_id)
    same(draft, await stack.local.silences.draft(stack.viewer, incident_id))
    assert [(m.name, m.op, m.value) for m in draft.matchers] == [
        ("env", "=", "prod"),
        ("host", "=", "db1"),
    ]
    assert (draft.service_id, draft.comment, draft.incident_id) == (
        route.service_id,
        "",
        incident_id,
    )


async def test_silence_errors_are_the_in_process_ones(
    stack: Stack, silences: SilencesClient
) -> None:
    local, me, viewer = stack.local.silences, stack.responder, stack.viewer
    now = stack.clock.now()
    data = SilenceIn(matchers=CANARY, ends_at=now + timedelta(hours=1), comment="why")
    err = await same_error(silences.create(viewer, data), local.create(viewer, data))
    assert isinstance(err, Forbidden)
    nowhere = data.model_copy(update={"service_id": "no-such-service"})
    err = await same_error(silences.create(me, nowhere), local.create(me, nowhere))
    assert isinstance(err, InvalidInput) and err.field == "service_id"
    past = SilenceIn(
        matchers=CANARY,
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
        comment="too late",
    )
    err = await same_error(silences.create(me, past), local.create(me, past))
    assert isinstance(err, InvalidInput) and err.field == "ends_at"
    for remote, here in [
        (silences.get(viewer, "nope"), local.get(viewer, "nope")),
        (
            silences.update(me, "nope", SilencePatch(comment="x")),
            local.update(me, "nope", SilencePatch(comment="x")),
        ),
        (silences.end(me, "nope"), local.end(me, "nope")),
        (silences.draft(viewer, "nope"), local.draft(viewer, "nope")),
    ]:
        assert isinstance(await same_error(remote, here), NotFound)
    made = await local.create(me, data)
    err = await same_error(
        silences.update(viewer, made.id, SilencePatch(comment="x")),
        local.update(viewer, made.id, SilencePatch(comment="x")),
    )
    assert isinstance(err, Forbidden)
    await same_error(silences.end(viewer, made.id), local.end(viewer, made.id))
    await local.end(me, made.id)
    err = await same_error(
        silences.update(me, made.id, SilencePatch(comment="x")),
        local.update(me, made.id, SilencePatch(comment="x")),
    )
    assert isinstance(err, Conflict)
    # A status the contract has no word for is refused by name before the call.
    with pytest.raises(InvalidInput) as refused:
        await silences.list(viewer, status=["sleeping"])
    assert refused.value.field == "status"


async def test_a_silence_no_model_accepts_is_invalid_input(stack: Stack) -> None:
    """What a client in another language may send that the HTTP API would refuse is
    refused alike, naming the field; an unset op is "=", an unset start now."""
    stub = pb_grpc.SilenceServiceStub(stack.channel)
    now = stack.clock.now()

    def silence(*matchers: pb.Matcher) -> pb.CreateSilenceRequest:
        made = pb.SilenceIn(matchers=matchers, comment="why")
        made.ends_at.FromDatetime(now + timedelta(hours=1))
        return pb.CreateSilenceRequest(silence=made)

    with acting_as(stack.responder):
        for request, field in [
            (silence(), "matchers"),
            (silence(pb.Matcher(name="env", op="~", value="x")), "matchers.0.op"),
            (silence(pb.Matcher(name="env", op="=~", value="(")), "matchers.0.value"),
            (silence(pb.Matcher(name="env", op="=~", value=".*")), "matchers"),
            (pb.CreateSilenceRequest(silence=pb.SilenceIn(comment="why")), "matchers"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                await stub.CreateSilence(request)
            assert refused.value.field == field, refused.value.message
        no_comment = silence(pb.Matcher(name="env", value="dev"))
        no_comment.silence.comment = ""
        with pytest.raises(InvalidInput) as refused:
            await stub.CreateSilence(no_comment)
        assert refused.value.field == "comment"
        made = await stub.CreateSilence(silence(pb.Matcher(name="env", value="dev")))
    assert (made.matchers[0].op, made.status) == ("=", pb.SILENCE_STATUS_ACTIVE)
    assert made.starts_at.ToDatetime() == now.replace(tzinfo=None)


async def test_windows_answer_as_in_process(stack: Stack, windows: MaintenanceClient) -> None:
    local, me, viewer = stack.local.maintenance, stack.responder, stack.viewer
    now = stack.clock.now()
    db, web = await new_service(stack, "db"), await new_service(stack, "web")
    running = await windows.create(
        me,
        WindowIn(service_ids=[web, db], ends_at=now + timedelta(hours=1), description="upgrade"),
    )
    assert (running.status, running.recurrence, running.time_zone) == ("active", None, "UTC")
    assert running.service_ids == sorted([web, db])
    weekly = await windows.create(
        me,
        WindowIn(
            service_ids=[db],
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=1, hours=2),
            description="vacuum",
            recurrence="weekly",
            time_zone="Europe/Paris",
        ),
    )
    assert (weekly.status, weekly.recurrence, weekly.service_names) == (
        "scheduled",
        "weekly",
        ["db"],
    )
    for who in (viewer, me):
        same(await windows.list(who), await local.list(who))
        same(await windows.get(who, weekly.id), await local.get(who, weekly.id))
    chosen = await windows.list(viewer, service_id=db, status=["scheduled"])
    same(chosen, await local.list(viewer, service_id=db, status=["scheduled"]))
    assert [w.id for w in chosen] == [weekly.id]
    # A recurrence set to null: once only; a description set to null stays.
    once = await windows.update(
        me, weekly.id, WindowPatch(recurrence=None, description=None, reason="one-off")
    )
    same(once, await local.get(me, weekly.id))
    assert (once.recurrence, once.description) == (None, "vacuum")
    assert (once.history[-1].reason, once.history[-1].changes) == (
        "one-off",
        ["description", "recurrence"],
    )
    moved = await windows.update(me, weekly.id, WindowPatch(service_ids=[web]))
    same(moved, await local.get(me, weekly.id))
    assert (moved.service_ids, moved.service_names) == ([web], ["web"])
    await windows.end(me, weekly.id, "not needed")
    with pytest.raises(NotFound):
        await local.get(viewer, weekly.id)
    await windows.end(me, running.id)
    ended = await local.get(viewer, running.id)
    assert (ended.status, ended.ends_at, ended.history[-1].action) == ("ended", now, "ended")


async def test_window_errors_are_the_in_process_ones(
    stack: Stack, windows: MaintenanceClient
) -> None:
    local, me, viewer = stack.local.maintenance, stack.responder, stack.viewer
    now = stack.clock.now()
    service_id = await new_service(stack, "window-errors")
    data = WindowIn(service_ids=[service_id], ends_at=now + timedelta(hours=1), description="x")
    err = await same_error(windows.create(viewer, data), local.create(viewer, data))
    assert isinstance(err, Forbidden)
    nowhere = data.model_copy(update={"service_ids": [service_id, "no-such-service"]})
    err = await same_error(windows.create(me, nowhere), local.create(me, nowhere))
    assert isinstance(err, InvalidInput) and err.field == "service_ids"
    long = data.model_copy(update={"ends_at": now + timedelta(days=2), "recurrence": "daily"})
    err = await same_error(windows.create(me, long), local.create(me, long))
    assert isinstance(err, InvalidInput) and err.field == "ends_at"
    for remote, here in [
        (windows.get(viewer, "nope"), local.get(viewer, "nope")),
        (
            windows.update(me, "nope", WindowPatch(description="y")),
            local.update(me, "nope", WindowPatch(description="y")),
        ),
        (windows.end(me, "nope", "why"), local.end(me, "nope", "why")),
    ]:
        assert isinstance(await same_error(remote, here), NotFound)
    made = await local.create(me, data)
    await same_error(windows.end(viewer, made.id), local.end(viewer, made.id))
    await local.end(me, made.id)
    err = await same_error(
        windows.update(me, made.id, WindowPatch(description="y")),
        local.update(me, made.id, WindowPatch(description="y")),
    )
    assert isinstance(err, Conflict)
    with pytest.raises(InvalidInput) as refused:
        await windows.list(viewer, status=["paused"])
    assert refused.value.field == "status"


async def test_a_window_no_model_accepts_is_invalid_input(stack: Stack) -> None:
    stub = pb_grpc.MaintenanceServiceStub(stack.channel)
    now = stack.clock.now()
    service_id = await new_service(stack, "window-wire")

    def window(**fields: object) -> pb.CreateMaintenanceWindowRequest:
        made = pb.MaintenanceWindowIn(**{"description": "why", **fields})  # type: ignore[arg-type]
        made.ends_at.FromDatetime(now + timedelta(hours=1))
        return pb.CreateMaintenanceWindowRequest(window=made)

    with acting_as(stack.responder):
        for request, field in [
            (window(), "service_ids"),
            (window(service_ids=[service_id], time_zone="Mars/Olympus"), "time_zone"),
            (window(service_ids=[service_id], description=""), "description"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                await stub.CreateMaintenanceWindow(request)
            assert refused.value.field == field, refused.value.message
        made = await stub.CreateMaintenanceWindow(window(service_ids=[service_id]))
    assert (made.time_zone, made.recurrence, made.status) == (
        "UTC",
        pb.RECURRENCE_UNSPECIFIED,
        pb.MAINTENANCE_WINDOW_STATUS_ACTIVE,
    )
