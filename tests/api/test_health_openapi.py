"""Health, OpenAPI and docs."""

from __future__ import annotations

import re

import httpx
from fastapi.routing import APIRoute

from oncallnova.runtime.container import Runtime
from oncallnova.settings import Settings
from oncallnova.transport.http.app import ROUTE_MODULES, create_app


async def test_health_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_health_503_when_database_unreachable() -> None:
    rt = Runtime(Settings(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    app = create_app(rt, manage_runtime=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/health")
    await rt.db.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_openapi_lists_every_route_and_docs_are_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    declared = [
        # The document names a path parameter without its converter ({identifier:path}).
        (method, re.sub(r":\w+\}", "}", route.path))
        for module in ROUTE_MODULES
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    ]
    assert len(declared) > 50
    for method, path in declared:
        assert method.lower() in schema["paths"].get(path, {}), (method, path)
    for name in ("AlertIn", "AmWebhook", "AmAlert", "PdEvent", "PdPayload"):
        assert name in schema["components"]["schemas"], name
    alerts_body = schema["paths"]["/api/v1/alerts"]["post"]["requestBody"]
    assert "oneOf" in alerts_body["content"]["application/json"]["schema"]
    assert (await client.get("/docs")).status_code == 200
