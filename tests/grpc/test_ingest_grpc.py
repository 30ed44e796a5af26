"""The ingest path between a front end and the incidents role (`IngestStream`, and the
unary `Ingest`), on a real loopback server over a real runtime: requests in flight
together share messages, a batch refused fails alone, a message whose reply was lost or
late is sent again on a new stream without storing twice, and streams are replaced
without losing what they carried."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.alerts.schemas import AlertResult
from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import Unauthenticated
from oncallnova.incidents.schemas import IncidentFilter
from oncallnova.runtime.container import Runtime
from oncallnova.services.schemas import ServiceIn
from oncallnova.settings import Settings
from oncallnova.transport.grpc.channel import open_channel
from oncallnova.transport.grpc.clients import ingest_stream
from oncallnova.transport.grpc.clients.ingestion import IngestionClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import common_pb2
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import ingestion_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.server import build_server
from oncallnova.transport.grpc.servicers.ingestion import IngestServicer
from tests.grpc.conftest import TOKEN


class Counting(IngestServicer):
    """Counts streams, messages and batches. It can lose the reply of its first message
    (after storing it), or keep it back for `hold_seconds`."""

    def __init__(
        self, rt: Runtime, lose_first_reply: bool = False, hold_seconds: float = 0
    ) -> None:
        super().__init__(rt.use_cases.ingestion, 1000)
        self.streams = 0
        self.messages: list[int] = []
        self.lose = lose_first_reply
        self.hold = hold_seconds

    async def IngestStream(
        self, requests: AsyncIterator[pb.IngestStreamRequest], context: Any
    ) -> AsyncIterator[pb.IngestStreamResponse]:
        self.streams += 1

        async def counted() -> AsyncIterator[pb.IngestStreamRequest]:
            async for request in requests:
                self.messages.append(len(request.batches))
                yield request

        async for reply in super().IngestStream(counted(), context):
            if self.lose:
                self.lose = False
                await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")
            if self.hold:
                hold, self.hold = self.hold, 0
                await asyncio.sleep(hold)
            yield reply


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
async def test_requests_in_flight_together_share_messages(rt: Runtime) -> None:
    servicer = Counting(rt)
    async with client_of(servicer) as client:
        route = await client.authenticate(await _key(rt, "checkout"))
        results = await asyncio.gather(
            *(client.ingest(route, _alert(n), "native") for n in range(60))
        )
    assert [r[0].status for r in results] == ["firing"] * 60
    assert len({r[0].alert_id for r in results}) == 60
    assert sum(servicer.messages) == 60  # every batch sent once
    assert len(servicer.messages) < 60  # in fewer messages than requests
    assert servicer.streams == 1
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


async def _stored_once(rt: Runtime, results: list[AlertResult]) -> None:
    assert [r.deduplicated for r in results] == [False, False]
    page = await rt.incidents.list(SYSTEM, IncidentFilter())
    assert [i.alert_count for i in page.items] == [2]
    detail = await rt.incidents.detail(SYSTEM, page.items[0].id)
    assert sorted(a.count for a in detail.alerts) == [1, 1]  # not counted twice
    stored = rt.metrics.registry.get_sample_value(
        "oncall_alerts_ingested_total", {"service": "checkout", "deduplicated": "false"}
    )
    assert stored == 2


async def test_a_lost_reply_is_sent_again_and_stored_once(rt: Runtime) -> None:
    servicer = Counting(rt, lose_first_reply=True)
    async with client_of(servicer) as client:
        route = await client.authenticate(await _key(rt, "checkout"))
        results = await client.ingest(route, _alert(1) + _alert(2), "native")
    assert servicer.messages == [1, 1]  # the message, and the same again on a new stream
    assert servicer.streams == 2
    await _stored_once(rt, results)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_reply_later_than_the_deadline_is_sent_again_and_stored_once(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_stream, "MESSAGE_DEADLINE_SECONDS", 0.5)
    servicer = Counting(rt, hold_seconds=3)
    async with client_of(servicer) as client:
        route = await client.authenticate(await _key(rt, "checkout"))
        started = time.monotonic()
        results = await client.ingest(route, _alert(1) + _alert(2), "native")
        waited = time.monotonic() - started
    # The client gave up on the held reply after its deadline, not when it came.
    assert waited < 2.5
    assert servicer.messages == [1, 1]
    assert servicer.streams == 2
    await _stored_once(rt, results)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_streams_are_replaced_without_losing_a_batch(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each stream takes batches for 20 ms: the waves below go on new streams while the
    # old ones end once their replies are in.
    monkeypatch.setattr(ingest_stream, "STREAM_SECONDS", 0.02)
    servicer = Counting(rt)
    async with client_of(servicer) as client:
        route = await client.authenticate(await _key(rt, "checkout"))
        sent = []
        for wave in range(3):
            sent += [client.ingest(route, _alert(wave * 10 + n), "native") for n in range(10)]
            await asyncio.sleep(0.05)
        results = await asyncio.gather(*sent)
    assert len({r[0].alert_id for r in results}) == 30
    assert sum(servicer.messages) == 30
    assert servicer.streams >= 3
    page = await rt.incidents.list(SYSTEM, IncidentFilter())
    assert [i.alert_count for i in page.items] == [30]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_unary_ingest_answers_each_batch(rt: Runtime) -> None:
    settings = Settings(ONCALLNOVA_INTERNAL_TOKEN=TOKEN)
    server = build_server([Counting(rt)], settings)
    port = await server.start("127.0.0.1:0")
    good = await _key(rt, "checkout")
    try:
        async with open_channel(f"127.0.0.1:{port}", settings) as channel:
            stub = pb_grpc.IngestServiceStub(channel)
            alert = pb.Alert(title="CPU high", severity=common_pb2.SEVERITY_HIGH)
            reply = await stub.Ingest(
                pb.IngestRequest(
                    batches=[
                        pb.AlertBatch(
                            batch_id="b1", integration_key=good, source="native", alerts=[alert]
                        ),
                        pb.AlertBatch(
                            batch_id="b2", integration_key="nope", source="native", alerts=[alert]
                        ),
                    ]
                )
            )
    finally:
        await server.stop(None)
    assert reply.batches[0].results[0].status == pb.ALERT_OUTCOME_FIRING
    assert reply.batches[1].error.kind == common_pb2.ERROR_KIND_UNAUTHENTICATED
