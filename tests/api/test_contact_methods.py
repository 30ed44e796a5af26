"""Contact methods through the API: bad input refused naming the field, who may read
and change them, secrets kept from others, and a test to one of them retried on 5xx and
held back as long as a 429's Retry-After asks. HTTP behaviour, the same on every
database: SQLite alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from oncallnova.core.clock import FakeClock
from oncallnova.notify.models import Notification
from oncallnova.runtime.container import Runtime
from oncallnova.transport.webhooks.channel import retry_after
from tests.api.oncall_helpers import user
from tests.api.test_notification_rules import contact
from tests.conftest import api_client, sign_in
from tests.support.formats import ServiceReceiver


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def ntfy() -> Iterator[ServiceReceiver]:
    with ServiceReceiver("ntfy") as receiver:
        yield receiver


async def test_5xx_is_retried_and_429_waits_for_retry_after(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock, ntfy: ServiceReceiver
) -> None:
    ann = await user(client, "Ann")
    push = await contact(client, ann, type="ntfy", server=ntfy.url, topic="ann")
    ntfy.script = [503, (429, {"Retry-After": "600"})]
    queued = await client.post(f"/api/v1/users/{ann}/contact-methods/{push}/test")
    assert queued.status_code == 202
    await rt.dispatcher.run_once(clock.now())
    assert len(ntfy.posted) == 1  # 503: retried after the first backoff (30 s ± 20 %)
    clock.advance(37)
    await rt.dispatcher.run_once(clock.now())
    assert len(ntfy.posted) == 2  # 429 asking for 600 s, longer than the next backoff
    clock.advance(590)
    await rt.dispatcher.run_once(clock.now())
    assert len(ntfy.posted) == 2
    clock.advance(11)
    await rt.dispatcher.run_once(clock.now())
    assert len(ntfy.posted) == 3 and len(ntfy.valid) == 3
    async with rt.db.read() as session:
        sent = await session.scalar(
            select(Notification).where(Notification.id == queued.json()["delivery_id"])
        )
    assert sent is not None and (sent.status, sent.attempts) == ("sent", 3)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("Sun, 01 Mar 2026 12:05:00 GMT", now) == 300.0
    assert retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now) == 0.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None


async def test_bad_contact_methods_and_rules_are_refused_naming_the_field(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    ann = await user(client, "Ann")
    base = f"/api/v1/users/{ann}"
    cases = [
        ({"type": "slack"}, "url"),
        ({"type": "ntfy", "server": "http://127.0.0.1:1", "topic": "a b"}, "topic"),
        ({"type": "ntfy", "topic": "x"}, "server"),
        ({"type": "email", "address": "nope"}, "address"),
        ({"type": "email", "address": "a@b.co", "url": "http://x"}, "url"),
        ({"type": "teams", "url": "ftp://x"}, "url"),
        ({"type": "sms", "address": "1"}, "type"),
        ({"type": "slack", "url": "http://169.254.169.254/hook"}, "url"),
    ]
    for body, field in cases:
        refused = await client.post(f"{base}/contact-methods", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert any(e.startswith(f"{field}:") for e in refused.json()["errors"]), refused.text
    bad_rule = {"contact_method_id": "nope", "delay_minutes": 1}
    refused = await client.post(f"{base}/notification-rules", json=bad_rule)
    assert refused.status_code == 422 and "contact_method_id" in refused.text
    email = (await client.get(base)).json()["contact_methods"][0]["id"]
    too_late = {"contact_method_id": email, "delay_minutes": 100_000}
    assert (await client.post(f"{base}/notification-rules", json=too_late)).status_code == 422
    assert (await client.get(f"{base}/contact-methods")).json()["items"][0]["id"] == email


async def test_people_change_their_own_and_admins_anyones_and_secrets_stay_hidden(
    client: httpx.AsyncClient, rt: Runtime, ntfy: ServiceReceiver
) -> None:
    ann = await user(client, "Ann")
    method = await contact(client, ann, type="ntfy", server=ntfy.url, topic="t", token="tk_s")
    other = await sign_in(rt, "carl@example.com", "responder", "Carl")
    viewer = await sign_in(rt, "vera@example.com", "viewer", "Vera")
    async with api_client(rt, other) as carl, api_client(rt, viewer) as vera:
        for http in (carl, vera):
            public = (await http.get(f"/api/v1/users/{ann}")).json()["contact_methods"]
            assert public[1] == {
                "id": method,
                "type": "ntfy",
                "name": "",
                "address": None,
                "target": "127.0.0.1",
            }
            denied = await http.get(f"/api/v1/users/{ann}/contact-methods")
            assert denied.status_code == 403
            denied = await http.post(f"/api/v1/users/{ann}/contact-methods/{method}/test")
            assert denied.status_code == 403
        me = (await carl.get("/api/v1/auth/me")).json()["user_id"]
        mine = await carl.post(
            f"/api/v1/users/{me}/contact-methods", json={"type": "email", "address": "c@x.io"}
        )
        assert mine.status_code == 201
        me = (await vera.get("/api/v1/auth/me")).json()["user_id"]
        refused = await vera.post(
            f"/api/v1/users/{me}/contact-methods", json={"type": "email", "address": "v@x.io"}
        )
        assert refused.status_code == 403  # viewers read, responders change their own
    full = (await client.get(f"/api/v1/users/{ann}/contact-methods")).json()["items"][1]
    assert (full["server"], full["topic"], full["token_set"]) == (ntfy.url, "t", True)
    assert "tk_s" not in str(full)
    patched = await client.patch(
        f"/api/v1/users/{ann}/contact-methods/{method}", json={"topic": "u", "token": ""}
    )
    assert patched.status_code == 200 and patched.json()["topic"] == "u"
    assert patched.json()["token_set"] is False


async def test_every_route_is_documented_with_a_summary_and_its_role(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    base = "/api/v1/users/{user_id}"
    expected = {
        f"{base}/contact-methods": {"get", "post"},
        f"{base}/contact-methods/{{method_id}}": {"patch", "delete"},
        f"{base}/contact-methods/{{method_id}}/test": {"post"},
        f"{base}/notification-rules": {"get", "put", "post"},
        f"{base}/notification-rules/{{rule_id}}": {"delete"},
        f"{base}/shift-reminders": {"get", "post"},
        f"{base}/shift-reminders/{{reminder_id}}": {"delete"},
        f"{base}/shift-reminders/{{reminder_id}}/test": {"post"},
    }
    for path, methods in expected.items():
        operations = document["paths"][path]
        assert set(operations) == methods, path
        for operation in operations.values():
            assert operation["summary"] and operation["description"], path
            assert operation["x-self-or-role"] == "admin", path
    webhook = document["components"]["schemas"]["WebhookIn"]["properties"]["format"]
    assert "teams" in str(webhook) and "Adaptive Card" in webhook["description"]
