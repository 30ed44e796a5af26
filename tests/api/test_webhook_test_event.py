"""`POST /api/v1/webhooks/{id}/test`: a disabled webhook is refused, not silently queued."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from oncallnova.core.clock import FakeClock
from oncallnova.notify.models import Notification
from oncallnova.runtime.container import Runtime
from tests.support.receiver import Receiver


async def test_testing_a_disabled_webhook_answers_409_and_stores_nothing(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock
) -> None:
    with Receiver() as receiver:
        created = await client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "enabled": False}
        )
        assert created.status_code == 201, created.text
        hook = created.json()["id"]
        refused = await client.post(f"/api/v1/webhooks/{hook}/test")
        assert refused.status_code == 409, refused.text
        assert "disabled" in refused.json()["detail"]
        async with rt.db.read() as session:
            count = select(func.count()).where(Notification.destination == hook)
            assert await session.scalar(count) == 0  # nothing queued to fail later
        await rt.dispatcher.run_once(clock.now())
        assert receiver.requests == []

        await client.patch(f"/api/v1/webhooks/{hook}", json={"enabled": True})
        queued = await client.post(f"/api/v1/webhooks/{hook}/test")
        assert queued.status_code == 202, queued.text
        await rt.dispatcher.run_once(clock.now())
        [request] = receiver.wait_for(1)
        assert request.headers["x-oncallnova-delivery"] == queued.json()["delivery_id"]
    missing = await client.post("/api/v1/webhooks/nope/test")
    assert missing.status_code == 404
