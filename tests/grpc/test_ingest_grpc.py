"""The `Ingest` path between a front end and the incidents role, on a real loopback
server over a real runtime: requests in flight together share calls, a batch refused
fails alone, and a call whose reply was lost is made again without storing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import Unauthenticated
from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.runtime.container import Runtime
from oncallnova.services.schemas import ServiceIn
from oncallnova.settings import Settings
from oncallnova.transport.grpc.channel import open_channel
from oncallnova.transport.grpc.clients.ingestion import IngestionClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.server import build_server
from oncallnova.transport.grpc.servicers.ingestion import IngestServicer
from tests.grpc.conftest import TOKEN


class Counting(IngestServicer):
    """Counts calls and batches; can lose the reply of its first call (after storing)."""

    def __init__(self, rt: Runtime, lose_first_reply: bool = False) -> None:
        super().__init__(rt.use_cases.ingestion, 1000)
        self.calls: list[int] = []
        self.lose = lose_first_reply

    async def Ingest(self, request: pb.IngestRequest, context: Any) -> pb.IngestResponse:
        self.calls.append(len(request.batches))
        reply = await super().Ingest(request, context)
        if self.lose:
            self.lose = False
            await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")
        return reply


@asynccontextmanager
async def client_of(servicer: Counting) -> AsyncIterator[IngestionClient]:
    settings = Settings(ONCALLNOVA_INTERNAL_TOKEN=TOKEN)
    server = build_server([servicer], settings)
    port = await server.start("127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{port}", settings) as channel:
            client = IngestionClient(channel, key_cache_seconds=2)
            yield client
            await client.aclose()
    finally:
        await server.stop(None)


async def _key(rt: Runtime, name: str) -> str:
    _, key = await rt.services.create(SYSTEM, ServiceIn(name=name))
    assert key.key is not None
    return key.key


def _alert(n: int) -> list[NormalizedAlert]:
    return [NormalizedAlert(title=f"alert {n}", severity="high")]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_requests_in_flight_together_share_calls(rt: Runtime) -> None:
    servicer = Counting(rt)
    async with client_of(servicer) as client:
        route = await client.authenticate(await _key(rt, "checkout"))
        results = await asyncio.gather(
            *(client.ingest(route, _alert(n), "native") for n in range(60))
        )
    assert [r[0].status for r in results] == ["firing"] * 60
    assert len({r[0].alert_id for r in results}) == 60
    assert sum(servicer.calls) == 60  # every batch sent once
    assert len(servicer.calls) < 60  # in fewer calls than requests
    page = await rt.incidents.list(SYSTEM, IncidentFilter())
    assert [i.alert_count for i in page.items] == [60]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_refused_batch_fails_alone(rt: Runtime) -> None:
    servicer = Counting(rt)
    async with client_of(servicer) as client:
        good = await client.authenticate(await _key(rt, "checkout"))
        revoked_key = await _key(rt, "legacy")
        revoked = await client.authenticate(revoked_key)
        service = (await rt.services.list(SYSTEM))[1]
        key_id = service.integration_keys[0].id
        await rt.services.revoke_key(SYSTEM, service.id, key_id)
        outcomes = await asyncio.gather(
            client.ingest(good, _alert(1), "native"),
            client.ingest(revoked, _alert(2), "native"),
            client.ingest(good, _alert(3), "pagerduty"),
            return_exceptions=True,
        )
        with pytest.raises(Unauthenticated):  # the client forgot the key it had kept
            await client.authenticate(revoked_key)
    assert isinstance(outcomes[1], Unauthenticated)
    assert [r[0].status for r in (outcomes[0], outcomes[2])] == ["firing", "firing"]  # type: ignore[index]


async def test_a_lost_reply_is_sent_again_and_stored_once(rt: Runtime) -> None:
    servicer = Counting(rt, lose_first_reply=True)
    async with client_of(servicer) as client:
        route = await client.authenticate(await _key(rt, "checkout"))
        results = await client.ingest(route, _alert(1) + _alert(2), "native")
    assert len(servicer.calls) == 2  # the call, and the same call again
    assert [r.deduplicated for r in results] == [False, False]
    page = await rt.incidents.list(SYSTEM, IncidentFilter())
    assert [i.alert_count for i in page.items] == [2]
    detail = await rt.incidents.detail(SYSTEM, page.items[0].id)
    assert sorted(a.count for a in detail.alerts) == [1, 1]  # not counted twice
    stored = rt.metrics.registry.get_sample_value(
        "oncall_alerts_ingested_total", {"service": "checkout", "deduplicated": "false"}
    )
    assert stored == 2
