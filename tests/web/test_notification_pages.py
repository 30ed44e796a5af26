"""The person page's contact methods, notification rules and shift reminders, rendered on
the server: shown to the person themself and to admins with a form for each and a test
button per contact method and reminder; others see only where pages go, no secret."""

from __future__ import annotations

import httpx

from oncallnova.runtime.container import Runtime
from tests.conftest import api_client, sign_in


async def test_own_page_sets_contact_methods_rules_and_reminders(rt: Runtime) -> None:
    token = await sign_in(rt, "rita@example.com", "responder", "Rita")
    async with api_client(rt, token) as rita:
        me = (await rita.get("/api/v1/auth/me")).json()["user_id"]
        api = f"/api/v1/users/{me}"
        empty = (await rita.get(f"/people/{me}")).text
        assert "No rules: a page notifies every contact method at once." in empty
        assert "No shift reminders." in empty
        push = await rita.post(
            f"{api}/contact-methods",
            json={"type": "ntfy", "server": "https://203.0.113.5", "topic": "rita-x1",
                  "token": "tk_hidden", "name": "phone"},
        )  # fmt: skip
        method = push.json()["id"]
        await rita.post(f"{api}/notification-rules", json={"contact_method_id": method,
                                                           "delay_minutes": 2})  # fmt: skip
        reminder = await rita.post(f"{api}/shift-reminders", json={"contact_method_id": method})
        page = await rita.get(f"/people/{me}")
        assert page.status_code == 200
        html = page.text
        for form in ("new-contact", "new-rule", "new-reminder"):
            assert f'id="{form}"' in html
        assert f'data-api="{api}/contact-methods"' in html
        assert f'data-api="{api}/contact-methods/{method}/test"' in html
        assert f'data-api="{api}/shift-reminders/{reminder.json()["id"]}/test"' in html
        assert f'data-api="{api}/notification-rules"' in html
        assert "https://203.0.113.5 · rita-x1 · token set" in html
        assert "tk_hidden" not in html
        assert "After 2 min: phone (ntfy: 203.0.113.5)" in html
        assert "60 min before a shift starts: phone (ntfy: 203.0.113.5)" in html
        for value in ("email", "ntfy", "slack", "mattermost", "teams"):
            assert f'<option value="{value}">' in html
        assert 'data-for="ntfy"' in html and 'select name="type" data-switch' in html


async def test_others_see_where_pages_go_but_no_target_or_control(
    client: httpx.AsyncClient, rt: Runtime
) -> None:
    ann = await client.post("/api/v1/users", json={"name": "Ann", "email": "ann@example.com"})
    ann_id = ann.json()["id"]
    added = await client.post(
        f"/api/v1/users/{ann_id}/contact-methods",
        json={"type": "slack", "url": "https://198.51.100.7/services/T0/B0/secretpath"},
    )
    assert added.status_code == 201, added.text
    admin_view = (await client.get(f"/people/{ann_id}")).text
    assert 'id="new-contact"' in admin_view  # admins set anyone's
    token = await sign_in(rt, "carl@example.com", "responder", "Carl")
    async with api_client(rt, token) as carl:
        page = await carl.get(f"/people/{ann_id}")
        assert page.status_code == 200
        assert "slack: 198.51.100.7" in page.text
        assert "secretpath" not in page.text
        assert 'id="new-contact"' not in page.text and "/contact-methods" not in page.text
