"""Pages by email through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from oncallnova.core.clock import FakeClock
from tests.api.oncall_helpers import alert, level, policy, user
from tests.conftest import RuntimeFactory, api_client, new_service
from tests.system.servers import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


async def test_page_then_acknowledge_and_resolve_emails(
    make_runtime: RuntimeFactory, smtp: tuple[Inbox, int], clock: FakeClock
) -> None:
    inbox, port = smtp
    rt = await make_runtime(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(port),
        SMTP_FROM="pager@example.com",
        ONCALLNOVA_BASE_URL="https://oncall.example.com",
    )
    async with api_client(rt) as c:
        ann, ben = await user(c, "Ann"), await user(c, "Ben")
        policy_id = await policy(c, "p", [level(300, ("user", ann))])
        svc = await new_service(c, escalation_policy_id=policy_id)
        incident = await alert(c, svc["key"], "Checkout down")
        number = (await c.get(f"/api/v1/incidents/{incident}")).json()["number"]
        await rt.escalation.run_due(clock.now())
        await rt.dispatcher.run_once(clock.now())
        assert len(inbox.messages) == 1
        rcpt, page = inbox.messages[0]
        assert rcpt == ["ann@example.com"]
        # The short number people say leads, in the subject and in both bodies.
        assert page["Subject"] == f"[CRITICAL] #{number} checkout: Checkout down"
        assert page["From"] == "pager@example.com"
        text = page.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = page.get_body(("html",)).get_content()  # type: ignore[union-attr]
        link = f"https://oncall.example.com/incidents/{incident}"
        assert link in text and link in html
        assert "level 1" in text.lower()
        assert f"Incident:  #{number} Checkout down" in text and f"#{number}</span>" in html
        await rt.dispatcher.run_once(clock.now())
        assert len(inbox.messages) == 1  # once only
        await c.post(f"/api/v1/incidents/{incident}/acknowledge", json={"message": "mine"})
        await c.post(f"/api/v1/incidents/{incident}/resolve")
        await rt.dispatcher.run_once(clock.now())
        await rt.dispatcher.run_once(clock.now())
        subjects = [(r, m["Subject"]) for r, m in inbox.messages]
        assert subjects == [
            (["ann@example.com"], f"[CRITICAL] #{number} checkout: Checkout down"),
            (["ann@example.com"], f"[ACKNOWLEDGED] #{number} checkout: Checkout down"),
            (["ann@example.com"], f"[RESOLVED] #{number} checkout: Checkout down"),
        ]
        assert ben  # Ben was never paged, so he gets nothing
