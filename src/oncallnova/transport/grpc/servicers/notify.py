"""`oncallnova.v1.WebhookService` over the webhook use cases."""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from oncallnova.notify.api import WebhooksService
from oncallnova.notify.schemas import RotateIn, WebhookIn, WebhookPatch
from oncallnova.transport.grpc.convert import request_value, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import notify_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import notify_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal

Context = Any


class WebhooksServicer(pb_grpc.WebhookServiceServicer):
    def __init__(self, webhooks: WebhooksService) -> None:
        self._webhooks = webhooks

    async def CreateWebhook(self, request: pb.CreateWebhookRequest, context: Context) -> pb.Webhook:
        data = request_value(request.webhook, WebhookIn)
        return to_message(await self._webhooks.create(current_principal(), data), pb.Webhook)

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: Context
    ) -> pb.ListWebhooksResponse:
        items = await self._webhooks.list(current_principal())
        return to_message({"items": items}, pb.ListWebhooksResponse)

    async def GetWebhook(self, request: pb.GetWebhookRequest, context: Context) -> pb.Webhook:
        found = await self._webhooks.get(current_principal(), request.webhook_id)
        return to_message(found, pb.Webhook)

    async def UpdateWebhook(self, request: pb.UpdateWebhookRequest, context: Context) -> pb.Webhook:
        patch = request_value(request.patch, WebhookPatch)
        done = await self._webhooks.update(current_principal(), request.webhook_id, patch)
        return to_message(done, pb.Webhook)

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._webhooks.delete(current_principal(), request.webhook_id)
        return empty_pb2.Empty()

    async def RotateWebhookSecret(
        self, request: pb.RotateWebhookSecretRequest, context: Context
    ) -> pb.Webhook:
        rotation = request_value(request.rotation, RotateIn)
        done = await self._webhooks.rotate_secret(current_principal(), request.webhook_id, rotation)
        return to_message(done, pb.Webhook)

    async def SendTestEvent(
        self, request: pb.SendTestEventRequest, context: Context
    ) -> pb.SendTestEventResponse:
        delivery_id = await self._webhooks.send_test(current_principal(), request.webhook_id)
        return pb.SendTestEventResponse(delivery_id=delivery_id)

    async def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, context: Context
    ) -> pb.ListDeliveriesResponse:
        limit = {"limit": request.limit} if request.HasField("limit") else {}
        items = await self._webhooks.deliveries(current_principal(), request.webhook_id, **limit)
        return to_message({"items": items}, pb.ListDeliveriesResponse)
