"""`HeartbeatsService` and `BeatService` over `oncallnova.v1.HeartbeatService`: the `web`
role manages monitors through it, and the `ingestion` role records beats (no user)."""

from __future__ import annotations

import grpc

from oncallnova.core.authz import Principal
from oncallnova.heartbeats.schemas import BeatOut, MonitorIn, MonitorOut, MonitorPatch
from oncallnova.transport.grpc.clients.calls import read, send, write
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import heartbeats_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import heartbeats_pb2_grpc as pb_grpc


class HeartbeatsClient:
    """Implements `heartbeats.api.HeartbeatsService` and `BeatService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.HeartbeatServiceStub(channel)

    async def get(self, who: Principal, monitor_id: str) -> MonitorOut:
        request = pb.GetHeartbeatMonitorRequest(monitor_id=monitor_id)
        return await read(who, self._stub.GetHeartbeatMonitor, request, MonitorOut)

    async def create(self, who: Principal, data: MonitorIn) -> MonitorOut:
        request = pb.CreateHeartbeatMonitorRequest(monitor=to_message(data, pb.HeartbeatMonitorIn))
        return await write(who, self._stub.CreateHeartbeatMonitor, request, MonitorOut)

    async def update(self, who: Principal, monitor_id: str, data: MonitorPatch) -> MonitorOut:
        patch = to_message(data, pb.HeartbeatMonitorPatch)
        request = pb.UpdateHeartbeatMonitorRequest(monitor_id=monitor_id, patch=patch)
        return await write(who, self._stub.UpdateHeartbeatMonitor, request, MonitorOut)

    async def delete(self, who: Principal, monitor_id: str) -> None:
        request = pb.DeleteHeartbeatMonitorRequest(monitor_id=monitor_id)
        await send(who, self._stub.DeleteHeartbeatMonitor, request)

    async def beat(self, token: str) -> BeatOut:
        request = pb.RecordHeartbeatRequest(token=token)
        return await write(None, self._stub.RecordHeartbeat, request, BeatOut)

    async def list(self, who: Principal, service_id: str | None = None) -> list[MonitorOut]:
        request = pb.ListHeartbeatMonitorsRequest(service_id=service_id)
        kind = list[MonitorOut]
        return await read(who, self._stub.ListHeartbeatMonitors, request, kind, "items")
