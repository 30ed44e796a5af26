"""`OncallService`, `SchedulesService` and `PoliciesService` over
`oncallnova.v1.OnCallService`."""

from __future__ import annotations

from datetime import datetime

import grpc

from oncallnova.core.authz import Principal
from oncallnova.oncall.policy_schemas import PolicyIn, PolicyOut, PolicyPatch
from oncallnova.oncall.schedule_schemas import (
    OnCallAt,
    OnCallEntry,
    OnCallNow,
    OverrideIn,
    OverrideOut,
    ScheduleIn,
    ScheduleOut,
    SchedulePatch,
    ServiceOnCall,
    ShiftList,
)
from oncallnova.transport.grpc.clients.calls import read, send, write
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import oncall_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import oncall_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.oncall_messages import numbered_days


class OncallClient:
    """Implements `oncall.api.OncallService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.OnCallServiceStub(channel)

    async def now(self, actor: Principal, at: datetime | None = None) -> OnCallNow:
        request = to_message({"at": at}, pb.OnCallNowRequest)
        return await read(actor, self._stub.OnCallNow, request, OnCallNow)

    async def services_on_call(
        self, actor: Principal, at: datetime | None = None
    ) -> list[ServiceOnCall]:
        request = to_message({"at": at}, pb.ServicesOnCallRequest)
        return await read(actor, self._stub.ServicesOnCall, request, list[ServiceOnCall], "items")


class SchedulesClient:
    """Implements `oncall.api.SchedulesService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.OnCallServiceStub(channel)

    async def create(self, actor: Principal, data: ScheduleIn) -> ScheduleOut:
        request = pb.CreateScheduleRequest(schedule=to_message(numbered_days(data), pb.ScheduleIn))
        return await write(actor, self._stub.CreateSchedule, request, ScheduleOut)

    async def get(self, actor: Principal, schedule_id: str) -> ScheduleOut:
        request = pb.GetScheduleRequest(schedule_id=schedule_id)
        return await read(actor, self._stub.GetSchedule, request, ScheduleOut)

    async def update(self, actor: Principal, schedule_id: str, data: SchedulePatch) -> ScheduleOut:
        patch = to_message(numbered_days(data), pb.SchedulePatch)
        request = pb.UpdateScheduleRequest(schedule_id=schedule_id, patch=patch)
        return await write(actor, self._stub.UpdateSchedule, request, ScheduleOut)

    async def delete(self, actor: Principal, schedule_id: str) -> None:
        request = pb.DeleteScheduleRequest(schedule_id=schedule_id)
        await send(actor, self._stub.DeleteSchedule, request)

    async def add_override(
        self, actor: Principal, schedule_id: str, data: OverrideIn
    ) -> OverrideOut:
        override = to_message(data, pb.OverrideIn)
        request = pb.AddOverrideRequest(schedule_id=schedule_id, override=override)
        return await write(actor, self._stub.AddOverride, request, OverrideOut)

    async def delete_override(self, actor: Principal, schedule_id: str, override_id: str) -> None:
        request = pb.DeleteOverrideRequest(schedule_id=schedule_id, override_id=override_id)
        await send(actor, self._stub.DeleteOverride, request)

    async def oncall_at(self, actor: Principal, schedule_id: str, at: datetime) -> OnCallAt:
        request = to_message({"schedule_id": schedule_id, "at": at}, pb.WhoIsOnCallAtRequest)
        return await read(actor, self._stub.WhoIsOnCallAt, request, OnCallAt)

    async def shifts(
        self, actor: Principal, schedule_id: str, start: datetime, end: datetime
    ) -> ShiftList:
        asked = {"schedule_id": schedule_id, "start": start, "end": end}
        request = to_message(asked, pb.ListShiftsRequest)
        return await read(actor, self._stub.ListShifts, request, ShiftList)

    async def now_per_schedule(
        self, actor: Principal, at: datetime | None = None
    ) -> list[OnCallEntry]:
        request = to_message({"at": at}, pb.OnCallPerScheduleRequest)
        return await read(actor, self._stub.OnCallPerSchedule, request, list[OnCallEntry], "items")

    async def names(self, user_ids: list[str]) -> dict[str, str]:
        request = pb.GetUserNamesRequest(user_ids=user_ids)
        return await read(None, self._stub.GetUserNames, request, dict[str, str], "names")

    async def rotate_ical_token(self, actor: Principal, schedule_id: str) -> ScheduleOut:
        request = pb.RotateScheduleFeedTokenRequest(schedule_id=schedule_id)
        return await write(actor, self._stub.RotateScheduleFeedToken, request, ScheduleOut)

    async def schedule_feed(self, token: str) -> bytes | None:
        request = pb.GetScheduleFeedRequest(token=token)
        return await read(None, self._stub.GetScheduleFeed, request, bytes | None, "ical")

    async def user_feed(self, user_id: str, user_name: str) -> bytes:
        request = pb.GetUserFeedRequest(user_id=user_id, user_name=user_name)
        return await read(None, self._stub.GetUserFeed, request, bytes, "ical")

    async def list(self, actor: Principal) -> list[ScheduleOut]:
        request = pb.ListSchedulesRequest()
        return await read(actor, self._stub.ListSchedules, request, list[ScheduleOut], "items")


class PoliciesClient:
    """Implements `oncall.api.PoliciesService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.OnCallServiceStub(channel)

    async def create(self, actor: Principal, data: PolicyIn) -> PolicyOut:
        request = pb.CreateEscalationPolicyRequest(policy=to_message(data, pb.EscalationPolicyIn))
        return await write(actor, self._stub.CreateEscalationPolicy, request, PolicyOut)

    async def get(self, actor: Principal, policy_id: str) -> PolicyOut:
        request = pb.GetEscalationPolicyRequest(policy_id=policy_id)
        return await read(actor, self._stub.GetEscalationPolicy, request, PolicyOut)

    async def update(self, actor: Principal, policy_id: str, data: PolicyPatch) -> PolicyOut:
        patch = to_message(data, pb.EscalationPolicyPatch)
        request = pb.UpdateEscalationPolicyRequest(policy_id=policy_id, patch=patch)
        return await write(actor, self._stub.UpdateEscalationPolicy, request, PolicyOut)

    async def delete(self, actor: Principal, policy_id: str) -> None:
        request = pb.DeleteEscalationPolicyRequest(policy_id=policy_id)
        await send(actor, self._stub.DeleteEscalationPolicy, request)

    async def list(self, actor: Principal) -> list[PolicyOut]:
        request = pb.ListEscalationPoliciesRequest()
        stub = self._stub.ListEscalationPolicies
        return await read(actor, stub, request, list[PolicyOut], "items")
