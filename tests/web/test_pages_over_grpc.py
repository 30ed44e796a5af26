"""The page tests' second run really goes over gRPC."""

from __future__ import annotations

import httpx


async def test_each_run_serves_pages_over_its_own_use_cases(
    pages_over: str, client: httpx.AsyncClient
) -> None:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    incidents = transport.app.state.use_cases.incidents  # type: ignore[attr-defined]
    expected = "IncidentsClient" if pages_over == "grpc" else "IncidentService"
    assert type(incidents).__name__ == expected
    page = await client.get("/incidents")
    assert page.status_code == 200
