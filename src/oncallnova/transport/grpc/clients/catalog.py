"""`CatalogService` over `oncallnova.v1.CatalogService`."""

from __future__ import annotations

import grpc
from pydantic import BaseModel

from oncallnova.core.authz import Principal
from oncallnova.services.schemas import (
    IntegrationKeyIn,
    IntegrationKeyOut,
    ServiceIn,
    ServiceOut,
    ServicePatch,
)
from oncallnova.transport.grpc.clients.calls import read, send, write
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import catalog_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import catalog_pb2_grpc as pb_grpc


class _Created(BaseModel):
    """CreateService's reply."""

    service: ServiceOut
    key: IntegrationKeyOut


class CatalogClient:
    """Implements `services.api.CatalogService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.CatalogServiceStub(channel)

    async def get(self, actor: Principal, service_id: str) -> ServiceOut:
        request = pb.GetServiceRequest(service_id=service_id)
        return await read(actor, self._stub.GetService, request, ServiceOut)

    async def create(
        self, actor: Principal, data: ServiceIn
    ) -> tuple[ServiceOut, IntegrationKeyOut]:
        request = pb.CreateServiceRequest(service=to_message(data, pb.ServiceIn))
        created: _Created = await write(actor, self._stub.CreateService, request, _Created)
        return created.service, created.key

    async def update(self, actor: Principal, service_id: str, data: ServicePatch) -> ServiceOut:
        patch = to_message(data, pb.ServicePatch)
        request = pb.UpdateServiceRequest(service_id=service_id, patch=patch)
        return await write(actor, self._stub.UpdateService, request, ServiceOut)

    async def delete(self, actor: Principal, service_id: str) -> None:
        await send(actor, self._stub.DeleteService, pb.DeleteServiceRequest(service_id=service_id))

    async def add_key(
        self, actor: Principal, service_id: str, data: IntegrationKeyIn
    ) -> IntegrationKeyOut:
        key = to_message(data, pb.IntegrationKeyIn)
        request = pb.AddIntegrationKeyRequest(service_id=service_id, key=key)
        return await write(actor, self._stub.AddIntegrationKey, request, IntegrationKeyOut)

    async def revoke_key(self, actor: Principal, service_id: str, key_id: str) -> IntegrationKeyOut:
        request = pb.RevokeIntegrationKeyRequest(service_id=service_id, key_id=key_id)
        return await write(actor, self._stub.RevokeIntegrationKey, request, IntegrationKeyOut)

    async def list(self, actor: Principal) -> list[ServiceOut]:
        request = pb.ListServicesRequest()
        return await read(actor, self._stub.ListServices, request, list[ServiceOut], "items")
