"""A dispatcher killed between claim and send: the delivery still happens, once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.receiver import Receiver
from tests.system.servers import Server

pytestmark = pytest.mark.slow


def test_delivery_survives_a_crash_between_claim_and_send(tmp_path: Path) -> None:
    env = {
        "ONCALLNOVA_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "NOTIFY_LEASE_SECONDS": "1",
    }
    with Receiver() as receiver:
        crashing = Server(
            {**env, "ONCALLNOVA_FAULT_CRASH_AFTER_CLAIM": "true"}, tmp_path / "crash.log"
        ).start()
        url = crashing.url
        hook = httpx.post(
            headers=crashing.headers, url=f"{url}/api/v1/webhooks", json={"url": receiver.url}
        ).json()
        service = httpx.post(
            headers=crashing.headers, url=f"{url}/api/v1/services", json={"name": "svc"}
        ).json()
        posted = httpx.post(
            f"{url}/api/v1/alerts",
            json={"title": "down", "severity": "high"},
            headers={"X-Routing-Key": service["integration_keys"][0]["key"]},
        )
        assert posted.status_code == 202  # committed before the crash
        assert crashing.process is not None
        assert crashing.process.wait(timeout=15) == 70  # died right after claiming
        assert receiver.requests == []
        restarted = Server(env, tmp_path / "restart.log").start()
        try:
            got = receiver.wait_for(1, timeout=15)
            time.sleep(2.5)  # a second copy would have arrived by now
            assert len(receiver.requests) == 1
            event = json.loads(got[0].body)["event"]
            assert event["event_type"] == "incident.new"
            log = httpx.get(
                headers=restarted.headers,
                url=f"{restarted.url}/api/v1/webhooks/{hook['id']}/deliveries",
            ).json()
            assert [(d["attempt"], d["outcome"]) for d in log["items"]] == [(2, "sent")]
        finally:
            restarted.stop()
