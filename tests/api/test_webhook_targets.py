"""Webhook URLs are vetted when saved: metadata and link-local never, private ranges by setting."""

from __future__ import annotations

import socket

import httpx
import pytest

from oncallnova.core.authz import SYSTEM
from oncallnova.core.errors import InvalidInput
from oncallnova.notify import ssrf
from oncallnova.notify.schemas import WebhookIn, WebhookPatch
from oncallnova.notify.webhooks import WebhookService
from oncallnova.runtime.container import Runtime
from tests.conftest import RuntimeFactory, api_client


async def test_metadata_refused_even_with_private_allowed(client: httpx.AsyncClient):
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/latest/meta-data",
        "http://[fd00:ec2::254]/latest/meta-data",
        "http://[fe80::1]:8080/hook",
    ]:
        response = await client.post("/api/v1/webhooks", json={"url": url})
        assert response.status_code == 422, (url, response.text)
        body = response.json()
        assert "link-local or cloud metadata" in body["detail"]
        assert body["errors"][0].startswith("url: ")
    assert (await client.get("/api/v1/webhooks")).json()["items"] == []


async def test_loopback_accepted_by_default(client: httpx.AsyncClient):
    response = await client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/x"})
    assert response.status_code == 201, response.text
    named = await client.post("/api/v1/webhooks", json={"url": "http://localhost:9/x"})
    assert named.status_code == 201, named.text


async def test_private_refused_when_not_allowed(make_runtime: RuntimeFactory):
    async with api_client(await make_runtime(WEBHOOK_ALLOW_PRIVATE="false")) as client:
        await _private_refused(client)


async def _private_refused(client: httpx.AsyncClient) -> None:
    kept = await client.post("/api/v1/webhooks", json={"url": "https://8.8.8.8/hook"})
    assert kept.status_code == 201, kept.text
    for url in ["http://127.0.0.1:9/x", "http://localhost:9/x", "http://10.0.0.1/x"]:
        response = await client.post("/api/v1/webhooks", json={"url": url})
        assert response.status_code == 422, (url, response.text)
        assert "WEBHOOK_ALLOW_PRIVATE" in response.json()["detail"]
    hook_id = kept.json()["id"]
    patched = await client.patch(f"/api/v1/webhooks/{hook_id}", json={"url": "http://[::1]/x"})
    assert patched.status_code == 422
    assert "loopback or private" in patched.json()["detail"]
    # The refused update changed nothing; other fields still update.
    renamed = await client.patch(f"/api/v1/webhooks/{hook_id}", json={"name": "renamed"})
    assert renamed.json()["url"] == "https://8.8.8.8/hook"
    assert renamed.json()["name"] == "renamed"


async def test_unresolvable_host_refused(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
):
    async def nowhere(host: str, port: int) -> list[ssrf.IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(ssrf, "resolve", nowhere)  # no DNS query leaves the machine
    response = await client.post("/api/v1/webhooks", json={"url": "https://nope.example.test/"})
    assert response.status_code == 422
    assert "cannot resolve host 'nope.example.test'" in response.json()["detail"]


async def test_service_checks_create_and_update(rt: Runtime):
    """WebhookService used directly, as the container builds it for each setting."""
    strict = WebhookService(rt.db, rt.clock, rt.outbox, allow_private=False)
    lenient = WebhookService(rt.db, rt.clock, rt.outbox, allow_private=True)
    with pytest.raises(InvalidInput) as refused:
        await strict.create(SYSTEM, WebhookIn(url="http://127.0.0.1:9/x"))
    assert refused.value.field == "url"
    hook = await lenient.create(SYSTEM, WebhookIn(url="http://127.0.0.1:9/x"))
    with pytest.raises(InvalidInput):
        await strict.update(SYSTEM, hook.id, WebhookPatch(url="http://192.168.1.1/x"))
    with pytest.raises(InvalidInput):
        await lenient.update(SYSTEM, hook.id, WebhookPatch(url="http://169.254.169.254/"))
    assert (
        await lenient.update(SYSTEM, hook.id, WebhookPatch(url="http://10.0.0.1/y"))
    ).url.endswith("/y")


async def test_setting_reaches_the_running_service(make_runtime: RuntimeFactory):
    rt = await make_runtime(WEBHOOK_ALLOW_PRIVATE="false")
    assert rt.settings.webhook_allow_private is False
    with pytest.raises(InvalidInput):
        await rt.webhooks.create(SYSTEM, WebhookIn(url="http://127.0.0.1:9/x"))
    assert rt.webhook_channel._client._transport._pool._network_backend._allow_private is False


async def test_contact_methods_given_with_a_user_are_vetted(make_runtime: RuntimeFactory):
    async with api_client(await make_runtime(WEBHOOK_ALLOW_PRIVATE="false")) as client:
        slack = {"type": "slack", "url": "http://10.0.0.1/hook"}
        created = await client.post(
            "/api/v1/users",
            json={"name": "Ann", "email": "ann@example.com", "contact_methods": [slack]},
        )
        assert created.status_code == 422, created.text
        assert "WEBHOOK_ALLOW_PRIVATE" in created.json()["detail"]
        users = (await client.get("/api/v1/users")).json()
        assert "ann@example.com" not in str(users)  # nothing half-stored
        ann = await client.post("/api/v1/users", json={"name": "Ann", "email": "ann@example.com"})
        assert ann.status_code == 201, ann.text
        ntfy = {"type": "ntfy", "server": "http://127.0.0.1:9", "topic": "ann"}
        patched = await client.patch(
            f"/api/v1/users/{ann.json()['id']}", json={"contact_methods": [ntfy]}
        )
        assert patched.status_code == 422, patched.text
        assert "loopback or private" in patched.json()["detail"]
        kept = (await client.get(f"/api/v1/users/{ann.json()['id']}")).json()
        assert [m["type"] for m in kept["contact_methods"]] == ["email"]
