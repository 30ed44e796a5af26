"""`WebhooksService` over `oncallnova.v1.WebhookService`."""

from __future__ import annotations

import grpc

from oncallnova.core.authz import Principal
from oncallnova.notify.schemas import (
    DeliveryOut,
    RotateIn,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecret,
)
from oncallnova.transport.grpc.clients.calls import read, send, write
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import notify_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import notify_pb2_grpc as pb_grpc


class WebhooksClient:
    """Implements `notify.api.WebhooksService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.WebhookServiceStub(channel)

    async def create(self, actor: Principal, data: WebhookIn) -> WebhookWithSecret:
        request = pb.CreateWebhookRequest(webhook=to_message(data, pb.WebhookIn))
        return await write(actor, self._stub.CreateWebhook, request, WebhookWithSecret)

    async def get(self, actor: Principal, webhook_id: str) -> WebhookOut:
        request = pb.GetWebhookRequest(webhook_id=webhook_id)
        return await read(actor, self._stub.GetWebhook, request, WebhookOut)

    async def update(self, actor: Principal, webhook_id: str, data: WebhookPatch) -> WebhookOut:
        patch = to_message(data, pb.WebhookPatch)
        request = pb.UpdateWebhookRequest(webhook_id=webhook_id, patch=patch)
        return await write(actor, self._stub.UpdateWebhook, request, WebhookOut)

    async def delete(self, actor: Principal, webhook_id: str) -> None:
        await send(actor, self._stub.DeleteWebhook, pb.DeleteWebhookRequest(webhook_id=webhook_id))

    async def rotate_secret(
        self, actor: Principal, webhook_id: str, data: RotateIn
    ) -> WebhookWithSecret:
        rotation = to_message(data, pb.SecretRotation)
        request = pb.RotateWebhookSecretRequest(webhook_id=webhook_id, rotation=rotation)
        return await write(actor, self._stub.RotateWebhookSecret, request, WebhookWithSecret)

    async def send_test(self, actor: Principal, webhook_id: str) -> str:
        request = pb.SendTestEventRequest(webhook_id=webhook_id)
        return await write(actor, self._stub.SendTestEvent, request, str, "delivery_id")

    async def deliveries(
        self, actor: Principal, webhook_id: str, limit: int = 100
    ) -> list[DeliveryOut]:
        request = pb.ListDeliveriesRequest(webhook_id=webhook_id, limit=limit)
        return await read(actor, self._stub.ListDeliveries, request, list[DeliveryOut], "items")

    async def list(self, actor: Principal) -> list[WebhookOut]:
        request = pb.ListWebhooksRequest()
        return await read(actor, self._stub.ListWebhooks, request, list[WebhookOut], "items")
