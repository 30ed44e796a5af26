"""How a person is reached: /api/v1/users/{user_id}/contact-methods, /notification-rules
and /shift-reminders, each with a test. The user themself or an admin; changes need the
responder role (the use cases check both again)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from oncallnova.core.authz import Role
from oncallnova.notify.schemas import TestQueued
from oncallnova.transport.http.auth import Actor, needs_self_or
from oncallnova.transport.http.deps import use_cases
from oncallnova.users.contact_schemas import (
    ContactMethodIn,
    ContactMethodList,
    ContactMethodOut,
    ContactMethodPatch,
    ReminderIn,
    ReminderOut,
    RemindersOut,
    RuleIn,
    RulesIn,
    RulesOut,
)

router = APIRouter(prefix="/api/v1/users/{user_id}", tags=["contact methods and rules"])
SELF = needs_self_or(Role.admin)
QUEUED: dict[str, Any] = {
    "response_model": TestQueued,
    "status_code": 202,
    "responses": {404: {"description": "No such user, contact method or reminder"}},
}


@router.get("/contact-methods", response_model=ContactMethodList, **SELF)
async def list_contact_methods(request: Request, user_id: str, who: Actor) -> ContactMethodList:
    """The user's contact methods with their targets (an ntfy token is never shown)."""
    return ContactMethodList(items=await use_cases(request).contacts.contact_methods(who, user_id))


@router.post("/contact-methods", response_model=ContactMethodOut, status_code=201, **SELF)
async def add_contact_method(
    request: Request, user_id: str, body: ContactMethodIn, who: Actor
) -> ContactMethodOut:
    """Add an email address, a Slack, Mattermost or Teams Workflows incoming webhook, or
    an ntfy topic."""
    return await use_cases(request).contacts.add_contact_method(who, user_id, body)


@router.patch("/contact-methods/{method_id}", response_model=ContactMethodOut, **SELF)
async def update_contact_method(
    request: Request, user_id: str, method_id: str, body: ContactMethodPatch, who: Actor
) -> ContactMethodOut:
    """Change a contact method's name or target (its type stays); `token: ""` removes it."""
    return await use_cases(request).contacts.update_contact_method(who, user_id, method_id, body)


@router.delete("/contact-methods/{method_id}", status_code=204, response_class=Response, **SELF)
async def delete_contact_method(
    request: Request, user_id: str, method_id: str, who: Actor
) -> Response:
    """Delete a contact method with the notification rules and reminders that use it."""
    await use_cases(request).contacts.delete_contact_method(who, user_id, method_id)
    return Response(status_code=204)


@router.post("/contact-methods/{method_id}/test", **QUEUED, **SELF)
async def test_contact_method(
    request: Request, user_id: str, method_id: str, who: Actor
) -> TestQueued:
    """Send a test notification to the contact method now (through the outbox: retried
    like any notification)."""
    delivery = await use_cases(request).contact_tests.test_contact(who, user_id, method_id)
    return TestQueued(delivery_id=delivery)


@router.get("/notification-rules", response_model=RulesOut, **SELF)
async def get_rules(request: Request, user_id: str, who: Actor) -> RulesOut:
    """When paged, which contact method is notified after how many minutes."""
    return await use_cases(request).contacts.rules(who, user_id)


@router.put("/notification-rules", response_model=RulesOut, **SELF)
async def set_rules(request: Request, user_id: str, body: RulesIn, who: Actor) -> RulesOut:
    """Replace every rule; `[]` goes back to the default (every contact method at once)."""
    return await use_cases(request).contacts.set_rules(who, user_id, body)


@router.post("/notification-rules", response_model=RulesOut, status_code=201, **SELF)
async def add_rule(request: Request, user_id: str, body: RuleIn, who: Actor) -> RulesOut:
    """Add one rule; the answer is every rule, in the order they fire."""
    return await use_cases(request).contacts.add_rule(who, user_id, body)


@router.delete("/notification-rules/{rule_id}", response_model=RulesOut, **SELF)
async def delete_rule(request: Request, user_id: str, rule_id: str, who: Actor) -> RulesOut:
    """Remove one rule; the answer is the rules left."""
    return await use_cases(request).contacts.delete_rule(who, user_id, rule_id)


@router.get("/shift-reminders", response_model=RemindersOut, **SELF)
async def list_reminders(request: Request, user_id: str, who: Actor) -> RemindersOut:
    """Reminders before the user's on-call shifts start and when they end."""
    return await use_cases(request).contacts.reminders(who, user_id)


@router.post("/shift-reminders", response_model=ReminderOut, status_code=201, **SELF)
async def add_reminder(request: Request, user_id: str, body: ReminderIn, who: Actor) -> ReminderOut:
    """`event: start` with `minutes_before`, or `event: end`; on one contact method."""
    return await use_cases(request).contacts.add_reminder(who, user_id, body)


@router.delete("/shift-reminders/{reminder_id}", status_code=204, response_class=Response, **SELF)
async def delete_reminder(request: Request, user_id: str, reminder_id: str, who: Actor) -> Response:
    """Remove one shift reminder."""
    await use_cases(request).contacts.delete_reminder(who, user_id, reminder_id)
    return Response(status_code=204)


@router.post("/shift-reminders/{reminder_id}/test", **QUEUED, **SELF)
async def test_reminder(request: Request, user_id: str, reminder_id: str, who: Actor) -> TestQueued:
    """Send the reminder now as it would read for the user's next shift."""
    delivery = await use_cases(request).contact_tests.test_reminder(who, user_id, reminder_id)
    return TestQueued(delivery_id=delivery)
