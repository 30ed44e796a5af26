"""The gRPC transport's foundations against a real `grpc.aio` server on a loopback port:
the internal token, the acting user, domain errors both ways, deadlines, health and
reflection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from oncallnova.core.authz import Principal, Role
from oncallnova.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Overloaded,
    Unauthenticated,
    Unavailable,
)
from oncallnova.settings import Settings
from oncallnova.transport.grpc.channel import open_channel
from oncallnova.transport.grpc.gen.oncallnova.v1 import (
    incidents_pb2 as pb,
)
from oncallnova.transport.grpc.gen.oncallnova.v1 import (
    incidents_pb2_grpc as pb_grpc,
)
from oncallnova.transport.grpc.interceptors import acting_as, current_principal
from oncallnova.transport.grpc.server import GrpcServer, build_server

TOKEN = "internal-token-for-tests-0123456789"
ALICE = Principal(
    user_id="u-1",
    name="Alice Müller",
    email="alice@example.com",
    role=Role.responder,
    ip="10.0.0.7",
)
ERRORS: list[DomainError] = [
    NotFound("no incident #404", field="incident_id"),
    Conflict("the incident is resolved"),
    InvalidInput("must be 1 to 10000 characters", field="message"),
    Unauthenticated("the session has ended"),
    Forbidden("this needs the responder role; you are viewer"),
    Overloaded("ingestion queue is full; retry shortly", retry_after=7),
    DomainError("cannot escalate: the policy has no levels"),
]


class Incidents(pb_grpc.IncidentServiceServicer):
    """Just enough of the incidents service to exercise the transport."""

    def __init__(self) -> None:
        self.time_remaining: list[float | None] = []

    async def GetIncident(self, request: pb.GetIncidentRequest, context: Any) -> pb.IncidentDetail:
        self.time_remaining.append(context.time_remaining())
        if request.incident_id.startswith("raise:"):
            raise ERRORS[int(request.incident_id.removeprefix("raise:"))]
        if request.incident_id == "slow":
            await asyncio.sleep(2)
        if request.incident_id == "pause":
            await asyncio.sleep(0.1)
        if request.incident_id == "bug":
            raise RuntimeError("secret internals")
        who = current_principal()  # Unauthenticated when the call names no user
        return pb.IncidentDetail(
            incident=pb.Incident(
                id=request.incident_id, title=who.name, acknowledged_by=who.role.name
            )
        )

    async def WatchChanges(
        self, request: pb.WatchChangesRequest, context: Any
    ) -> AsyncIterator[pb.IncidentChange]:
        yield pb.IncidentChange(kind="incident.created", incident_id="i-1")
        yield pb.IncidentChange(kind="incident.acknowledged", incident_id="i-1")
        raise NotFound("the stream's subject was deleted", field="incident_id")


@pytest.fixture
async def served() -> AsyncIterator[tuple[GrpcServer, Incidents, str]]:
    servicer = Incidents()
    built = build_server([servicer], Settings(ONCALLNOVA_INTERNAL_TOKEN=TOKEN))
    port = await built.start("127.0.0.1:0")
    yield built, servicer, f"127.0.0.1:{port}"
    await built.stop(grace=None)


def _settings(token: str = TOKEN) -> Settings:
    return Settings(ONCALLNOVA_INTERNAL_TOKEN=token)


async def test_every_method_needs_the_internal_token(served: Any) -> None:
    _, _, address = served
    request = pb.GetIncidentRequest(incident_id="i-1")
    async with grpc.aio.insecure_channel(address) as bare:
        stub = pb_grpc.IncidentServiceStub(bare)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetIncident(request, timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert refused.value.details() == "missing or wrong internal token"
        wrong = (("authorization", "Bearer not-the-token-at-all-00000"),)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetIncident(request, metadata=wrong, timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Either header carries the token.
        for metadata in (
            (("authorization", f"Bearer {TOKEN}"),),
            (("x-oncallnova-internal-token", TOKEN),),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as passed:
                await stub.GetIncident(request, metadata=metadata, timeout=5)
            # Past the token check: it fails only for want of an acting user.
            assert passed.value.details() == "no acting user was sent with this call"
    # The client interceptor raises the server's refusal as the domain error.
    async with open_channel(address, _settings("a-different-token-0123456789")) as channel:
        with pytest.raises(Unauthenticated, match="missing or wrong internal token"):
            await pb_grpc.IncidentServiceStub(channel).GetIncident(request)


async def test_health_answers_serving_without_the_token(served: Any) -> None:
    built, _, address = served
    async with grpc.aio.insecure_channel(address) as bare:
        stub = health_pb2_grpc.HealthStub(bare)
        for service in ("", "oncallnova.v1.IncidentService"):
            answer = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.Check(health_pb2.HealthCheckRequest(service="nope.Service"), timeout=5)
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        await built.health.enter_graceful_shutdown()
        answer = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def _reflect(
    channel: grpc.aio.Channel, **ask: Any
) -> reflection_pb2.ServerReflectionResponse:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(**ask)]))
    (answer,) = [answer async for answer in call]
    return answer


async def test_reflection_lists_the_services_to_token_holders(served: Any) -> None:
    _, _, address = served
    async with open_channel(address, _settings()) as channel:
        listed = await _reflect(channel, list_services="")
        names = {s.name for s in listed.list_services_response.service}
        assert {"oncallnova.v1.IncidentService", "grpc.health.v1.Health"} <= names
        # The descriptors it serves are the public contract's, imports included.
        found = await _reflect(channel, file_containing_symbol="oncallnova.v1.IncidentService")
        assert found.file_descriptor_response.file_descriptor_proto
    async with grpc.aio.insecure_channel(address) as bare:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _reflect(bare, list_services="")
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("n", range(len(ERRORS)), ids=[type(e).__name__ for e in ERRORS])
async def test_a_domain_error_crosses_as_the_same_error(served: Any, n: int) -> None:
    _, _, address = served
    sent = ERRORS[n]
    async with open_channel(address, _settings()) as channel:
        with acting_as(ALICE), pytest.raises(DomainError) as raised:
            await pb_grpc.IncidentServiceStub(channel).GetIncident(
                pb.GetIncidentRequest(incident_id=f"raise:{n}")
            )
    assert type(raised.value) is type(sent)
    assert raised.value.message == sent.message
    assert raised.value.field == sent.field
    if isinstance(sent, Overloaded):
        assert isinstance(raised.value, Overloaded)
        assert raised.value.retry_after == 7


async def test_the_status_code_alone_says_the_kind(served: Any) -> None:
    """Clients in other languages see standard codes, not only our details."""
    _, _, address = served
    codes = {
        "NotFound": grpc.StatusCode.NOT_FOUND,
        "Conflict": grpc.StatusCode.FAILED_PRECONDITION,
        "InvalidInput": grpc.StatusCode.INVALID_ARGUMENT,
        "Unauthenticated": grpc.StatusCode.UNAUTHENTICATED,
        "Forbidden": grpc.StatusCode.PERMISSION_DENIED,
        "Overloaded": grpc.StatusCode.RESOURCE_EXHAUSTED,
    }
    metadata = (("authorization", f"Bearer {TOKEN}"),)
    async with grpc.aio.insecure_channel(address) as bare:
        stub = pb_grpc.IncidentServiceStub(bare)
        for n, error in enumerate(ERRORS[:-1]):
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await stub.GetIncident(
                    pb.GetIncidentRequest(incident_id=f"raise:{n}"), metadata=metadata, timeout=5
                )
            assert failed.value.code() == codes[type(error).__name__]
            assert failed.value.details() == error.message


async def test_the_acting_user_travels_with_the_call(served: Any) -> None:
    _, _, address = served
    async with open_channel(address, _settings()) as channel:
        stub = pb_grpc.IncidentServiceStub(channel)
        with acting_as(ALICE):
            detail = await stub.GetIncident(pb.GetIncidentRequest(incident_id="i-1"))
        assert detail.incident.title == "Alice Müller"
        assert detail.incident.acknowledged_by == "responder"
        with pytest.raises(Unauthenticated, match="no acting user"):
            await stub.GetIncident(pb.GetIncidentRequest(incident_id="i-1"))


async def test_concurrent_calls_each_see_their_own_user(served: Any) -> None:
    _, _, address = served
    bob = Principal(user_id="u-2", name="Bob", email="bob@example.com", role=Role.viewer)

    async def as_(who: Principal, stub: pb_grpc.IncidentServiceStub) -> str:
        with acting_as(who):
            answer = await stub.GetIncident(pb.GetIncidentRequest(incident_id="pause"))
        return answer.incident.title

    async with open_channel(address, _settings()) as channel:
        stub = pb_grpc.IncidentServiceStub(channel)
        names = await asyncio.gather(*(as_(w, stub) for w in (ALICE, bob, ALICE, bob)))
    assert names == ["Alice Müller", "Bob", "Alice Müller", "Bob"]


async def test_a_method_the_servicer_lacks_is_unimplemented(served: Any) -> None:
    _, _, address = served
    async with open_channel(address, _settings()) as channel:
        with acting_as(ALICE), pytest.raises(grpc.aio.AioRpcError) as failed:
            await pb_grpc.IncidentServiceStub(channel).AddNote(
                pb.AddNoteRequest(incident_id="i-1", message="hi")
            )
    assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_a_malformed_principal_is_refused(served: Any) -> None:
    _, _, address = served
    metadata = (("authorization", f"Bearer {TOKEN}"), ("x-oncallnova-principal", '{"user_id": 1'))
    async with grpc.aio.insecure_channel(address) as bare:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pb_grpc.IncidentServiceStub(bare).GetIncident(
                pb.GetIncidentRequest(incident_id="i-1"), metadata=metadata, timeout=5
            )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.details() == "malformed x-oncallnova-principal metadata"


async def test_every_client_call_has_a_deadline(served: Any) -> None:
    _, servicer, address = served
    request = pb.GetIncidentRequest(incident_id="i-1")
    async with open_channel(address, _settings()) as channel:
        stub = pb_grpc.IncidentServiceStub(channel)
        with acting_as(ALICE):
            await stub.GetIncident(request)
            await stub.GetIncident(request, timeout=1.5)  # a call's own deadline wins
    default, own = servicer.time_remaining
    # The server sees the deadline the client set (rounding aside).
    assert default is not None and 5 < default < 10.1
    assert own is not None and 0 < own < 1.6
    async with open_channel(address, _settings(), deadline_seconds=0.3) as channel:
        # A passed deadline is an outage to the caller (HTTP 503 with Retry-After), and
        # says that the request may have been applied.
        with acting_as(ALICE), pytest.raises(Unavailable, match="may not have been") as late:
            await pb_grpc.IncidentServiceStub(channel).GetIncident(
                pb.GetIncidentRequest(incident_id="slow")
            )
    assert late.value.retry_after == 1


async def test_a_stream_ends_with_the_domain_error_it_raised(served: Any) -> None:
    _, _, address = served
    seen = []
    async with open_channel(address, _settings()) as channel:
        stream = pb_grpc.IncidentServiceStub(channel).WatchChanges(pb.WatchChangesRequest())
        with acting_as(ALICE), pytest.raises(NotFound, match="subject was deleted") as raised:
            async for change in stream:
                seen.append(change.kind)
    assert seen == ["incident.created", "incident.acknowledged"]
    assert raised.value.field == "incident_id"


async def test_an_unexpected_error_is_internal_and_says_nothing_of_it(served: Any) -> None:
    _, _, address = served
    async with open_channel(address, _settings()) as channel:
        with acting_as(ALICE), pytest.raises(grpc.aio.AioRpcError) as failed:
            await pb_grpc.IncidentServiceStub(channel).GetIncident(
                pb.GetIncidentRequest(incident_id="bug")
            )
    assert failed.value.code() == grpc.StatusCode.INTERNAL
    assert failed.value.details() == "internal error; the request was not applied"


def test_a_server_without_the_internal_token_is_not_built() -> None:
    with pytest.raises(ValueError, match="ONCALLNOVA_INTERNAL_TOKEN"):
        build_server([Incidents()], Settings())
    with pytest.raises(TypeError, match="extends no generated"):
        build_server([object()], _settings())


def test_grpc_settings() -> None:
    settings = Settings()
    assert settings.incidents_grpc_addr == "127.0.0.1:50052"
    assert settings.oncall_grpc_addr == "127.0.0.1:50053"
    assert Settings(ONCALLNOVA_INTERNAL_TOKEN="  ").internal_token is None
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Settings(ONCALLNOVA_INTERNAL_TOKEN="short")
    with pytest.raises(ValueError, match="host:port"):
        Settings(INCIDENTS_GRPC_ADDR="incidents")
    assert Settings(ONCALL_GRPC_ADDR="[::1]:6000").oncall_grpc_addr == "[::1]:6000"
