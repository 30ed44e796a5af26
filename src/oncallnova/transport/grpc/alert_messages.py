"""Alerts and their results to messages and back, written out by hand: ingestion's
batches hold up to a thousand alerts, and the generic walk of `convert.py` costs several
times more per alert than constructing the messages directly."""

from __future__ import annotations

from datetime import UTC

from google.protobuf.json_format import MessageToDict

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.errors import InvalidInput
from oncallnova.core.vocab import SEVERITIES
from oncallnova.services.api import ServiceRoute
from oncallnova.transport.grpc.convert import integral
from oncallnova.transport.grpc.gen.oncallnova.v1 import common_pb2
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb

# Batches per `Ingest` call or `IngestStream` message, as the contract says.
MAX_BATCHES = 1000

_SEVERITY = {name: common_pb2.Severity.Value(f"SEVERITY_{name.upper()}") for name in SEVERITIES}
_SEVERITY_NAME = {number: name for name, number in _SEVERITY.items()}
_ACTION = {
    "trigger": pb.ALERT_ACTION_TRIGGER,
    "acknowledge": pb.ALERT_ACTION_ACKNOWLEDGE,
    "resolve": pb.ALERT_ACTION_RESOLVE,
}
_ACTION_NAME = {number: name for name, number in _ACTION.items()}
_STATUS = {
    "firing": pb.ALERT_OUTCOME_FIRING,
    "resolved": pb.ALERT_OUTCOME_RESOLVED,
    "ignored": pb.ALERT_OUTCOME_IGNORED,
}
_STATUS_NAME = {number: name for name, number in _STATUS.items()}


def alert_message(alert: NormalizedAlert) -> pb.Alert:
    message = pb.Alert(
        title=alert.title,
        severity=_SEVERITY[alert.severity],
        action=_ACTION[alert.action],
        source=alert.source,
        description=alert.description,
        labels=alert.labels,
        dedup_key=alert.dedup_key,
    )
    if alert.occurred_at is not None:
        message.occurred_at.FromDatetime(alert.occurred_at.astimezone(UTC))
    if alert.details is not None:
        message.details.update(alert.details)
    return message


def alert_value(message: pb.Alert, position: int) -> NormalizedAlert:
    """The alert a message carries; one no sender could have made is refused."""
    where = f"alerts[{position}]"
    severity = _SEVERITY_NAME.get(message.severity)
    if severity is None:
        raise InvalidInput(f"{where}.severity: must be set", field=f"{where}.severity")
    if not message.title:
        raise InvalidInput(f"{where}.title: must not be empty", field=f"{where}.title")
    return NormalizedAlert(
        title=message.title,
        severity=severity,
        action=_ACTION_NAME.get(message.action, "trigger"),  # type: ignore[arg-type]
        source=message.source if message.HasField("source") else None,
        description=message.description if message.HasField("description") else None,
        labels=dict(message.labels),
        dedup_key=message.dedup_key if message.HasField("dedup_key") else None,
        occurred_at=(
            message.occurred_at.ToDatetime(tzinfo=UTC) if message.HasField("occurred_at") else None
        ),
        details=integral(MessageToDict(message.details)) if message.HasField("details") else None,
    )


def result_message(result: AlertResult) -> pb.AlertResult:
    return pb.AlertResult(
        alert_id=result.alert_id,
        incident_id=result.incident_id,
        deduplicated=result.deduplicated,
        fingerprint=result.fingerprint,
        status=_STATUS[result.status],
    )


def result_value(message: pb.AlertResult) -> AlertResult:
    return AlertResult(
        alert_id=message.alert_id if message.HasField("alert_id") else None,
        incident_id=message.incident_id if message.HasField("incident_id") else None,
        deduplicated=message.deduplicated,
        fingerprint=message.fingerprint,
        status=_STATUS_NAME[message.status],  # type: ignore[arg-type]
    )


def route_message(route: ServiceRoute) -> pb.ServiceRoute:
    return pb.ServiceRoute(
        service_id=route.service_id,
        service_name=route.service_name,
        correlation_key=route.correlation_key,
        correlation_window_seconds=route.correlation_window_seconds,
        escalation_policy_id=route.escalation_policy_id,
    )


def route_value(message: pb.ServiceRoute, key: str) -> ServiceRoute:
    return ServiceRoute(
        service_id=message.service_id,
        service_name=message.service_name,
        correlation_key=tuple(message.correlation_key),
        correlation_window_seconds=message.correlation_window_seconds,
        escalation_policy_id=(
            message.escalation_policy_id if message.HasField("escalation_policy_id") else None
        ),
        integration_key=key,
    )
