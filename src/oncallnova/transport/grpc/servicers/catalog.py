"""`oncallnova.v1.CatalogService` over the service catalogue's use cases."""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from oncallnova.services.api import CatalogService
from oncallnova.services.schemas import IntegrationKeyIn, ServiceIn, ServicePatch
from oncallnova.transport.grpc.convert import request_value, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import catalog_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import catalog_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal

Context = Any


class CatalogServicer(pb_grpc.CatalogServiceServicer):
    def __init__(self, catalog: CatalogService) -> None:
        self._catalog = catalog

    async def ListServices(
        self, request: pb.ListServicesRequest, context: Context
    ) -> pb.ListServicesResponse:
        items = await self._catalog.list(current_principal())
        return to_message({"items": items}, pb.ListServicesResponse)

    async def GetService(self, request: pb.GetServiceRequest, context: Context) -> pb.Service:
        return to_message(
            await self._catalog.get(current_principal(), request.service_id), pb.Service
        )

    async def CreateService(
        self, request: pb.CreateServiceRequest, context: Context
    ) -> pb.CreateServiceResponse:
        data = request_value(request.service, ServiceIn)
        service, key = await self._catalog.create(current_principal(), data)
        return to_message({"service": service, "key": key}, pb.CreateServiceResponse)

    async def UpdateService(self, request: pb.UpdateServiceRequest, context: Context) -> pb.Service:
        patch = request_value(request.patch, ServicePatch)
        done = await self._catalog.update(current_principal(), request.service_id, patch)
        return to_message(done, pb.Service)

    async def DeleteService(
        self, request: pb.DeleteServiceRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._catalog.delete(current_principal(), request.service_id)
        return empty_pb2.Empty()

    async def AddIntegrationKey(
        self, request: pb.AddIntegrationKeyRequest, context: Context
    ) -> pb.IntegrationKey:
        data = request_value(request.key, IntegrationKeyIn)
        done = await self._catalog.add_key(current_principal(), request.service_id, data)
        return to_message(done, pb.IntegrationKey)

    async def RevokeIntegrationKey(
        self, request: pb.RevokeIntegrationKeyRequest, context: Context
    ) -> pb.IntegrationKey:
        done = await self._catalog.revoke_key(
            current_principal(), request.service_id, request.key_id
        )
        return to_message(done, pb.IntegrationKey)
