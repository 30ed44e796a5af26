"""`ContactService` over a real gRPC connection: the contacts client answers what the
in-process contact methods, notification rules, shift reminders and their tests answer,
and fails alike."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from oncallnova.core.errors import Forbidden, InvalidInput, NotFound
from oncallnova.notify.models import Notification
from oncallnova.transport.grpc.clients.contacts import ContactsClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import acting_as
from oncallnova.users.contact_schemas import (
    ContactMethodIn,
    ContactMethodPatch,
    ReminderIn,
    RuleIn,
    RulesIn,
)
from tests.grpc.conftest import Stack, same, same_error

# Checked when saved (they must resolve); nothing is sent to them here.
CHAT = "http://127.0.0.1:9/hooks/abc"
NTFY = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def contacts(stack: Stack) -> ContactsClient:
    return ContactsClient(stack.channel)


async def test_contact_methods(stack: Stack, contacts: ContactsClient) -> None:
    local, me = stack.local.contacts, stack.responder
    chat = ContactMethodIn(type="slack", name="team", url=CHAT)
    slack = await contacts.add_contact_method(me, me.user_id, chat)
    assert (slack.type, slack.name, slack.url, slack.target) == (
        "slack",
        "team",
        CHAT,
        "127.0.0.1",
    )
    push = ContactMethodIn(type="ntfy", server=NTFY, topic="rae", token="tk_secret")
    ntfy = await contacts.add_contact_method(me, me.user_id, push)
    assert (ntfy.topic, ntfy.token_set, ntfy.address, ntfy.url) == ("rae", True, None, None)
    mine = await contacts.contact_methods(me, me.user_id)
    same(mine, await local.contact_methods(me, me.user_id))
    assert [m.type for m in mine] == ["email", "slack", "ntfy"]
    # An admin reads and changes anyone's.
    same(
        await contacts.contact_methods(stack.admin, me.user_id),
        await local.contact_methods(stack.admin, me.user_id),
    )
    renamed = await contacts.update_contact_method(
        stack.admin, me.user_id, ntfy.id, ContactMethodPatch(name="phone")
    )
    assert (renamed.name, renamed.topic, renamed.token_set) == ("phone", "rae", True)
    # An empty token removes the stored one; what the patch leaves out stays.
    untokened = await contacts.update_contact_method(
        me, me.user_id, ntfy.id, ContactMethodPatch(token="", name=None)
    )
    assert (untokened.name, untokened.token_set) == ("phone", False)
    same([untokened], [m for m in await local.contact_methods(me, me.user_id) if m.id == ntfy.id])
    await contacts.delete_contact_method(me, me.user_id, slack.id)
    await contacts.delete_contact_method(me, me.user_id, ntfy.id)
    same(
        await contacts.contact_methods(me, me.user_id), await local.contact_methods(me, me.user_id)
    )
    assert [m.type for m in await local.contact_methods(me, me.user_id)] == ["email"]


async def test_notification_rules(stack: Stack, contacts: ContactsClient) -> None:
    local, me = stack.local.contacts, stack.responder
    push = ContactMethodIn(type="ntfy", server=NTFY, topic="rules")
    ntfy = await contacts.add_contact_method(me, me.user_id, push)
    email = (await local.contact_methods(me, me.user_id))[0]
    none = await contacts.rules(me, me.user_id)
    same(none, await local.rules(me, me.user_id))
    assert (none.rules, none.default) == ([], True)
    later = await contacts.add_rule(
        me, me.user_id, RuleIn(contact_method_id=ntfy.id, delay_minutes=5)
    )
    now = await contacts.add_rule(me, me.user_id, RuleIn(contact_method_id=email.id))
    same(now, await local.rules(me, me.user_id))
    assert [(r.contact_method_id, r.delay_minutes) for r in now.rules] == [
        (email.id, 0),
        (ntfy.id, 5),
    ]
    assert not now.default and later.rules[0].id == now.rules[1].id
    left = await contacts.delete_rule(me, me.user_id, later.rules[0].id)
    same(left, await local.rules(me, me.user_id))
    assert [r.contact_method_id for r in left.rules] == [email.id]
    both = RulesIn(
        rules=[
            RuleIn(contact_method_id=ntfy.id, delay_minutes=2),
            RuleIn(contact_method_id=email.id, delay_minutes=1),
        ]
    )
    replaced = await contacts.set_rules(stack.admin, me.user_id, both)
    same(replaced, await local.rules(stack.admin, me.user_id))
    assert [r.delay_minutes for r in replaced.rules] == [1, 2]
    # An empty list is a value: back to the default.
    cleared = await contacts.set_rules(me, me.user_id, RulesIn(rules=[]))
    assert (cleared.rules, cleared.default) == ([], True)
    await local.delete_contact_method(me, me.user_id, ntfy.id)


async def test_shift_reminders(stack: Stack, contacts: ContactsClient) -> None:
    local, me = stack.local.contacts, stack.responder
    email = (await local.contact_methods(me, me.user_id))[0]
    before = await contacts.add_reminder(me, me.user_id, ReminderIn(contact_method_id=email.id))
    assert (before.event, before.minutes_before) == ("start", 60)
    end = ReminderIn(contact_method_id=email.id, event="end", minutes_before=0)
    after = await contacts.add_reminder(stack.admin, me.user_id, end)
    listed = await contacts.reminders(me, me.user_id)
    same(listed, await local.reminders(me, me.user_id))
    assert listed.reminders == [before, after]
    await contacts.delete_reminder(me, me.user_id, before.id)
    same(await contacts.reminders(me, me.user_id), await local.reminders(me, me.user_id))
    assert (await local.reminders(me, me.user_id)).reminders == [after]
    await local.delete_reminder(me, me.user_id, after.id)


async def _queued(stack: Stack, delivery_id: str) -> dict[str, Any]:
    """What was queued under `delivery_id`, less what differs between two sends."""
    async with stack.rt.db.read() as session:
        query = select(Notification).where(Notification.id == delivery_id)
        row = (await session.execute(query)).scalar_one()
    return {
        "channel": row.channel,
        "destination": row.destination,
        "kind": row.kind,
        "status": row.status,
        "payload": row.payload,
    }


async def test_tests_queue_what_the_in_process_tests_queue(
    stack: Stack, contacts: ContactsClient
) -> None:
    local, me = stack.local.contact_tests, stack.responder
    chat = ContactMethodIn(type="mattermost", url=CHAT)
    method = await stack.local.contacts.add_contact_method(me, me.user_id, chat)
    remote_id = await contacts.test_contact(me, me.user_id, method.id)
    local_id = await local.test_contact(me, me.user_id, method.id)
    assert remote_id != local_id
    queued = await _queued(stack, remote_id)
    assert queued == await _queued(stack, local_id)
    assert (queued["channel"], queued["kind"], queued["destination"]) == (
        "mattermost",
        "test",
        method.id,
    )
    reminder = ReminderIn(contact_method_id=method.id, minutes_before=30)
    added = await stack.local.contacts.add_reminder(me, me.user_id, reminder)
    remote_id = await contacts.test_reminder(stack.admin, me.user_id, added.id)
    local_id = await local.test_reminder(stack.admin, me.user_id, added.id)
    queued = await _queued(stack, remote_id)
    assert queued == await _queued(stack, local_id)
    assert queued["kind"] == "reminder" and queued["payload"]["title"].startswith("Test: ")
    await stack.local.contacts.delete_contact_method(me, me.user_id, method.id)


async def test_errors_are_the_in_process_ones(stack: Stack, contacts: ContactsClient) -> None:
    local, tests = stack.local.contacts, stack.local.contact_tests
    admin, me, viewer = stack.admin, stack.responder, stack.viewer
    email = (await local.contact_methods(me, me.user_id))[0]
    err = await same_error(
        contacts.contact_methods(viewer, me.user_id), local.contact_methods(viewer, me.user_id)
    )
    assert isinstance(err, Forbidden)
    chat = ContactMethodIn(type="slack", url=CHAT)
    err = await same_error(
        contacts.add_contact_method(me, admin.user_id, chat),
        local.add_contact_method(me, admin.user_id, chat),
    )
    assert isinstance(err, Forbidden)
    err = await same_error(contacts.rules(admin, "nope"), local.rules(admin, "nope"))
    assert isinstance(err, NotFound)
    # A link-local address (cloud metadata) is never a target.
    metadata = ContactMethodIn(type="teams", url="http://169.254.169.254/hook")
    err = await same_error(
        contacts.add_contact_method(me, me.user_id, metadata),
        local.add_contact_method(me, me.user_id, metadata),
    )
    assert isinstance(err, InvalidInput) and err.field == "url"
    patch = ContactMethodPatch(url=CHAT)
    err = await same_error(
        contacts.update_contact_method(me, me.user_id, email.id, patch),
        local.update_contact_method(me, me.user_id, email.id, patch),
    )
    assert isinstance(err, InvalidInput) and err.field == "url"
    await same_error(
        contacts.update_contact_method(me, me.user_id, "nope", ContactMethodPatch(name="x")),
        local.update_contact_method(me, me.user_id, "nope", ContactMethodPatch(name="x")),
    )
    await same_error(
        contacts.delete_contact_method(me, me.user_id, "nope"),
        local.delete_contact_method(me, me.user_id, "nope"),
    )
    ghost = RuleIn(contact_method_id="ghost")
    err = await same_error(
        contacts.add_rule(me, me.user_id, ghost), local.add_rule(me, me.user_id, ghost)
    )
    assert isinstance(err, InvalidInput) and err.field == "rules[0].contact_method_id"
    rules = RulesIn(rules=[ghost])
    await same_error(
        contacts.set_rules(me, me.user_id, rules), local.set_rules(me, me.user_id, rules)
    )
    err = await same_error(
        contacts.delete_rule(me, me.user_id, "nope"), local.delete_rule(me, me.user_id, "nope")
    )
    assert isinstance(err, NotFound)
    reminder = ReminderIn(contact_method_id="ghost")
    err = await same_error(
        contacts.add_reminder(me, me.user_id, reminder),
        local.add_reminder(me, me.user_id, reminder),
    )
    assert isinstance(err, InvalidInput) and err.field == "contact_method_id"
    await same_error(contacts.reminders(viewer, me.user_id), local.reminders(viewer, me.user_id))
    await same_error(
        contacts.delete_reminder(me, me.user_id, "nope"),
        local.delete_reminder(me, me.user_id, "nope"),
    )
    err = await same_error(
        contacts.test_contact(me, me.user_id, "nope"), tests.test_contact(me, me.user_id, "nope")
    )
    assert isinstance(err, NotFound)
    err = await same_error(
        contacts.test_contact(viewer, me.user_id, email.id),
        tests.test_contact(viewer, me.user_id, email.id),
    )
    assert isinstance(err, Forbidden)
    await same_error(
        contacts.test_reminder(me, me.user_id, "nope"), tests.test_reminder(me, me.user_id, "nope")
    )


async def test_a_message_no_model_accepts_is_invalid_input(stack: Stack) -> None:
    stub = pb_grpc.ContactServiceStub(stack.channel)
    me = stack.responder
    with acting_as(me):
        for method, field in [
            (pb.ContactMethodIn(type=pb.CONTACT_METHOD_TYPE_NTFY, server=NTFY), "topic"),
            (pb.ContactMethodIn(address="rae@example.com", url=CHAT), "url"),
            (pb.ContactMethodIn(address="not-an-email"), "address"),
        ]:
            request = pb.AddContactMethodRequest(user_id=me.user_id, contact_method=method)
            with pytest.raises(InvalidInput) as refused:
                await stub.AddContactMethod(request)
            assert refused.value.field == field, refused.value.message
        rule = pb.NotificationRuleIn(contact_method_id="x", delay_minutes=-1)
        with pytest.raises(InvalidInput) as refused:
            await stub.AddNotificationRule(
                pb.AddNotificationRuleRequest(user_id=me.user_id, rule=rule)
            )
        assert refused.value.field == "delay_minutes"
        many = pb.NotificationRulesIn(rules=[pb.NotificationRuleIn(contact_method_id="x")] * 21)
        with pytest.raises(InvalidInput) as refused:
            await stub.SetNotificationRules(
                pb.SetNotificationRulesRequest(user_id=me.user_id, rules=many)
            )
        assert refused.value.field == "rules"


async def test_another_clients_unset_fields_take_the_defaults(stack: Stack) -> None:
    """A client in another language leaves out what has a default: an unset type is an
    email method, an unset event and lead time a reminder an hour before the start."""
    stub = pb_grpc.ContactServiceStub(stack.channel)
    local, me = stack.local.contacts, stack.responder
    with acting_as(me):
        method = pb.ContactMethodIn(address="Rae.Pager@Example.com")
        added = await stub.AddContactMethod(
            pb.AddContactMethodRequest(user_id=me.user_id, contact_method=method)
        )
        assert (added.type, added.address) == (
            pb.CONTACT_METHOD_TYPE_EMAIL,
            "rae.pager@example.com",
        )
        reminder = pb.ShiftReminderIn(contact_method_id=added.id)
        got = await stub.AddShiftReminder(
            pb.AddShiftReminderRequest(user_id=me.user_id, reminder=reminder)
        )
        assert (got.event, got.minutes_before) == (pb.SHIFT_EVENT_START, 60)
    await local.delete_contact_method(me, me.user_id, added.id)
    assert (await local.reminders(me, me.user_id)).reminders == []
