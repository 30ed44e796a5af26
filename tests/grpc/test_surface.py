"""The whole gRPC surface: a client for every use-case Protocol of the `Services`
bundle, with the Protocol's exact signatures (so a role can be built from clients
alone), and every servicer served by the role the roles table says."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

import pytest

from oncallnova.runtime import services as bundle
from oncallnova.runtime.roles import ROLES, RoleName
from oncallnova.transport.grpc.clients.alert_requests import AlertRequestsClient
from oncallnova.transport.grpc.clients.analytics import AnalyticsClient
from oncallnova.transport.grpc.clients.auth import AuditClient, AuthClient
from oncallnova.transport.grpc.clients.catalog import CatalogClient
from oncallnova.transport.grpc.clients.contacts import ContactsClient
from oncallnova.transport.grpc.clients.heartbeats import HeartbeatsClient
from oncallnova.transport.grpc.clients.incidents import IncidentsClient
from oncallnova.transport.grpc.clients.ingestion import IngestionClient
from oncallnova.transport.grpc.clients.notify import WebhooksClient
from oncallnova.transport.grpc.clients.oncall import OncallClient, PoliciesClient, SchedulesClient
from oncallnova.transport.grpc.clients.people import UsersClient
from oncallnova.transport.grpc.clients.suppression import MaintenanceClient, SilencesClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import (
    analytics_pb2,
    auth_pb2,
    catalog_pb2,
    heartbeats_pb2,
    incidents_pb2,
    ingestion_pb2,
    notify_pb2,
    oncall_pb2,
    people_pb2,
    suppression_pb2,
)
from oncallnova.transport.grpc.server import registration
from oncallnova.transport.grpc.servicers.alert_requests import AlertRequestServicer
from oncallnova.transport.grpc.servicers.analytics import AnalyticsServicer
from oncallnova.transport.grpc.servicers.auth import AuthServicer
from oncallnova.transport.grpc.servicers.catalog import CatalogServicer
from oncallnova.transport.grpc.servicers.contacts import ContactServicer
from oncallnova.transport.grpc.servicers.heartbeats import HeartbeatServicer
from oncallnova.transport.grpc.servicers.incidents import IncidentServicer
from oncallnova.transport.grpc.servicers.ingestion import IngestServicer
from oncallnova.transport.grpc.servicers.notify import WebhooksServicer
from oncallnova.transport.grpc.servicers.oncall import OnCallServicer
from oncallnova.transport.grpc.servicers.people import PeopleServicer
from oncallnova.transport.grpc.servicers.suppression import MaintenanceServicer, SilenceServicer

CLIENTS: dict[str, type] = {
    "ingestion": IngestionClient,
    "incidents": IncidentsClient,
    "escalation": IncidentsClient,
    "similar_incidents": IncidentsClient,
    "alert_requests": AlertRequestsClient,
    "integration_beats": AlertRequestsClient,
    "oncall": OncallClient,
    "schedules": SchedulesClient,
    "policies": PoliciesClient,
    "catalog": CatalogClient,
    "users": UsersClient,
    "auth": AuthClient,
    "audit": AuditClient,
    "webhooks": WebhooksClient,
    "contacts": ContactsClient,
    "contact_tests": ContactsClient,
    "analytics": AnalyticsClient,
    "heartbeats": HeartbeatsClient,
    "beats": HeartbeatsClient,
    "silences": SilencesClient,
    "maintenance": MaintenanceClient,
}
SERVICERS = [
    IngestServicer,
    AlertRequestServicer,
    IncidentServicer,
    OnCallServicer,
    CatalogServicer,
    PeopleServicer,
    ContactServicer,
    AuthServicer,
    WebhooksServicer,
    AnalyticsServicer,
    HeartbeatServicer,
    SilenceServicer,
    MaintenanceServicer,
]
CONTRACTS = [
    analytics_pb2,
    auth_pb2,
    catalog_pb2,
    heartbeats_pb2,
    incidents_pb2,
    ingestion_pb2,
    notify_pb2,
    oncall_pb2,
    people_pb2,
    suppression_pb2,
]


def _protocols() -> dict[str, Any]:
    """The bundle's use cases: the Protocols the domains publish in their api.py (the
    clock is the process's own)."""
    hints = typing.get_type_hints(bundle.Services)
    return {
        field.name: hints[field.name]
        for field in dataclasses.fields(bundle.Services)
        if getattr(hints[field.name], "_is_protocol", False)
        and hints[field.name].__module__.endswith(".api")
    }


def test_every_use_case_protocol_has_a_client() -> None:
    assert sorted(CLIENTS) == sorted(_protocols())


@pytest.mark.parametrize("field", sorted(CLIENTS))
def test_each_client_has_its_protocols_signatures(field: str) -> None:
    """Parameters (names, kinds, defaults) and types, in and out, are the Protocol's."""
    protocol, client = _protocols()[field], CLIENTS[field]
    differences = []
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        found = getattr(client, name, None)
        if found is None:
            differences.append(f"{name}: missing")
            continue
        wanted = [
            (p.name, p.kind, p.default) for p in inspect.signature(member).parameters.values()
        ]
        got = [(p.name, p.kind, p.default) for p in inspect.signature(found).parameters.values()]
        if got != wanted:
            differences.append(f"{name}: {inspect.signature(found)}")
        elif typing.get_type_hints(found) != typing.get_type_hints(member):
            differences.append(f"{name}: types {typing.get_type_hints(found)}")
        if inspect.iscoroutinefunction(member) and not inspect.iscoroutinefunction(found):
            differences.append(f"{name}: not a coroutine")
    assert differences == []


def test_each_servicer_is_served_by_the_role_the_table_names() -> None:
    contract = {
        f"oncallnova.v1.{name}"
        for module in CONTRACTS
        for name in module.DESCRIPTOR.services_by_name
    }
    served = {
        f"oncallnova.v1.{name}": role.name for role in ROLES.values() for name in role.grpc_services
    }
    assert set(served) == contract  # each service of the contract, by one role
    names = [registration(cls.__new__(cls)).name for cls in SERVICERS]
    roles = {name: served[name] for name in names}
    assert roles == {
        "oncallnova.v1.IngestService": RoleName.incidents,
        "oncallnova.v1.AlertRequestService": RoleName.incidents,
        "oncallnova.v1.IncidentService": RoleName.incidents,
        "oncallnova.v1.CatalogService": RoleName.incidents,
        "oncallnova.v1.WebhookService": RoleName.incidents,
        "oncallnova.v1.AnalyticsService": RoleName.incidents,
        "oncallnova.v1.HeartbeatService": RoleName.incidents,
        "oncallnova.v1.SilenceService": RoleName.incidents,
        "oncallnova.v1.MaintenanceService": RoleName.incidents,
        "oncallnova.v1.OnCallService": RoleName.oncall,
        "oncallnova.v1.PeopleService": RoleName.oncall,
        "oncallnova.v1.ContactService": RoleName.oncall,
        "oncallnova.v1.AuthService": RoleName.oncall,
    }
