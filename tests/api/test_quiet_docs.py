"""Heartbeat, silence and maintenance routes and fields are in the OpenAPI document (each
operation with a summary) and in the README."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from oncallnova.heartbeats.schemas import MonitorIn, MonitorOut
from oncallnova.services.schemas import ServiceIn
from oncallnova.suppression.schemas import MatcherIn, SilenceIn, SilenceOut, WindowIn, WindowOut
from oncallnova.transport.http import heartbeat_routes, silence_routes

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
ROUTES = [
    (method, route.path)
    for module in (heartbeat_routes, silence_routes)
    for route in module.router.routes
    if isinstance(route, APIRoute)
    for method in sorted(route.methods)
]


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_every_route_is_in_the_openapi_document_with_a_summary(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    assert len(ROUTES) == 18
    for method, path in ROUTES:
        operation = document["paths"][path][method.lower()]
        assert operation.get("summary"), (method, path)
    incidents = document["paths"]["/api/v1/incidents"]["get"]["parameters"]
    assert {"silenced", "maintenance"} <= {p["name"] for p in incidents}
    schemas = document["components"]["schemas"]
    assert {"silence_id", "maintenance_window_id"} <= set(schemas["IncidentOut"]["properties"])
    assert "silence_id" in schemas["AlertOut"]["properties"]
    assert {"ack_timeout_seconds", "auto_resolve_seconds"} <= set(
        schemas["ServiceOut"]["properties"]
    )


def test_the_readme_names_every_route_and_field() -> None:
    for _, path in ROUTES:
        assert f"{path.split('/{')[0]}" in README, path
    models = (MonitorIn, MonitorOut, SilenceIn, SilenceOut, MatcherIn, WindowIn, WindowOut)
    for model in models:
        for field in set(model.model_fields) - {"id", "created_at", "updated_at"}:
            assert f"`{field}`" in README, (model.__name__, field)
    for field in ("ack_timeout_seconds", "auto_resolve_seconds"):
        assert field in ServiceIn.model_fields and f"`{field}`" in README
    assert "`SILENCE_CACHE_SECONDS`" in README
