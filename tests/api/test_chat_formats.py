"""Slack, Mattermost, Teams Workflows and ntfy, as webhook formats and as a person's
contact methods: every body is checked on loopback as the real service documents it
(see tests/support/formats.py), and says what a person must see: the title with the
severity, the service and the incident's number, and a link to the incident."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import alert, level, policy, user
from tests.conftest import new_service
from tests.support import formats
from tests.support.formats import ServiceReceiver

BASE = "http://127.0.0.1:8080"  # ONCALLNOVA_BASE_URL's default: links point there
KINDS = ("slack", "mattermost", "teams", "ntfy")


@pytest.fixture
def backend() -> str:
    """Formats are the same on every database: SQLite alone (the outbox's storage is
    tested on both elsewhere)."""
    return "sqlite"


@pytest.fixture
def services() -> Iterator[dict[str, ServiceReceiver]]:
    receivers = {kind: ServiceReceiver(kind) for kind in KINDS}
    for receiver in receivers.values():
        receiver.__enter__()
    yield receivers
    for receiver in receivers.values():
        receiver.__exit__()


def shown(kind: str, body: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(title, all the text, links) of a message as each tool shows it."""
    if kind == "slack":
        header = body["blocks"][0]["text"]["text"]
        texts = [str(b.get("text", "")) + str(b.get("fields", "")) for b in body["blocks"]]
        links = [e["url"] for b in body["blocks"] for e in b.get("elements", []) if "url" in e]
        return header, " ".join(texts), links
    if kind == "mattermost":
        att = body["attachments"][0]
        fields = " ".join(f"{f['title']} {f['value']}" for f in att.get("fields", []))
        return att["title"], f"{att['text']} {fields}", [att.get("title_link", "")]
    if kind == "teams":
        card = body["attachments"][0]["content"]
        texts = [b.get("text", "") for b in card["body"]]
        facts = [f"{f['title']} {f['value']}" for b in card["body"] for f in b.get("facts", [])]
        links = [a["url"] for a in card.get("actions", [])]
        return card["body"][0]["text"], " ".join(texts + facts), links
    return body["title"], body["message"], [body.get("click", "")]


async def drain(rt: Runtime, clock: FakeClock) -> None:
    await rt.engine.run_once()
    await rt.dispatcher.run_once(clock.now())


def test_the_checks_refuse_what_the_services_refuse() -> None:
    """The stand-ins are strict where the real services are: else the tests below could
    not fail."""
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    assert formats.check_slack({"text": "t", "blocks": [header]})
    assert formats.check_slack({"blocks": []})  # no fallback text
    assert formats.check_mattermost({"attachments": [{"text": "no fallback"}]})
    connector_card = {"@type": "MessageCard", "summary": "s", "sections": []}
    assert formats.check_teams(connector_card)  # the retired Office 365 connector format
    card = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock"}]}
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
    assert formats.check_teams({"type": "message", "attachments": [attachment]})
    assert formats.check_ntfy({"topic": "t", "priority": 9}, "/")
    assert formats.check_ntfy({"topic": "t"}, "/t")  # JSON goes to the root URL
    assert formats.check_ntfy({"message": "no topic"}, "/")


async def test_webhook_formats_post_each_event_as_the_tool_documents_it(
    client: httpx.AsyncClient,
    rt: Runtime,
    clock: FakeClock,
    services: dict[str, ServiceReceiver],
) -> None:
    chats = ("slack", "mattermost", "teams")
    hooks = {}
    for kind in chats:
        created = await client.post(
            "/api/v1/webhooks", json={"url": services[kind].url, "format": kind, "name": kind}
        )
        assert created.status_code == 201, created.text
        hooks[kind] = created.json()["id"]
        assert (await client.get(f"/api/v1/webhooks/{hooks[kind]}")).json()["format"] == kind
    ann = await user(client, "Ann")
    svc = await new_service(
        client, escalation_policy_id=await policy(client, "p", [level(60, ("user", ann))])
    )
    incident = await alert(client, svc["key"], "Checkout error rate over 5%")
    number = (await client.get(f"/api/v1/incidents/{incident}")).json()["number"]
    await client.post(f"/api/v1/incidents/{incident}/acknowledge")
    await drain(rt, clock)
    for kind in chats:
        await client.post(f"/api/v1/webhooks/{hooks[kind]}/test")
    await drain(rt, clock)
    for kind in chats:
        receiver = services[kind]
        assert [p.problems for p in receiver.posted] == [[], [], []], kind
        title, text, links = shown(kind, receiver.posted[0].body)
        assert f"[CRITICAL] #{number} checkout: Checkout error rate over 5%" in title, kind
        assert "critical" in text and "checkout" in text, kind
        assert links == [f"{BASE}/incidents/{incident}"], kind
        ack_title, ack_text, _ = shown(kind, receiver.posted[1].body)
        assert ack_title.endswith(f"[ACKNOWLEDGED] #{number} checkout: Checkout error rate over 5%")
        assert "Acknowledged by Admin" in ack_text, kind
        test_title, _, _ = shown(kind, receiver.posted[2].body)
        assert "OnCallNova test event" in test_title, kind
        log = (await client.get(f"/api/v1/webhooks/{hooks[kind]}/deliveries")).json()["items"]
        assert {d["outcome"] for d in log} == {"sent"}, kind


async def test_a_page_reaches_each_kind_of_contact_method_in_its_format(
    client: httpx.AsyncClient,
    rt: Runtime,
    clock: FakeClock,
    services: dict[str, ServiceReceiver],
) -> None:
    ann = await user(client, "Ann")
    for kind, receiver in services.items():
        body = (
            {"type": "ntfy", "server": receiver.url, "topic": "ann-pager", "token": "tk_secret"}
            if kind == "ntfy"
            else {"type": kind, "url": receiver.url}
        )
        added = await client.post(f"/api/v1/users/{ann}/contact-methods", json=body)
        assert added.status_code == 201, added.text
    svc = await new_service(
        client, escalation_policy_id=await policy(client, "p", [level(60, ("user", ann))])
    )
    incident = await alert(client, svc["key"], "Disk full")
    number = (await client.get(f"/api/v1/incidents/{incident}")).json()["number"]
    await drain(rt, clock)  # no rule: every contact method at once
    for kind, receiver in services.items():
        [posted] = receiver.posted
        assert posted.problems == [], (kind, posted.problems)
        title, text, links = shown(kind, posted.body)
        assert f"#{number} checkout: Disk full" in title and "CRITICAL" in title, kind
        assert f"{BASE}/incidents/{incident}" in links, kind
        assert "acknowledge" in (text + str(posted.body)).lower(), kind  # the hint
    ntfy = services["ntfy"].posted[0]
    assert ntfy.body["topic"] == "ann-pager" and ntfy.body["priority"] == 5
    assert ntfy.headers["authorization"] == "Bearer tk_secret"
    assert ntfy.body["click"] == f"{BASE}/incidents/{incident}"

    await client.post(f"/api/v1/incidents/{incident}/resolve")
    await drain(rt, clock)
    for kind, receiver in services.items():
        assert len(receiver.valid) == 2, kind
        title, _, _ = shown(kind, receiver.posted[1].body)
        assert f"[RESOLVED] #{number} checkout: Disk full" in title, kind
    assert services["ntfy"].posted[1].body["priority"] == 3


@pytest.mark.parametrize("severity,priority", [("critical", 5), ("high", 4), ("low", 2)])
async def test_ntfy_priority_follows_the_severity(
    client: httpx.AsyncClient,
    rt: Runtime,
    clock: FakeClock,
    services: dict[str, ServiceReceiver],
    severity: str,
    priority: int,
) -> None:
    ann = await user(client, "Ann", contact_methods=[])
    receiver = services["ntfy"]
    await client.post(
        f"/api/v1/users/{ann}/contact-methods",
        json={"type": "ntfy", "server": receiver.url, "topic": "ann"},
    )
    svc = await new_service(
        client, escalation_policy_id=await policy(client, "p", [level(60, ("user", ann))])
    )
    response = await client.post(
        "/api/v1/alerts",
        json={"title": "Latency", "severity": severity},
        headers={"X-Routing-Key": svc["key"]},
    )
    assert response.status_code == 202
    await drain(rt, clock)
    [posted] = receiver.valid
    assert posted.body["priority"] == priority
    assert f"[{severity.upper()}]" in posted.body["title"]
    assert "authorization" not in posted.headers  # no token: no header


async def test_send_a_test_to_each_contact_method(
    client: httpx.AsyncClient,
    rt: Runtime,
    clock: FakeClock,
    services: dict[str, ServiceReceiver],
) -> None:
    me = (await client.get("/api/v1/auth/me")).json()["user_id"]
    for kind, receiver in services.items():
        body = (
            {"type": "ntfy", "server": receiver.url, "topic": "me"}
            if kind == "ntfy"
            else {"type": kind, "url": receiver.url, "name": f"my {kind}"}
        )
        method = (await client.post(f"/api/v1/users/{me}/contact-methods", json=body)).json()
        queued = await client.post(f"/api/v1/users/{me}/contact-methods/{method['id']}/test")
        assert queued.status_code == 202, queued.text
        assert queued.json()["delivery_id"]
    await rt.dispatcher.run_once(clock.now())
    for kind, receiver in services.items():
        [posted] = receiver.posted
        assert posted.problems == [], (kind, posted.problems)
        title, text, _ = shown(kind, posted.body)
        assert "Test notification from OnCallNova" in title, kind
        assert "pages reach you here" in text, kind
    missing = await client.post(f"/api/v1/users/{me}/contact-methods/nope/test")
    assert missing.status_code == 404
