"""Outgoing webhooks: CRUD, secret rotation, test event, delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from oncallnova.core.authz import Role
from oncallnova.notify.schemas import (
    DeliveryList,
    RotateIn,
    TestQueued,
    WebhookIn,
    WebhookList,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecret,
)
from oncallnova.transport.http.auth import Actor, needs
from oncallnova.transport.http.deps import use_cases

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post("", response_model=WebhookWithSecret, status_code=201, **needs(Role.admin))
async def create_webhook(request: Request, body: WebhookIn, who: Actor) -> WebhookWithSecret:
    """Creates the webhook; the signing `secret` is in this answer only."""
    return await use_cases(request).webhooks.create(who, body)


@router.get("", response_model=WebhookList, **needs(Role.admin))
async def list_webhooks(request: Request, who: Actor) -> WebhookList:
    return WebhookList(items=await use_cases(request).webhooks.list(who))


@router.get("/{webhook_id}", response_model=WebhookOut, **needs(Role.admin))
async def get_webhook(request: Request, webhook_id: str, who: Actor) -> WebhookOut:
    return await use_cases(request).webhooks.get(who, webhook_id)


@router.patch("/{webhook_id}", response_model=WebhookOut, **needs(Role.admin))
async def update_webhook(
    request: Request, webhook_id: str, body: WebhookPatch, who: Actor
) -> WebhookOut:
    return await use_cases(request).webhooks.update(who, webhook_id, body)


@router.delete("/{webhook_id}", status_code=204, response_class=Response, **needs(Role.admin))
async def delete_webhook(request: Request, webhook_id: str, who: Actor) -> Response:
    await use_cases(request).webhooks.delete(who, webhook_id)
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookWithSecret, **needs(Role.admin))
async def rotate_secret(
    request: Request, who: Actor, webhook_id: str, body: RotateIn | None = None
) -> WebhookWithSecret:
    """A new secret (shown once); the old one keeps signing for `grace_seconds`."""
    return await use_cases(request).webhooks.rotate_secret(who, webhook_id, body or RotateIn())


@router.post(
    "/{webhook_id}/test",
    response_model=TestQueued,
    status_code=202,
    responses={409: {"description": "The webhook is disabled: enable it to test it"}},
    **needs(Role.admin),
)
async def send_test(request: Request, webhook_id: str, who: Actor) -> TestQueued:
    """Queues a `webhook.test` event; its attempts show in the delivery log. A disabled
    webhook sends nothing, so testing one is refused with 409."""
    return TestQueued(delivery_id=await use_cases(request).webhooks.send_test(who, webhook_id))


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList, **needs(Role.admin))
async def deliveries(
    request: Request, who: Actor, webhook_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> DeliveryList:
    """Every attempt, newest first: time, outcome, status code or error, duration."""
    return DeliveryList(items=await use_cases(request).webhooks.deliveries(who, webhook_id, limit))
