"""`oncallnova.v1.OnCallService` over the on-call, schedules and policies use cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import empty_pb2, timestamp_pb2
from google.protobuf.message import Message

from oncallnova.core.errors import InvalidInput
from oncallnova.oncall.api import OncallService, PoliciesService, SchedulesService
from oncallnova.oncall.policy_schemas import PolicyIn, PolicyPatch
from oncallnova.oncall.schedule_schemas import OverrideIn, ScheduleIn, ScheduleOut, SchedulePatch
from oncallnova.transport.grpc.convert import request_value, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import oncall_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import oncall_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal
from oncallnova.transport.grpc.oncall_messages import numbered_days

Context = Any
EMPTY = empty_pb2.Empty()


def schedule_message(schedule: ScheduleOut) -> pb.Schedule:
    return to_message(numbered_days(schedule), pb.Schedule)


def instant(request: Message, name: str) -> datetime:
    """A Timestamp the call cannot go without."""
    if not request.HasField(name):
        raise InvalidInput(f"{name}: required", field=name)
    stamp: timestamp_pb2.Timestamp = getattr(request, name)
    return stamp.ToDatetime(tzinfo=UTC)


class OnCallServicer(pb_grpc.OnCallServiceServicer):
    def __init__(
        self, oncall: OncallService, schedules: SchedulesService, policies: PoliciesService
    ) -> None:
        self._oncall = oncall
        self._schedules = schedules
        self._policies = policies

    # --- who is on call ---

    async def OnCallNow(
        self, request: pb.OnCallNowRequest, context: Context
    ) -> pb.OnCallNowResponse:
        now = await self._oncall.now(current_principal(), at_or_now(request))
        return to_message(now, pb.OnCallNowResponse)

    async def ServicesOnCall(
        self, request: pb.ServicesOnCallRequest, context: Context
    ) -> pb.ServicesOnCallResponse:
        items = await self._oncall.services_on_call(current_principal(), at_or_now(request))
        return to_message({"items": items}, pb.ServicesOnCallResponse)

    # --- schedules ---

    async def ListSchedules(
        self, request: pb.ListSchedulesRequest, context: Context
    ) -> pb.ListSchedulesResponse:
        items = await self._schedules.list(current_principal())
        return pb.ListSchedulesResponse(items=[schedule_message(s) for s in items])

    async def GetSchedule(self, request: pb.GetScheduleRequest, context: Context) -> pb.Schedule:
        return schedule_message(await self._schedules.get(current_principal(), request.schedule_id))

    async def CreateSchedule(
        self, request: pb.CreateScheduleRequest, context: Context
    ) -> pb.Schedule:
        data = request_value(request.schedule, ScheduleIn)
        return schedule_message(await self._schedules.create(current_principal(), data))

    async def UpdateSchedule(
        self, request: pb.UpdateScheduleRequest, context: Context
    ) -> pb.Schedule:
        patch = request_value(request.patch, SchedulePatch)
        return schedule_message(
            await self._schedules.update(current_principal(), request.schedule_id, patch)
        )

    async def DeleteSchedule(
        self, request: pb.DeleteScheduleRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._schedules.delete(current_principal(), request.schedule_id)
        return EMPTY

    async def AddOverride(self, request: pb.AddOverrideRequest, context: Context) -> pb.Override:
        data = request_value(request.override, OverrideIn)
        done = await self._schedules.add_override(current_principal(), request.schedule_id, data)
        return to_message(done, pb.Override)

    async def DeleteOverride(
        self, request: pb.DeleteOverrideRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._schedules.delete_override(
            current_principal(), request.schedule_id, request.override_id
        )
        return EMPTY

    async def WhoIsOnCallAt(
        self, request: pb.WhoIsOnCallAtRequest, context: Context
    ) -> pb.OnCallAt:
        at = instant(request, "at")
        found = await self._schedules.oncall_at(current_principal(), request.schedule_id, at)
        return to_message(found, pb.OnCallAt)

    async def ListShifts(self, request: pb.ListShiftsRequest, context: Context) -> pb.ShiftList:
        start, end = instant(request, "start"), instant(request, "end")
        found = await self._schedules.shifts(current_principal(), request.schedule_id, start, end)
        return to_message(found, pb.ShiftList)

    async def OnCallPerSchedule(
        self, request: pb.OnCallPerScheduleRequest, context: Context
    ) -> pb.OnCallPerScheduleResponse:
        items = await self._schedules.now_per_schedule(current_principal(), at_or_now(request))
        return to_message({"items": items}, pb.OnCallPerScheduleResponse)

    async def GetUserNames(
        self, request: pb.GetUserNamesRequest, context: Context
    ) -> pb.GetUserNamesResponse:
        names = await self._schedules.names(list(request.user_ids))
        return pb.GetUserNamesResponse(names=names)

    async def RotateScheduleFeedToken(
        self, request: pb.RotateScheduleFeedTokenRequest, context: Context
    ) -> pb.Schedule:
        return schedule_message(
            await self._schedules.rotate_ical_token(current_principal(), request.schedule_id)
        )

    async def GetScheduleFeed(
        self, request: pb.GetScheduleFeedRequest, context: Context
    ) -> pb.GetScheduleFeedResponse:
        return pb.GetScheduleFeedResponse(ical=await self._schedules.schedule_feed(request.token))

    async def GetUserFeed(
        self, request: pb.GetUserFeedRequest, context: Context
    ) -> pb.GetUserFeedResponse:
        feed = await self._schedules.user_feed(request.user_id, request.user_name)
        return pb.GetUserFeedResponse(ical=feed)

    # --- escalation policies ---

    async def ListEscalationPolicies(
        self, request: pb.ListEscalationPoliciesRequest, context: Context
    ) -> pb.ListEscalationPoliciesResponse:
        items = await self._policies.list(current_principal())
        return to_message({"items": items}, pb.ListEscalationPoliciesResponse)

    async def GetEscalationPolicy(
        self, request: pb.GetEscalationPolicyRequest, context: Context
    ) -> pb.EscalationPolicy:
        found = await self._policies.get(current_principal(), request.policy_id)
        return to_message(found, pb.EscalationPolicy)

    async def CreateEscalationPolicy(
        self, request: pb.CreateEscalationPolicyRequest, context: Context
    ) -> pb.EscalationPolicy:
        data = request_value(request.policy, PolicyIn)
        done = await self._policies.create(current_principal(), data)
        return to_message(done, pb.EscalationPolicy)

    async def UpdateEscalationPolicy(
        self, request: pb.UpdateEscalationPolicyRequest, context: Context
    ) -> pb.EscalationPolicy:
        patch = request_value(request.patch, PolicyPatch)
        done = await self._policies.update(current_principal(), request.policy_id, patch)
        return to_message(done, pb.EscalationPolicy)

    async def DeleteEscalationPolicy(
        self, request: pb.DeleteEscalationPolicyRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._policies.delete(current_principal(), request.policy_id)
        return EMPTY


def at_or_now(request: Message) -> datetime | None:
    """A request's optional `at`: unset (None) means now."""
    return instant(request, "at") if request.HasField("at") else None
