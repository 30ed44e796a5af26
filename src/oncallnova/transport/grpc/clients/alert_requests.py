"""`AlertRequestsService` and `BeatsService` over `oncallnova.v1.AlertRequestService`:
the `ingestion` role's side. Each call names the integration key the route was found
by; writes are made once, reads again while the incidents role is unreachable."""

from __future__ import annotations

import grpc

from oncallnova.alerts.api import AlertRef, Beat, Requester, RequestOutcome
from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.services.api import ServiceRoute
from oncallnova.transport.grpc.alert_messages import alert_message
from oncallnova.transport.grpc.clients.calls import read, write
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc


def _requester(who: Requester) -> pb.Requester:
    return to_message(who, pb.Requester)


def _ref(ref: AlertRef) -> pb.AlertRef:
    return to_message(ref, pb.AlertRef)


class AlertRequestsClient:
    """Implements `alerts.api.AlertRequestsService` and `BeatsService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.AlertRequestServiceStub(channel)

    async def create(
        self, route: ServiceRoute, alert: NormalizedAlert, alias: str, who: Requester
    ) -> RequestOutcome:
        request = pb.CreateAlertRequest(
            integration_key=route.integration_key,
            alert=alert_message(alert),
            alias=alias,
            requester=_requester(who),
        )
        return await write(None, self._stub.CreateAlert, request, RequestOutcome)

    async def close(self, route: ServiceRoute, ref: AlertRef, who: Requester) -> RequestOutcome:
        request = self._action(route, ref, who)
        return await write(None, self._stub.CloseAlert, request, RequestOutcome)

    async def acknowledge(
        self, route: ServiceRoute, ref: AlertRef, who: Requester
    ) -> RequestOutcome:
        request = self._action(route, ref, who)
        return await write(None, self._stub.AcknowledgeAlert, request, RequestOutcome)

    async def add_note(self, route: ServiceRoute, ref: AlertRef, who: Requester) -> RequestOutcome:
        request = self._action(route, ref, who)
        return await write(None, self._stub.AddAlertNote, request, RequestOutcome)

    async def outcome(self, route: ServiceRoute, request_id: str) -> RequestOutcome | None:
        request = pb.GetRequestOutcomeRequest(
            integration_key=route.integration_key, request_id=request_id
        )
        return await read(
            None, self._stub.GetRequestOutcome, request, RequestOutcome | None, "outcome"
        )

    async def beat(self, route: ServiceRoute, kind: str) -> Beat:
        request = pb.RecordBeatRequest(integration_key=route.integration_key, kind=kind)
        return await write(None, self._stub.RecordBeat, request, Beat)

    async def last(self, service_id: str, kind: str) -> Beat | None:
        request = pb.GetLastBeatRequest(service_id=service_id, kind=kind)
        return await read(None, self._stub.GetLastBeat, request, Beat | None, "beat")

    @staticmethod
    def _action(route: ServiceRoute, ref: AlertRef, who: Requester) -> pb.AlertActionRequest:
        return pb.AlertActionRequest(
            integration_key=route.integration_key, ref=_ref(ref), requester=_requester(who)
        )
