"""`SilencesService` and `MaintenanceService` over `oncallnova.v1.SilenceService` and
`oncallnova.v1.MaintenanceService`."""

from __future__ import annotations

from typing import TypeVar

import grpc
from google.protobuf.message import Message

from oncallnova.core.authz import Principal
from oncallnova.core.errors import InvalidInput
from oncallnova.suppression.schemas import (
    SilenceDraft,
    SilenceIn,
    SilenceOut,
    SilencePatch,
    WindowIn,
    WindowOut,
    WindowPatch,
)
from oncallnova.transport.grpc.clients.calls import read, send, write
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import suppression_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import suppression_pb2_grpc as pb_grpc

Q = TypeVar("Q", bound=Message)


def _query(cls: type[Q], service_id: str | None, status: list[str] | None) -> Q:
    """A list request; a status the contract has no word for is refused by name."""
    try:
        return to_message({"service_id": service_id, "status": status}, cls)
    except ValueError as exc:
        raise InvalidInput(f"status: {exc}", field="status") from None


class SilencesClient:
    """Implements `suppression.api.SilencesService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.SilenceServiceStub(channel)

    async def get(self, who: Principal, silence_id: str) -> SilenceOut:
        request = pb.GetSilenceRequest(silence_id=silence_id)
        return await read(who, self._stub.GetSilence, request, SilenceOut)

    async def create(self, who: Principal, data: SilenceIn) -> SilenceOut:
        request = pb.CreateSilenceRequest(silence=to_message(data, pb.SilenceIn))
        return await write(who, self._stub.CreateSilence, request, SilenceOut)

    async def update(self, who: Principal, silence_id: str, data: SilencePatch) -> SilenceOut:
        patch = to_message(data, pb.SilencePatch)
        request = pb.UpdateSilenceRequest(silence_id=silence_id, patch=patch)
        return await write(who, self._stub.UpdateSilence, request, SilenceOut)

    async def end(self, who: Principal, silence_id: str, reason: str | None = None) -> None:
        request = pb.EndSilenceRequest(silence_id=silence_id, reason=reason)
        await send(who, self._stub.EndSilence, request)

    async def draft(self, who: Principal, incident_id: str) -> SilenceDraft:
        request = pb.DraftSilenceRequest(incident_id=incident_id)
        return await read(who, self._stub.DraftSilence, request, SilenceDraft)

    async def list(
        self, who: Principal, *, service_id: str | None = None, status: list[str] | None = None
    ) -> list[SilenceOut]:
        request = _query(pb.ListSilencesRequest, service_id, status)
        return await read(who, self._stub.ListSilences, request, list[SilenceOut], "items")


class MaintenanceClient:
    """Implements `suppression.api.MaintenanceService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.MaintenanceServiceStub(channel)

    async def get(self, who: Principal, window_id: str) -> WindowOut:
        request = pb.GetMaintenanceWindowRequest(window_id=window_id)
        return await read(who, self._stub.GetMaintenanceWindow, request, WindowOut)

    async def create(self, who: Principal, data: WindowIn) -> WindowOut:
        request = pb.CreateMaintenanceWindowRequest(window=to_message(data, pb.MaintenanceWindowIn))
        return await write(who, self._stub.CreateMaintenanceWindow, request, WindowOut)

    async def update(self, who: Principal, window_id: str, data: WindowPatch) -> WindowOut:
        patch = to_message(data, pb.MaintenanceWindowPatch)
        request = pb.UpdateMaintenanceWindowRequest(window_id=window_id, patch=patch)
        return await write(who, self._stub.UpdateMaintenanceWindow, request, WindowOut)

    async def end(self, who: Principal, window_id: str, reason: str | None = None) -> None:
        request = pb.EndMaintenanceWindowRequest(window_id=window_id, reason=reason)
        await send(who, self._stub.EndMaintenanceWindow, request)

    async def list(
        self, who: Principal, *, service_id: str | None = None, status: list[str] | None = None
    ) -> list[WindowOut]:
        request = _query(pb.ListMaintenanceWindowsRequest, service_id, status)
        return await read(who, self._stub.ListMaintenanceWindows, request, list[WindowOut], "items")
