"""`oncallnova.v1.AlertRequestService` over the alert-request and heartbeat use cases of
the incidents role. The integration key authenticates the sender, as for `Ingest`."""

from __future__ import annotations

from typing import Any

from oncallnova.alerts.api import (
    AlertRef,
    AlertRequestsService,
    BeatsService,
    IngestionService,
    Requester,
    RequestOutcome,
)
from oncallnova.core.errors import InvalidInput
from oncallnova.transport.grpc.alert_messages import alert_value
from oncallnova.transport.grpc.convert import to_dict, to_message, validate
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc

_KINDS = {
    pb.ALERT_REF_KIND_ID: "id",
    pb.ALERT_REF_KIND_TINY: "tiny",
    pb.ALERT_REF_KIND_ALIAS: "alias",
}


def ref_value(message: pb.AlertRef) -> AlertRef:
    kind = _KINDS.get(message.kind)
    if kind is None or not message.value:
        raise InvalidInput("ref: a value and its kind (id, tiny or alias)", field="ref")
    return AlertRef(message.value, kind)  # type: ignore[arg-type]


def requester_value(message: pb.Requester) -> Requester:
    return validate(to_dict(message), Requester)


def outcome_message(outcome: RequestOutcome) -> pb.RequestOutcome:
    return to_message(outcome, pb.RequestOutcome)


class AlertRequestServicer(pb_grpc.AlertRequestServiceServicer):
    def __init__(
        self, ingestion: IngestionService, requests: AlertRequestsService, beats: BeatsService
    ) -> None:
        self._ingestion = ingestion
        self._requests = requests
        self._beats = beats

    async def CreateAlert(self, request: pb.CreateAlertRequest, context: Any) -> pb.RequestOutcome:
        route = await self._ingestion.authenticate(request.integration_key)
        outcome = await self._requests.create(
            route,
            alert_value(request.alert, 0),
            request.alias,
            requester_value(request.requester),
        )
        return outcome_message(outcome)

    async def CloseAlert(self, request: pb.AlertActionRequest, context: Any) -> pb.RequestOutcome:
        route = await self._ingestion.authenticate(request.integration_key)
        who = requester_value(request.requester)
        return outcome_message(await self._requests.close(route, ref_value(request.ref), who))

    async def AcknowledgeAlert(
        self, request: pb.AlertActionRequest, context: Any
    ) -> pb.RequestOutcome:
        route = await self._ingestion.authenticate(request.integration_key)
        who = requester_value(request.requester)
        done = await self._requests.acknowledge(route, ref_value(request.ref), who)
        return outcome_message(done)

    async def AddAlertNote(self, request: pb.AlertActionRequest, context: Any) -> pb.RequestOutcome:
        route = await self._ingestion.authenticate(request.integration_key)
        who = requester_value(request.requester)
        return outcome_message(await self._requests.add_note(route, ref_value(request.ref), who))

    async def GetRequestOutcome(
        self, request: pb.GetRequestOutcomeRequest, context: Any
    ) -> pb.GetRequestOutcomeResponse:
        route = await self._ingestion.authenticate(request.integration_key)
        found = await self._requests.outcome(route, request.request_id)
        if found is None:
            return pb.GetRequestOutcomeResponse()
        return pb.GetRequestOutcomeResponse(outcome=outcome_message(found))

    async def RecordBeat(self, request: pb.RecordBeatRequest, context: Any) -> pb.Beat:
        route = await self._ingestion.authenticate(request.integration_key)
        return to_message(await self._beats.beat(route, request.kind), pb.Beat)

    async def GetLastBeat(
        self, request: pb.GetLastBeatRequest, context: Any
    ) -> pb.GetLastBeatResponse:
        found = await self._beats.last(request.service_id, request.kind)
        if found is None:
            return pb.GetLastBeatResponse()
        return pb.GetLastBeatResponse(beat=to_message(found, pb.Beat))
