"""`IncidentsService` and `EscalationService` over `oncallnova.v1.IncidentService`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc

from oncallnova.core.authz import SYSTEM, Principal
from oncallnova.core.errors import DomainError
from oncallnova.incidents.schemas import (
    IncidentDetail,
    IncidentFilter,
    IncidentOut,
    IncidentPage,
    SimilarIncidents,
    StatusCounts,
    TimelineOut,
)
from oncallnova.transport.grpc.convert import from_message, to_dict, to_message, validate
from oncallnova.transport.grpc.gen.oncallnova.v1 import incidents_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import incidents_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import acting_as

log = logging.getLogger(__name__)
# A watch is a long call; it is made again when it ends, so it never goes stale.
WATCH_SECONDS = 600.0


def detail_value(message: pb.IncidentDetail) -> IncidentDetail:
    data = to_dict(message)
    return validate({**data.pop("incident"), **data}, IncidentDetail)


class IncidentsClient:
    """Implements `incidents.api.IncidentsService`, `EscalationService` and
    `SimilarIncidentsService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.IncidentServiceStub(channel)
        self._changes = 0
        self._watching: asyncio.Task[None] | None = None

    async def list(self, who: Principal, flt: IncidentFilter) -> IncidentPage:
        request = pb.ListIncidentsRequest(filter=to_message(flt, pb.IncidentFilter))
        with acting_as(who):
            return from_message(await self._stub.ListIncidents(request), IncidentPage)

    async def counts(self, who: Principal, flt: IncidentFilter) -> StatusCounts:
        request = pb.CountIncidentsRequest(filter=to_message(flt, pb.IncidentFilter))
        with acting_as(who):
            return from_message(await self._stub.CountIncidents(request), StatusCounts)

    async def open_per_service(self, who: Principal) -> dict[str, int]:
        with acting_as(who):
            reply = await self._stub.CountOpenPerService(pb.CountOpenPerServiceRequest())
        return dict(reply.open)

    async def detail(self, who: Principal, incident_id: str) -> IncidentDetail:
        with acting_as(who):
            reply = await self._stub.GetIncident(pb.GetIncidentRequest(incident_id=incident_id))
        return detail_value(reply)

    async def acknowledge(
        self, who: Principal, incident_id: str, message: str | None = None
    ) -> IncidentOut:
        request = pb.AcknowledgeIncidentRequest(incident_id=incident_id, message=message)
        with acting_as(who):
            return from_message(await self._stub.AcknowledgeIncident(request), IncidentOut)

    async def resolve(
        self, who: Principal, incident_id: str, message: str | None = None
    ) -> IncidentOut:
        request = pb.ResolveIncidentRequest(incident_id=incident_id, message=message)
        with acting_as(who):
            return from_message(await self._stub.ResolveIncident(request), IncidentOut)

    async def add_note(self, who: Principal, incident_id: str, message: str) -> TimelineOut:
        request = pb.AddNoteRequest(incident_id=incident_id, message=message)
        with acting_as(who):
            return from_message(await self._stub.AddNote(request), TimelineOut)

    async def escalate(self, who: Principal, incident_id: str) -> IncidentOut:
        request = pb.EscalateIncidentRequest(incident_id=incident_id)
        with acting_as(who):
            return from_message(await self._stub.EscalateIncident(request), IncidentOut)

    async def reassign(
        self, who: Principal, incident_id: str, *, user_id: str | None, policy_id: str | None
    ) -> IncidentOut:
        request = pb.ReassignIncidentRequest(
            incident_id=incident_id, user_id=user_id, escalation_policy_id=policy_id
        )
        with acting_as(who):
            return from_message(await self._stub.ReassignIncident(request), IncidentOut)

    async def similar(self, who: Principal, incident_id: str, limit: int = 10) -> SimilarIncidents:
        request = pb.ListSimilarIncidentsRequest(incident_id=incident_id, limit=limit)
        with acting_as(who):
            data = to_dict(await self._stub.ListSimilarIncidents(request))
        data["items"] = [{**item.pop("incident"), **item} for item in data["items"]]
        return validate(data, SimilarIncidents)

    async def change_marker(self) -> tuple[Any, ...]:
        """A count of the changes the incidents role has announced: the first call starts
        watching them (WatchChanges), and every reconnection counts as a change, since
        one may have been missed meanwhile."""
        if self._watching is None or self._watching.done():
            with acting_as(SYSTEM):
                self._watching = asyncio.create_task(self._watch(), name="watch-incidents")
        return (self._changes,)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        failing = False
        while True:
            started = loop.time()
            try:
                async for _ in self._stub.WatchChanges(
                    pb.WatchChangesRequest(), timeout=WATCH_SECONDS
                ):
                    self._changes += 1
                failing = False
            except (grpc.aio.AioRpcError, DomainError) as exc:
                # The watch's own deadline passing is no failure: it is made again at once.
                if loop.time() - started < WATCH_SECONDS - 1:
                    if not failing:
                        log.warning("live updates: cannot watch the incidents role: %s", exc)
                    failing = True
                    await asyncio.sleep(1.0)
            self._changes += 1

    async def aclose(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            await asyncio.gather(self._watching, return_exceptions=True)
