"""`CatalogService` over a real gRPC connection: the client answers what the
in-process catalogue answers, keys hidden from whom may not see them, and fails alike."""

from __future__ import annotations

import pytest

from oncallnova.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from oncallnova.services.schemas import IntegrationKeyIn, ServiceIn, ServicePatch
from oncallnova.transport.grpc.clients.catalog import CatalogClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import catalog_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import catalog_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import acting_as
from oncallnova.users.schemas import TeamIn
from tests.grpc.conftest import Stack, same, same_error


@pytest.fixture(scope="module")
def catalog(stack: Stack) -> CatalogClient:
    return CatalogClient(stack.channel)


async def test_every_method_answers_as_in_process(stack: Stack, catalog: CatalogClient) -> None:
    local, admin = stack.local.catalog, stack.admin
    team = await stack.local.users.create_team(admin, TeamIn(name="Payments"))
    data = ServiceIn(
        name="checkout",
        description="the shop",
        correlation_key=["service", "labels.region"],
        correlation_window_seconds=120,
        team_id=team.id,
    )
    service, key = await catalog.create(admin, data)
    same(service, await local.get(admin, service.id))
    assert key.key and service.integration_keys == [key]
    plain, _ = await catalog.create(admin, ServiceIn(name="plain"))
    assert plain.correlation_key == ["service", "severity"]
    # Keys are shown to admins only here (the responder is not in the team).
    for who in (stack.viewer, stack.responder, admin):
        same(await catalog.list(who), await local.list(who))
        same(await catalog.get(who, service.id), await local.get(who, service.id))
    assert (await catalog.get(stack.viewer, service.id)).integration_keys[0].key is None
    # A patch clears what it sets to null, and leaves the rest.
    updated = await catalog.update(admin, service.id, ServicePatch(team_id=None, name="cart"))
    same(updated, await local.get(admin, service.id))
    assert (updated.team_id, updated.correlation_window_seconds) == (None, 120)
    second = await catalog.add_key(admin, service.id, IntegrationKeyIn(name="alertmanager"))
    assert second.name == "alertmanager" and second.revoked_at is None
    revoked = await catalog.revoke_key(admin, service.id, second.id)
    same([key, revoked], (await local.get(admin, service.id)).integration_keys)
    assert revoked.revoked_at == stack.clock.now()
    await catalog.delete(admin, plain.id)
    with pytest.raises(NotFound):
        await local.get(admin, plain.id)


async def test_errors_are_the_in_process_ones(stack: Stack, catalog: CatalogClient) -> None:
    local, admin, viewer = stack.local.catalog, stack.admin, stack.viewer
    service, _ = await local.create(admin, ServiceIn(name="errors"))
    err = await same_error(catalog.get(viewer, "nope"), local.get(viewer, "nope"))
    assert isinstance(err, NotFound)
    await same_error(
        catalog.revoke_key(admin, service.id, "nope"), local.revoke_key(admin, service.id, "nope")
    )
    err = await same_error(
        catalog.create(viewer, ServiceIn(name="x")), local.create(viewer, ServiceIn(name="x"))
    )
    assert isinstance(err, Forbidden)
    new_key = IntegrationKeyIn()
    await same_error(
        catalog.add_key(viewer, service.id, new_key), local.add_key(viewer, service.id, new_key)
    )
    taken = ServiceIn(name="errors")
    err = await same_error(catalog.create(admin, taken), local.create(admin, taken))
    assert isinstance(err, Conflict) and err.field == "name"
    unknown = ServicePatch(escalation_policy_id="no-such-policy")
    err = await same_error(
        catalog.update(admin, service.id, unknown), local.update(admin, service.id, unknown)
    )
    assert isinstance(err, InvalidInput) and err.field == "escalation_policy_id"


async def test_a_message_no_model_accepts_is_invalid_input(stack: Stack) -> None:
    stub = pb_grpc.CatalogServiceStub(stack.channel)
    with acting_as(stack.admin):
        for service, field in [
            (pb.ServiceIn(name=" "), "name"),
            (pb.ServiceIn(name="x", correlation_key=["colour"]), "correlation_key"),
            (pb.ServiceIn(name="x", correlation_window_seconds=-1), "correlation_window_seconds"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                await stub.CreateService(pb.CreateServiceRequest(service=service))
            assert refused.value.field == field, refused.value.message
