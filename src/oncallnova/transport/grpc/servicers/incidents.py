"""`oncallnova.v1.IncidentService` over the incidents and escalation use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from oncallnova.core.clock import Clock
from oncallnova.incidents.api import (
    EscalationService,
    IncidentsService,
    SimilarIncidentsService,
)
from oncallnova.incidents.schemas import IncidentDetail, IncidentFilter, SimilarIncidents
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.grpc.convert import as_dict, request_value, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import incidents_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import incidents_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal

Context = Any


def detail_message(detail: IncidentDetail) -> pb.IncidentDetail:
    data = as_dict(detail)
    return to_message({**data, "incident": data}, pb.IncidentDetail)


def similar_message(found: SimilarIncidents) -> pb.SimilarIncidents:
    data = as_dict(found)
    data["items"] = [{**as_dict(item), "incident": item} for item in found.items]
    return to_message(data, pb.SimilarIncidents)


class IncidentServicer(pb_grpc.IncidentServiceServicer):
    def __init__(
        self,
        incidents: IncidentsService,
        escalation: EscalationService,
        similar: SimilarIncidentsService,
        changes: ChangeFeed,
        clock: Clock,
    ) -> None:
        self._incidents = incidents
        self._escalation = escalation
        self._similar = similar
        self._changes = changes
        self._clock = clock

    async def ListIncidents(
        self, request: pb.ListIncidentsRequest, context: Context
    ) -> pb.ListIncidentsResponse:
        flt = request_value(request.filter, IncidentFilter)
        page = await self._incidents.list(current_principal(), flt)
        return to_message(page, pb.ListIncidentsResponse)

    async def CountIncidents(
        self, request: pb.CountIncidentsRequest, context: Context
    ) -> pb.IncidentCounts:
        flt = request_value(request.filter, IncidentFilter)
        return to_message(await self._incidents.counts(current_principal(), flt), pb.IncidentCounts)

    async def CountOpenPerService(
        self, request: pb.CountOpenPerServiceRequest, context: Context
    ) -> pb.CountOpenPerServiceResponse:
        counts = await self._incidents.open_per_service(current_principal())
        return pb.CountOpenPerServiceResponse(open=counts)

    async def GetIncident(
        self, request: pb.GetIncidentRequest, context: Context
    ) -> pb.IncidentDetail:
        return detail_message(
            await self._incidents.detail(current_principal(), request.incident_id)
        )

    async def AcknowledgeIncident(
        self, request: pb.AcknowledgeIncidentRequest, context: Context
    ) -> pb.Incident:
        message = request.message if request.HasField("message") else None
        done = await self._incidents.acknowledge(current_principal(), request.incident_id, message)
        return to_message(done, pb.Incident)

    async def ResolveIncident(
        self, request: pb.ResolveIncidentRequest, context: Context
    ) -> pb.Incident:
        message = request.message if request.HasField("message") else None
        done = await self._incidents.resolve(current_principal(), request.incident_id, message)
        return to_message(done, pb.Incident)

    async def AddNote(self, request: pb.AddNoteRequest, context: Context) -> pb.TimelineEntry:
        entry = await self._incidents.add_note(
            current_principal(), request.incident_id, request.message
        )
        return to_message(entry, pb.TimelineEntry)

    async def EscalateIncident(
        self, request: pb.EscalateIncidentRequest, context: Context
    ) -> pb.Incident:
        done = await self._escalation.escalate(current_principal(), request.incident_id)
        return to_message(done, pb.Incident)

    async def ReassignIncident(
        self, request: pb.ReassignIncidentRequest, context: Context
    ) -> pb.Incident:
        target = request.WhichOneof("target")
        done = await self._escalation.reassign(
            current_principal(),
            request.incident_id,
            user_id=request.user_id if target == "user_id" else None,
            policy_id=request.escalation_policy_id if target == "escalation_policy_id" else None,
        )
        return to_message(done, pb.Incident)

    async def ListSimilarIncidents(
        self, request: pb.ListSimilarIncidentsRequest, context: Context
    ) -> pb.SimilarIncidents:
        limit = request.limit if request.HasField("limit") else 10
        found = await self._similar.similar(current_principal(), request.incident_id, limit)
        return similar_message(found)

    async def WatchChanges(
        self, request: pb.WatchChangesRequest, context: Context
    ) -> AsyncIterator[pb.IncidentChange]:
        current_principal()  # a known caller only
        async with self._changes.subscribe() as queue:
            while (kind := await queue.get()) is not None:
                change = pb.IncidentChange(kind=kind)
                change.at.FromDatetime(self._clock.now())
                yield change
