"""The README's webhook receiver, run as written, accepts what OnCallNova signs."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oncallnova.notify.channels import Delivery
from oncallnova.notify.contacts import HttpTarget
from oncallnova.transport.webhooks.channel import WebhookChannel
from tests.system.servers import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    match = re.search(r"```python\n(import hashlib.*?)```", README.read_text(), re.S)
    assert match, "the README lost its receiver example"
    code = match.group(1)
    assert len(code.strip().splitlines()) <= 10
    return code


@pytest.fixture
def receiver_port() -> Iterator[int]:
    port = free_port()
    code = readme_receiver().replace('b"whsec_..."', 'b"whsec_right"').replace("9000", str(port))
    process = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "the README receiver did not start"
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)


async def test_readme_receiver_verifies_our_signatures(receiver_port: int) -> None:
    port = receiver_port
    url = f"http://127.0.0.1:{port}/hook"
    delivery = Delivery(
        id="d-1",
        channel="webhook",
        destination="w",
        kind="event",
        event_type="incident.new",
        incident_id="i",
        payload={"event": {"id": "e", "data": {"title": "é ünïcode"}}},
        attempt=1,
    )

    async def send(secrets: list[str]) -> int | None:
        async def directory(_: str) -> HttpTarget:
            return HttpTarget(url=url, headers={}, secrets=secrets)

        channel = WebhookChannel(directory)
        try:
            return (await channel.send(delivery)).status_code
        finally:
            await channel.close()

    assert await send(["whsec_right"]) == 204
    assert await send(["whsec_new", "whsec_right"]) == 204  # during a rotation
    assert await send(["whsec_wrong"]) == 401
