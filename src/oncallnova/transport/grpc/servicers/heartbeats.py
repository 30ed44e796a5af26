"""`oncallnova.v1.HeartbeatService` over the heartbeat monitors' use cases and their beats.
A beat carries no user: the monitor's token is its credential, as on the beat URL."""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from oncallnova.heartbeats.api import BeatService, HeartbeatsService
from oncallnova.heartbeats.schemas import MonitorIn, MonitorPatch
from oncallnova.transport.grpc.convert import request_value, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import heartbeats_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import heartbeats_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal

Context = Any


class HeartbeatServicer(pb_grpc.HeartbeatServiceServicer):
    def __init__(self, monitors: HeartbeatsService, beats: BeatService) -> None:
        self._monitors = monitors
        self._beats = beats

    async def ListHeartbeatMonitors(
        self, request: pb.ListHeartbeatMonitorsRequest, context: Context
    ) -> pb.ListHeartbeatMonitorsResponse:
        service_id = request.service_id if request.HasField("service_id") else None
        items = await self._monitors.list(current_principal(), service_id)
        return to_message({"items": items}, pb.ListHeartbeatMonitorsResponse)

    async def GetHeartbeatMonitor(
        self, request: pb.GetHeartbeatMonitorRequest, context: Context
    ) -> pb.HeartbeatMonitor:
        found = await self._monitors.get(current_principal(), request.monitor_id)
        return to_message(found, pb.HeartbeatMonitor)

    async def CreateHeartbeatMonitor(
        self, request: pb.CreateHeartbeatMonitorRequest, context: Context
    ) -> pb.HeartbeatMonitor:
        data = request_value(request.monitor, MonitorIn)
        return to_message(
            await self._monitors.create(current_principal(), data), pb.HeartbeatMonitor
        )

    async def UpdateHeartbeatMonitor(
        self, request: pb.UpdateHeartbeatMonitorRequest, context: Context
    ) -> pb.HeartbeatMonitor:
        patch = request_value(request.patch, MonitorPatch)
        done = await self._monitors.update(current_principal(), request.monitor_id, patch)
        return to_message(done, pb.HeartbeatMonitor)

    async def DeleteHeartbeatMonitor(
        self, request: pb.DeleteHeartbeatMonitorRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._monitors.delete(current_principal(), request.monitor_id)
        return empty_pb2.Empty()

    async def RecordHeartbeat(
        self, request: pb.RecordHeartbeatRequest, context: Context
    ) -> pb.HeartbeatBeat:
        return to_message(await self._beats.beat(request.token), pb.HeartbeatBeat)
