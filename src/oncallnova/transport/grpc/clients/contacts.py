"""`ContactsService` and `ContactTestsService` over `oncallnova.v1.ContactService`."""

from __future__ import annotations

import grpc

from oncallnova.core.authz import Principal
from oncallnova.transport.grpc.clients.calls import read, send, write
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2_grpc as pb_grpc
from oncallnova.users.contact_schemas import (
    ContactMethodIn,
    ContactMethodOut,
    ContactMethodPatch,
    ReminderIn,
    ReminderOut,
    RemindersOut,
    RuleIn,
    RulesIn,
    RulesOut,
)


class ContactsClient:
    """Implements `users.api.ContactsService` and `notify.api.ContactTestsService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.ContactServiceStub(channel)

    async def contact_methods(self, actor: Principal, user_id: str) -> list[ContactMethodOut]:
        request = pb.ListContactMethodsRequest(user_id=user_id)
        kind = list[ContactMethodOut]
        return await read(actor, self._stub.ListContactMethods, request, kind, "items")

    async def add_contact_method(
        self, actor: Principal, user_id: str, data: ContactMethodIn
    ) -> ContactMethodOut:
        method = to_message(data, pb.ContactMethodIn)
        request = pb.AddContactMethodRequest(user_id=user_id, contact_method=method)
        return await write(actor, self._stub.AddContactMethod, request, ContactMethodOut)

    async def update_contact_method(
        self, actor: Principal, user_id: str, method_id: str, data: ContactMethodPatch
    ) -> ContactMethodOut:
        patch = to_message(data, pb.ContactMethodPatch)
        request = pb.UpdateContactMethodRequest(user_id=user_id, method_id=method_id, patch=patch)
        return await write(actor, self._stub.UpdateContactMethod, request, ContactMethodOut)

    async def delete_contact_method(self, actor: Principal, user_id: str, method_id: str) -> None:
        request = pb.DeleteContactMethodRequest(user_id=user_id, method_id=method_id)
        await send(actor, self._stub.DeleteContactMethod, request)

    async def rules(self, actor: Principal, user_id: str) -> RulesOut:
        request = pb.GetNotificationRulesRequest(user_id=user_id)
        return await read(actor, self._stub.GetNotificationRules, request, RulesOut)

    async def add_rule(self, actor: Principal, user_id: str, data: RuleIn) -> RulesOut:
        rule = to_message(data, pb.NotificationRuleIn)
        request = pb.AddNotificationRuleRequest(user_id=user_id, rule=rule)
        return await write(actor, self._stub.AddNotificationRule, request, RulesOut)

    async def set_rules(self, actor: Principal, user_id: str, data: RulesIn) -> RulesOut:
        rules = to_message(data, pb.NotificationRulesIn)
        request = pb.SetNotificationRulesRequest(user_id=user_id, rules=rules)
        return await write(actor, self._stub.SetNotificationRules, request, RulesOut)

    async def delete_rule(self, actor: Principal, user_id: str, rule_id: str) -> RulesOut:
        request = pb.DeleteNotificationRuleRequest(user_id=user_id, rule_id=rule_id)
        return await write(actor, self._stub.DeleteNotificationRule, request, RulesOut)

    async def reminders(self, actor: Principal, user_id: str) -> RemindersOut:
        request = pb.ListShiftRemindersRequest(user_id=user_id)
        return await read(actor, self._stub.ListShiftReminders, request, RemindersOut)

    async def add_reminder(self, actor: Principal, user_id: str, data: ReminderIn) -> ReminderOut:
        reminder = to_message(data, pb.ShiftReminderIn)
        request = pb.AddShiftReminderRequest(user_id=user_id, reminder=reminder)
        return await write(actor, self._stub.AddShiftReminder, request, ReminderOut)

    async def delete_reminder(self, actor: Principal, user_id: str, reminder_id: str) -> None:
        request = pb.DeleteShiftReminderRequest(user_id=user_id, reminder_id=reminder_id)
        await send(actor, self._stub.DeleteShiftReminder, request)

    async def test_contact(self, actor: Principal, user_id: str, method_id: str) -> str:
        request = pb.SendContactMethodTestRequest(user_id=user_id, method_id=method_id)
        return await write(actor, self._stub.SendContactMethodTest, request, str, "delivery_id")

    async def test_reminder(self, actor: Principal, user_id: str, reminder_id: str) -> str:
        request = pb.SendShiftReminderTestRequest(user_id=user_id, reminder_id=reminder_id)
        return await write(actor, self._stub.SendShiftReminderTest, request, str, "delivery_id")
