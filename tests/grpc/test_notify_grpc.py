"""`WebhookService` over a real gRPC connection: the webhooks client answers what the
in-process use case answers (secrets only where it shows them), and fails alike."""

from __future__ import annotations

import pytest

from oncallnova.core.errors import Forbidden, InvalidInput, NotFound
from oncallnova.notify.schemas import RotateIn, WebhookIn, WebhookOut, WebhookPatch
from oncallnova.transport.grpc.clients.notify import WebhooksClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import notify_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import notify_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import acting_as
from tests.grpc.conftest import Stack, same, same_error

# Nothing listens there: a delivery attempt fails at once and is recorded as a retry.
CLOSED = "http://127.0.0.1:9/hook"


@pytest.fixture(scope="module")
def webhooks(stack: Stack) -> WebhooksClient:
    return WebhooksClient(stack.channel)


async def test_every_method_answers_as_in_process(stack: Stack, webhooks: WebhooksClient) -> None:
    local, admin = stack.local.webhooks, stack.admin
    data = WebhookIn(url=CLOSED, events=["incident.new"], headers={"X-Team": "sre"})
    created = await webhooks.create(admin, data)
    assert created.secret.startswith("whsec_") and created.enabled and created.name == "webhook"
    stored = await local.get(admin, created.id)
    same(WebhookOut(**created.model_dump(exclude={"secret"})), stored)
    every = await webhooks.create(admin, WebhookIn(url=CLOSED, enabled=False))
    assert (every.events, every.enabled) == ((await local.get(admin, every.id)).events, False)
    same(await webhooks.list(admin), await local.list(admin))
    got = await webhooks.get(admin, created.id)
    same(got, stored)
    # An empty map is a value in a patch: the headers are cleared.
    patch = WebhookPatch(name="sre hook", headers={}, service_ids=["svc-1"])
    updated = await webhooks.update(admin, created.id, patch)
    same(updated, await local.get(admin, created.id))
    assert (updated.name, updated.headers, updated.events) == ("sre hook", {}, ["incident.new"])
    rotated = await webhooks.rotate_secret(admin, created.id, RotateIn(grace_seconds=60))
    assert rotated.secret != created.secret
    assert rotated.previous_secret_until is not None
    assert (rotated.previous_secret_until - stack.clock.now()).total_seconds() == 60
    same(WebhookOut(**rotated.model_dump(exclude={"secret"})), await local.get(admin, created.id))
    delivery_id = await webhooks.send_test(admin, created.id)
    await stack.rt.dispatcher.run_once(stack.clock.now())
    attempts = await webhooks.deliveries(admin, created.id, 10)
    same(attempts, await local.deliveries(admin, created.id, 10))
    assert [(a.delivery_id, a.outcome) for a in attempts] == [(delivery_id, "retry")]
    same(await webhooks.deliveries(admin, created.id), await local.deliveries(admin, created.id))
    # Another client's request without a limit gets the default one.
    with acting_as(admin):
        stub = pb_grpc.WebhookServiceStub(stack.channel)
        raw = await stub.ListDeliveries(pb.ListDeliveriesRequest(webhook_id=created.id))
    assert [d.delivery_id for d in raw.items] == [delivery_id]
    await webhooks.delete(admin, every.id)
    with pytest.raises(NotFound):
        await local.get(admin, every.id)


async def test_a_chat_format_crosses_both_ways(stack: Stack, webhooks: WebhooksClient) -> None:
    local, admin = stack.local.webhooks, stack.admin
    created = await webhooks.create(admin, WebhookIn(url=CLOSED, format="slack"))
    assert created.format == "slack"
    same(WebhookOut(**created.model_dump(exclude={"secret"})), await local.get(admin, created.id))
    same(await webhooks.get(admin, created.id), await local.get(admin, created.id))
    # A patch that names no format keeps it; one that names it changes it.
    renamed = await webhooks.update(admin, created.id, WebhookPatch(name="chat"))
    assert (renamed.name, renamed.format) == ("chat", "slack")
    teams = await webhooks.update(admin, created.id, WebhookPatch(format="teams"))
    same(teams, await local.get(admin, created.id))
    assert teams.format == "teams"
    same(await webhooks.list(admin), await local.list(admin))
    # Another client's webhook without a format is today's signed JSON.
    with acting_as(admin):
        stub = pb_grpc.WebhookServiceStub(stack.channel)
        raw = await stub.CreateWebhook(pb.CreateWebhookRequest(webhook=pb.WebhookIn(url=CLOSED)))
    assert raw.format == pb.WEBHOOK_FORMAT_ONCALLNOVA
    assert (await local.get(admin, raw.id)).format == "oncallnova"
    await local.delete(admin, created.id)
    await local.delete(admin, raw.id)


async def test_errors_are_the_in_process_ones(stack: Stack, webhooks: WebhooksClient) -> None:
    local, admin, responder = stack.local.webhooks, stack.admin, stack.responder
    err = await same_error(webhooks.get(admin, "nope"), local.get(admin, "nope"))
    assert isinstance(err, NotFound)
    await same_error(webhooks.send_test(admin, "nope"), local.send_test(admin, "nope"))
    await same_error(webhooks.deliveries(admin, "nope"), local.deliveries(admin, "nope"))
    err = await same_error(webhooks.list(responder), local.list(responder))
    assert isinstance(err, Forbidden)
    data = WebhookIn(url=CLOSED)
    await same_error(webhooks.create(responder, data), local.create(responder, data))


async def test_a_message_no_model_accepts_is_invalid_input(stack: Stack) -> None:
    stub = pb_grpc.WebhookServiceStub(stack.channel)
    with acting_as(stack.admin):
        for webhook, field in [
            (pb.WebhookIn(url="ftp://example.com"), "url"),
            (pb.WebhookIn(url=CLOSED, events=["incident.bogus"]), "events.0"),
            (pb.WebhookIn(url=CLOSED, headers={"Host": "x"}), "headers"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                await stub.CreateWebhook(pb.CreateWebhookRequest(webhook=webhook))
            assert refused.value.field == field, refused.value.message
        rotation = pb.SecretRotation(grace_seconds=-1)
        with pytest.raises(InvalidInput) as refused:
            await stub.RotateWebhookSecret(
                pb.RotateWebhookSecretRequest(webhook_id="w", rotation=rotation)
            )
        assert refused.value.field == "grace_seconds"
