"""`HeartbeatService` over a real gRPC connection: the heartbeats client answers what the
in-process monitors and beats answer (the beat URL shown to whom may use it), and fails
alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from oncallnova.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from oncallnova.heartbeats.schemas import MonitorIn, MonitorPatch
from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.transport.grpc.clients.heartbeats import HeartbeatsClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import common_pb2
from oncallnova.transport.grpc.gen.oncallnova.v1 import heartbeats_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import heartbeats_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import acting_as
from tests.grpc.conftest import Stack, new_service, same, same_error


@pytest.fixture(scope="module")
def heartbeats(stack: Stack) -> HeartbeatsClient:
    return HeartbeatsClient(stack.channel)


async def test_monitors_answer_as_in_process(stack: Stack, heartbeats: HeartbeatsClient) -> None:
    local, admin = stack.local.heartbeats, stack.admin
    service_id = await new_service(stack, "backups")
    other_id = await new_service(stack, "reports")
    data = MonitorIn(service_id=service_id, name="nightly", interval_seconds=3600)
    made = await heartbeats.create(admin, data)
    assert (made.state, made.severity, made.last_beat_at) == ("inactive", "critical", None)
    assert made.token and made.url and made.url.endswith(f"/api/v1/heartbeats/{made.token}")
    same(made, await local.get(admin, made.id))
    low = MonitorIn(service_id=other_id, name="weekly", interval_seconds=7 * 86400, severity="low")
    weekly = await heartbeats.create(admin, low)
    # The URL is a secret: shown to admins, not to viewers (nor to responders outside the
    # service's team).
    for who in (stack.viewer, stack.responder, admin):
        same(await heartbeats.list(who), await local.list(who))
        same(await heartbeats.get(who, made.id), await local.get(who, made.id))
    assert (await heartbeats.get(stack.viewer, made.id)).token is None
    assert (await heartbeats.get(stack.viewer, made.id)).url is None
    only = await heartbeats.list(admin, other_id)
    same(only, await local.list(admin, other_id))
    assert [m.id for m in only] == [weekly.id]
    # What the patch leaves out, or sets to null, stays.
    renamed = await heartbeats.update(admin, made.id, MonitorPatch(name="nightly-backup"))
    same(renamed, await local.get(admin, made.id))
    kept = await heartbeats.update(admin, made.id, MonitorPatch(name=None, severity="high"))
    assert (kept.name, kept.severity, kept.interval_seconds) == ("nightly-backup", "high", 3600)
    await heartbeats.delete(admin, weekly.id)
    with pytest.raises(NotFound):
        await local.get(admin, weekly.id)
    same(await heartbeats.list(admin, other_id), [])


async def test_beats_activate_and_resolve_an_expiry(
    stack: Stack, heartbeats: HeartbeatsClient
) -> None:
    """A beat carries no user: the token is the credential, as on the beat URL."""
    local, admin = stack.local.heartbeats, stack.admin
    service_id = await new_service(stack, "cron")
    monitor = await local.create(
        admin, MonitorIn(service_id=service_id, name="hourly", interval_seconds=600)
    )
    assert monitor.token is not None
    first = await heartbeats.beat(monitor.token)
    assert (first.status, first.monitor, first.state, first.resolved) == (
        "ok",
        "hourly",
        "up",
        False,
    )
    assert first.expires_at == stack.clock.now() + timedelta(seconds=600)
    up = await local.get(admin, monitor.id)
    assert (up.state, up.last_beat_at, up.expires_at) == ("up", stack.clock.now(), first.expires_at)
    stack.clock.advance(601)
    assert await stack.rt.quiet.heartbeats.expire_due(stack.clock.now()) == 1
    expired = await heartbeats.get(admin, monitor.id)
    same(expired, await local.get(admin, monitor.id))
    assert (expired.state, expired.expired_at) == ("expired", stack.clock.now())
    flt = IncidentFilter(service_id=service_id)
    [opened] = (await stack.local.incidents.list(admin, flt)).items
    assert (opened.status, opened.title.startswith("Heartbeat 'hourly' expired")) == (
        "triggered",
        True,
    )
    back = await heartbeats.beat(monitor.token)
    assert (back.state, back.resolved) == ("up", True)
    [closed] = (await stack.local.incidents.list(admin, flt)).items
    assert closed.status == "resolved"
    # The same beat in process answers alike (nothing more to resolve).
    again_local = await stack.local.beats.beat(monitor.token)
    again_remote = await heartbeats.beat(monitor.token)
    same(again_remote, again_local)


async def test_errors_are_the_in_process_ones(stack: Stack, heartbeats: HeartbeatsClient) -> None:
    local, admin, viewer = stack.local.heartbeats, stack.admin, stack.viewer
    service_id = await new_service(stack, "errors")
    data = MonitorIn(service_id=service_id, name="job", interval_seconds=60)
    err = await same_error(heartbeats.create(viewer, data), local.create(viewer, data))
    assert isinstance(err, Forbidden)
    err = await same_error(
        heartbeats.create(stack.responder, data), local.create(stack.responder, data)
    )
    assert isinstance(err, Forbidden)
    made = await local.create(admin, data)
    err = await same_error(heartbeats.create(admin, data), local.create(admin, data))
    assert isinstance(err, Conflict) and err.field == "name"
    nowhere = MonitorIn(service_id="no-such-service", name="job", interval_seconds=60)
    err = await same_error(heartbeats.create(admin, nowhere), local.create(admin, nowhere))
    assert isinstance(err, InvalidInput) and err.field == "service_id"
    err = await same_error(heartbeats.get(viewer, "nope"), local.get(viewer, "nope"))
    assert isinstance(err, NotFound)
    patch = MonitorPatch(interval_seconds=120)
    await same_error(heartbeats.update(admin, "nope", patch), local.update(admin, "nope", patch))
    await same_error(
        heartbeats.update(viewer, made.id, patch), local.update(viewer, made.id, patch)
    )
    second = await local.create(
        admin, MonitorIn(service_id=service_id, name="two", interval_seconds=60)
    )
    taken = MonitorPatch(name="job")
    err = await same_error(
        heartbeats.update(admin, second.id, taken), local.update(admin, second.id, taken)
    )
    assert isinstance(err, Conflict) and err.field == "name"
    await same_error(heartbeats.delete(admin, "nope"), local.delete(admin, "nope"))
    await same_error(heartbeats.delete(viewer, made.id), local.delete(viewer, made.id))
    err = await same_error(
        heartbeats.beat("no-such-token"), stack.local.beats.beat("no-such-token")
    )
    assert isinstance(err, NotFound) and err.message == "unknown heartbeat token"


async def test_a_message_no_model_accepts_is_invalid_input(stack: Stack) -> None:
    """What a client in another language may send that the HTTP API would refuse is
    refused alike, naming the field; an unset severity is critical."""
    stub = pb_grpc.HeartbeatServiceStub(stack.channel)
    service_id = await new_service(stack, "wire")
    with acting_as(stack.admin):
        for monitor, field in [
            (
                pb.HeartbeatMonitorIn(service_id=service_id, name="x", interval_seconds=59),
                "interval_seconds",
            ),
            (pb.HeartbeatMonitorIn(service_id=service_id, name=" ", interval_seconds=60), "name"),
            (pb.HeartbeatMonitorIn(name="x", interval_seconds=60), "service_id"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                await stub.CreateHeartbeatMonitor(pb.CreateHeartbeatMonitorRequest(monitor=monitor))
            assert refused.value.field == field, refused.value.message
        plain = pb.HeartbeatMonitorIn(service_id=service_id, name="plain", interval_seconds=60)
        made = await stub.CreateHeartbeatMonitor(pb.CreateHeartbeatMonitorRequest(monitor=plain))
        assert (made.severity, made.state) == (
            common_pb2.SEVERITY_CRITICAL,
            pb.HEARTBEAT_STATE_INACTIVE,
        )
        too_long = pb.HeartbeatMonitorPatch(interval_seconds=31 * 86400)
        with pytest.raises(InvalidInput) as refused:
            await stub.UpdateHeartbeatMonitor(
                pb.UpdateHeartbeatMonitorRequest(monitor_id=made.id, patch=too_long)
            )
        assert refused.value.field == "interval_seconds"
