"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1; no database."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from oncallnova.core.clock import FakeClock
from oncallnova.notify.channels import Delivery
from oncallnova.transport.email import channel as channel_module
from oncallnova.transport.email.channel import EmailChannel, SmtpConfig, render
from tests.support.ports import free_port

BASE_URL = "http://oncall.example.test"
NOW = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)


class Recorder:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self, rcpt_reply: str | None = None) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.rcpt_reply = rcpt_reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def start_server(handler: Recorder) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Recorder, int]]:
    handler = Recorder()
    controller = start_server(handler)
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def inbox(smtp: tuple[Recorder, int]) -> Recorder:
    smtp[0].received.clear()
    return smtp[0]


def make_channel(port: int, host: str | None = "127.0.0.1", **config: Any) -> EmailChannel:
    return EmailChannel(
        SmtpConfig(host=host, port=port, timeout=2.0, **config),
        BASE_URL + "/",
        clock=FakeClock(NOW),
    )


def delivery(kind: str = "page", **changes: Any) -> Delivery:
    incident = {
        "id": "inc-42",
        "title": "CPU high",
        "severity": "critical",
        "status": "triggered",
        "created_at": "2026-03-01T12:00:00Z",
        "acknowledged_at": None,
        "resolved_at": None,
        "acknowledged_by": None,
        "resolved_by": None,
        "alert_count": 3,
    }
    incident.update(changes.pop("incident", {}))
    payload = {
        "to": "ann@example.com",
        "user_name": "Ann",
        "service_name": "checkout",
        "incident": incident,
        "level": 1,
        "round": 0,
        "reason": "level 1 of 'Default'",
        "agent": None,
        **changes,
    }
    return Delivery(
        id=f"dlv-{kind}",
        channel="email",
        destination="user-ann",
        kind=kind,
        event_type=None,
        incident_id="inc-42",
        payload=payload,
        attempt=1,
    )


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


async def test_page_arrives_once_with_text_html_link_and_level(inbox: Recorder, smtp) -> None:
    outcome = await make_channel(smtp[1]).send(delivery("page"))

    assert outcome.ok, outcome
    assert len(inbox.received) == 1
    mail_from, rcpt_tos, message = inbox.received[0]
    assert mail_from == "oncallnova@localhost"
    assert rcpt_tos == ["ann@example.com"]
    assert message["Subject"] == "[CRITICAL] checkout: CPU high"
    assert message["To"].addresses[0].addr_spec == "ann@example.com"
    assert message["From"] == "oncallnova@localhost"
    assert message["X-OnCallNova-Delivery"] == "dlv-page"
    assert message["X-OnCallNova-Incident"] == "inc-42"
    assert message["Message-ID"].endswith("@localhost>")
    assert message["Date"].datetime == NOW
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    link = f"{BASE_URL}/incidents/inc-42"
    for body in (text, html):
        assert link in body
        assert "CPU high" in body
        assert "escalation level 1" in body
        assert "2026-03-01 12:00:00 UTC" in body
        assert "2026-03-01T12:00:00Z" in body
        assert "repeat round" not in body
    assert "level 1 of 'Default'" in text
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "style=" in html


async def test_page_repeat_round_is_mentioned(inbox: Recorder, smtp) -> None:
    outcome = await make_channel(smtp[1]).send(delivery("page", level=2, round=1))
    assert outcome.ok
    text, html = parts(inbox.received[0][2])
    assert "escalation level 2, repeat round 1" in text
    assert "repeat round 1" in html


async def test_acknowledged_names_who_and_when(inbox: Recorder, smtp) -> None:
    ack = delivery(
        "acknowledged",
        agent="alice",
        incident={"status": "acknowledged", "acknowledged_at": "2026-03-01T12:04:12Z"},
    )
    outcome = await make_channel(smtp[1]).send(ack)
    assert outcome.ok
    message = inbox.received[0][2]
    assert message["Subject"] == "[ACKNOWLEDGED] checkout: CPU high"
    text, html = parts(message)
    for body in (text, html):
        assert "acknowledged by alice at 2026-03-01 12:04:12 UTC" in body
        assert "2026-03-01T12:04:12Z" in body
        assert "4m 12s" in body
        assert f"{BASE_URL}/incidents/inc-42" in body
        assert "escalation level" not in body


async def test_resolved_names_who_and_when(inbox: Recorder, smtp) -> None:
    resolved = delivery(
        "resolved",
        agent="bob",
        incident={"status": "resolved", "resolved_at": "2026-03-01T13:05:00+00:00"},
    )
    outcome = await make_channel(smtp[1]).send(resolved)
    assert outcome.ok
    message = inbox.received[0][2]
    assert message["Subject"] == "[RESOLVED] checkout: CPU high"
    text, html = parts(message)
    for body in (text, html):
        assert "resolved by bob at 2026-03-01 13:05:00 UTC" in body
        assert "1h 5m" in body


def test_resolved_without_agent_says_automatically() -> None:
    message = render(delivery("resolved", incident={"resolved_at": "2026-03-01T12:30:00Z"}), "")
    text, _ = parts(message)
    assert "resolved automatically at 2026-03-01 12:30:00 UTC" in text


async def test_html_escapes_a_malicious_title(inbox: Recorder, smtp) -> None:
    # Short enough that the Subject header is not folded (folding a long unstructured
    # header can leave a leading space after unfolding, a stdlib quirk).
    evil = '<script>alert("x")</script><img src=x>'
    outcome = await make_channel(smtp[1]).send(delivery(incident={"title": evil}))
    assert outcome.ok
    message = inbox.received[0][2]
    assert message["Subject"] == f"[CRITICAL] checkout: {evil}"
    text, html = parts(message)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert evil in text  # plain text is not HTML: it keeps the title verbatim


async def test_connection_refused_is_temporary() -> None:
    outcome = await make_channel(free_port()).send(delivery())
    assert not outcome.ok and outcome.temporary
    assert outcome.status_code is None
    assert outcome.error is not None
    assert outcome.error.startswith("cannot connect to SMTP server 127.0.0.1:")
    assert outcome.error.endswith(": connection refused")


async def test_silent_server_times_out_as_temporary() -> None:
    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # no greeting; returns when the client gives up and closes
        writer.close()

    server = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        channel = EmailChannel(SmtpConfig(host="127.0.0.1", port=port, timeout=0.3), BASE_URL)
        outcome = await channel.send(delivery())
    finally:
        server.close()
    assert not outcome.ok and outcome.temporary
    assert outcome.error == f"SMTP server 127.0.0.1:{port} timed out"


@pytest.mark.parametrize(
    ("reply", "temporary", "code"),
    [("550 5.1.1 No such user here", False, 550), ("451 4.3.0 Try again later", True, 451)],
)
async def test_refused_recipient_maps_reply_code(reply: str, temporary: bool, code: int) -> None:
    handler = Recorder(rcpt_reply=reply)
    controller = start_server(handler)
    try:
        outcome = await make_channel(controller.port).send(delivery())
    finally:
        controller.stop()
    assert not outcome.ok
    assert outcome.temporary is temporary
    assert outcome.status_code == code
    assert outcome.error == f"SMTP {code} recipient refused: {reply[4:]}"
    assert handler.received == []


async def test_unset_host_is_a_final_failure() -> None:
    outcome = await make_channel(25, host=None).send(delivery())
    assert outcome.ok is False and outcome.temporary is False
    assert outcome.error == "email is not configured (SMTP_HOST is unset)"


@pytest.mark.parametrize("to", [None, "", "   "])
async def test_missing_address_is_a_final_failure(to: str | None, inbox: Recorder, smtp) -> None:
    outcome = await make_channel(smtp[1]).send(delivery(to=to))
    assert (outcome.ok, outcome.temporary, outcome.error) == (
        False,
        False,
        "user has no email address",
    )
    assert inbox.received == []


async def test_malformed_address_is_a_final_failure(inbox: Recorder, smtp) -> None:
    outcome = await make_channel(smtp[1]).send(delivery(to="ann@example.com\r\nBcc: x@evil"))
    assert not outcome.ok and not outcome.temporary
    assert outcome.error is not None and outcome.error.startswith("invalid email address")
    assert inbox.received == []


async def test_unsupported_kind_is_a_final_failure_not_an_exception(smtp) -> None:
    outcome = await make_channel(smtp[1]).send(delivery("event"))
    assert not outcome.ok and not outcome.temporary
    assert outcome.error == "cannot build the email: email does not support delivery kind 'event'"


def test_render_is_pure_and_sets_headers() -> None:
    page = delivery()
    message = render(page, BASE_URL, sender="OnCallNova <pager@ops.example.org>", now=NOW)
    assert message["From"].addresses[0].addr_spec == "pager@ops.example.org"
    assert message["Message-ID"].endswith("@ops.example.org>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"].datetime == NOW
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]


def test_subject_has_no_line_breaks() -> None:
    message = render(delivery(incident={"title": "disk\r\nfull\nBcc: x@evil"}), BASE_URL)
    assert message["Subject"] == "[CRITICAL] checkout: disk full Bcc: x@evil"
    assert message["Bcc"] is None


def test_templates_ship_inside_the_package() -> None:
    folder = Path(channel_module.__file__).parent / "templates"
    for kind in ("page", "acknowledged", "resolved"):
        assert (folder / f"{kind}.html").is_file()
        assert (folder / f"{kind}.txt").is_file()


async def test_server_fixture_is_reusable(inbox: Recorder, smtp) -> None:
    # Two sends, two messages: the channel holds no connection state between sends.
    channel = make_channel(smtp[1])
    assert (await channel.send(delivery())).ok
    assert (await channel.send(delivery("resolved", agent="bob"))).ok
    assert [m["Subject"] for _, _, m in inbox.received] == [
        "[CRITICAL] checkout: CPU high",
        "[RESOLVED] checkout: CPU high",
    ]
