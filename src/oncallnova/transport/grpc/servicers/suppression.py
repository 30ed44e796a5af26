"""`oncallnova.v1.SilenceService` and `oncallnova.v1.MaintenanceService` over the use cases
of silences and maintenance windows."""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2
from google.protobuf.message import Message

from oncallnova.suppression.api import MaintenanceService, SilencesService
from oncallnova.suppression.schemas import SilenceIn, SilencePatch, WindowIn, WindowPatch
from oncallnova.transport.grpc.convert import request_data, request_value, to_dict, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import suppression_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import suppression_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal

Context = Any


def listing(request: Message) -> tuple[str | None, list[str] | None]:
    """A list request's service and statuses (their domain words); none: every one."""
    data = to_dict(request)
    return data["service_id"], data["status"] or None


def silence_value(message: pb.SilenceIn | pb.SilencePatch, kind: Any) -> Any:
    """A silence or its patch; a matcher's unset `op` is the model's default ("="), as
    a matcher without one is in an HTTP body."""
    data = to_dict(message)
    data["matchers"] = [
        {k: v for k, v in matcher.items() if v is not None} for matcher in data["matchers"]
    ]
    return request_data(data, kind)


def reason_of(request: pb.EndSilenceRequest | pb.EndMaintenanceWindowRequest) -> str | None:
    return request.reason if request.HasField("reason") else None


class SilenceServicer(pb_grpc.SilenceServiceServicer):
    def __init__(self, silences: SilencesService) -> None:
        self._silences = silences

    async def ListSilences(
        self, request: pb.ListSilencesRequest, context: Context
    ) -> pb.ListSilencesResponse:
        service_id, status = listing(request)
        items = await self._silences.list(current_principal(), service_id=service_id, status=status)
        return to_message({"items": items}, pb.ListSilencesResponse)

    async def GetSilence(self, request: pb.GetSilenceRequest, context: Context) -> pb.Silence:
        found = await self._silences.get(current_principal(), request.silence_id)
        return to_message(found, pb.Silence)

    async def CreateSilence(self, request: pb.CreateSilenceRequest, context: Context) -> pb.Silence:
        data: SilenceIn = silence_value(request.silence, SilenceIn)
        return to_message(await self._silences.create(current_principal(), data), pb.Silence)

    async def UpdateSilence(self, request: pb.UpdateSilenceRequest, context: Context) -> pb.Silence:
        patch: SilencePatch = silence_value(request.patch, SilencePatch)
        done = await self._silences.update(current_principal(), request.silence_id, patch)
        return to_message(done, pb.Silence)

    async def EndSilence(self, request: pb.EndSilenceRequest, context: Context) -> empty_pb2.Empty:
        await self._silences.end(current_principal(), request.silence_id, reason_of(request))
        return empty_pb2.Empty()

    async def DraftSilence(
        self, request: pb.DraftSilenceRequest, context: Context
    ) -> pb.SilenceDraft:
        draft = await self._silences.draft(current_principal(), request.incident_id)
        return to_message(draft, pb.SilenceDraft)


class MaintenanceServicer(pb_grpc.MaintenanceServiceServicer):
    def __init__(self, maintenance: MaintenanceService) -> None:
        self._maintenance = maintenance

    async def ListMaintenanceWindows(
        self, request: pb.ListMaintenanceWindowsRequest, context: Context
    ) -> pb.ListMaintenanceWindowsResponse:
        service_id, status = listing(request)
        items = await self._maintenance.list(
            current_principal(), service_id=service_id, status=status
        )
        return to_message({"items": items}, pb.ListMaintenanceWindowsResponse)

    async def GetMaintenanceWindow(
        self, request: pb.GetMaintenanceWindowRequest, context: Context
    ) -> pb.MaintenanceWindow:
        found = await self._maintenance.get(current_principal(), request.window_id)
        return to_message(found, pb.MaintenanceWindow)

    async def CreateMaintenanceWindow(
        self, request: pb.CreateMaintenanceWindowRequest, context: Context
    ) -> pb.MaintenanceWindow:
        data = request_value(request.window, WindowIn)
        done = await self._maintenance.create(current_principal(), data)
        return to_message(done, pb.MaintenanceWindow)

    async def UpdateMaintenanceWindow(
        self, request: pb.UpdateMaintenanceWindowRequest, context: Context
    ) -> pb.MaintenanceWindow:
        patch = request_value(request.patch, WindowPatch)
        done = await self._maintenance.update(current_principal(), request.window_id, patch)
        return to_message(done, pb.MaintenanceWindow)

    async def EndMaintenanceWindow(
        self, request: pb.EndMaintenanceWindowRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._maintenance.end(current_principal(), request.window_id, reason_of(request))
        return empty_pb2.Empty()
