"""The transports reach the domains only through the `Services` bundle of Protocols."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from pathlib import Path
from typing import Any

import httpx

from oncallnova.core.authz import Principal
from oncallnova.incidents.schemas import IncidentDetail
from oncallnova.runtime import services as bundle
from oncallnova.runtime.container import Runtime
from oncallnova.transport.http.app import create_app
from tests.conftest import sign_in
from tests.usecases.test_incidents import _incident

TRANSPORT = Path(bundle.__file__).parents[1] / "transport"


def test_no_transport_imports_the_runtime() -> None:
    pattern = re.compile(
        r"^\s*(from oncallnova\.runtime(\.container)? import|import oncallnova\.runtime\b)"
    )
    offenders = [
        str(path.relative_to(TRANSPORT))
        for path in TRANSPORT.rglob("*.py")
        if any(pattern.match(line) for line in path.read_text().splitlines())
    ]
    assert offenders == []


def test_each_in_process_service_implements_its_protocol(rt: Runtime) -> None:
    """Every method of every Protocol exists on the service the Runtime puts in the bundle,
    with the same parameters, so a gRPC client written to the Protocol can replace it."""
    hints = typing.get_type_hints(bundle.Services)
    mismatches = []
    for field in dataclasses.fields(bundle.Services):
        protocol = hints[field.name]
        if not getattr(protocol, "_is_protocol", False):
            continue
        service = getattr(rt.use_cases, field.name)
        for name, member in vars(protocol).items():
            if name.startswith("_") or not callable(member):
                continue
            wanted = list(inspect.signature(member).parameters)[1:]
            found = getattr(service, name, None)
            if found is None:
                mismatches.append(f"{field.name}.{name} missing")
            elif list(inspect.signature(found).parameters) != wanted:
                mismatches.append(f"{field.name}.{name}: {inspect.signature(found)}")
    assert mismatches == []


class RecordingIncidents:
    """An `IncidentsService` that notes each detail asked for, then asks the real one."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.asked: list[str] = []

    async def detail(self, who: Principal, incident_id: str) -> IncidentDetail:
        self.asked.append(incident_id)
        result: IncidentDetail = await self.real.detail(who, incident_id)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


async def test_routes_call_the_bundle_they_were_given(rt: Runtime) -> None:
    incident_id = await _incident(rt, "checkout")
    recording = RecordingIncidents(rt.incidents)
    rt.use_cases = dataclasses.replace(rt.use_cases, incidents=recording)  # type: ignore[arg-type]
    token = await sign_in(rt, "viewer@example.com", "viewer")
    app = create_app(rt, manage_runtime=False, web=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        response = await http.get(f"/api/v1/incidents/{incident_id}")
    assert response.status_code == 200, response.text
    assert response.json()["alerts"][0]["title"] == "disk full"
    assert recording.asked == [incident_id]
