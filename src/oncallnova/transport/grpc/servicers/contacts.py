"""`oncallnova.v1.ContactService` over the contact methods, notification rules and shift
reminders use cases, and the tests of them."""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from oncallnova.notify.api import ContactTestsService
from oncallnova.transport.grpc.convert import request_value, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal
from oncallnova.users.api import ContactsService
from oncallnova.users.contact_schemas import (
    ContactMethodIn,
    ContactMethodPatch,
    ReminderIn,
    RuleIn,
    RulesIn,
)

Context = Any


class ContactServicer(pb_grpc.ContactServiceServicer):
    def __init__(self, contacts: ContactsService, tests: ContactTestsService) -> None:
        self._contacts = contacts
        self._tests = tests

    async def ListContactMethods(
        self, request: pb.ListContactMethodsRequest, context: Context
    ) -> pb.ListContactMethodsResponse:
        items = await self._contacts.contact_methods(current_principal(), request.user_id)
        return to_message({"items": items}, pb.ListContactMethodsResponse)

    async def AddContactMethod(
        self, request: pb.AddContactMethodRequest, context: Context
    ) -> pb.ContactMethod:
        data = request_value(request.contact_method, ContactMethodIn)
        done = await self._contacts.add_contact_method(current_principal(), request.user_id, data)
        return to_message(done, pb.ContactMethod)

    async def UpdateContactMethod(
        self, request: pb.UpdateContactMethodRequest, context: Context
    ) -> pb.ContactMethod:
        patch = request_value(request.patch, ContactMethodPatch)
        done = await self._contacts.update_contact_method(
            current_principal(), request.user_id, request.method_id, patch
        )
        return to_message(done, pb.ContactMethod)

    async def DeleteContactMethod(
        self, request: pb.DeleteContactMethodRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._contacts.delete_contact_method(
            current_principal(), request.user_id, request.method_id
        )
        return empty_pb2.Empty()

    async def GetNotificationRules(
        self, request: pb.GetNotificationRulesRequest, context: Context
    ) -> pb.NotificationRules:
        rules = await self._contacts.rules(current_principal(), request.user_id)
        return to_message(rules, pb.NotificationRules)

    async def AddNotificationRule(
        self, request: pb.AddNotificationRuleRequest, context: Context
    ) -> pb.NotificationRules:
        data = request_value(request.rule, RuleIn)
        rules = await self._contacts.add_rule(current_principal(), request.user_id, data)
        return to_message(rules, pb.NotificationRules)

    async def SetNotificationRules(
        self, request: pb.SetNotificationRulesRequest, context: Context
    ) -> pb.NotificationRules:
        data = request_value(request.rules, RulesIn)
        rules = await self._contacts.set_rules(current_principal(), request.user_id, data)
        return to_message(rules, pb.NotificationRules)

    async def DeleteNotificationRule(
        self, request: pb.DeleteNotificationRuleRequest, context: Context
    ) -> pb.NotificationRules:
        rules = await self._contacts.delete_rule(
            current_principal(), request.user_id, request.rule_id
        )
        return to_message(rules, pb.NotificationRules)

    async def ListShiftReminders(
        self, request: pb.ListShiftRemindersRequest, context: Context
    ) -> pb.ListShiftRemindersResponse:
        reminders = await self._contacts.reminders(current_principal(), request.user_id)
        return to_message(reminders, pb.ListShiftRemindersResponse)

    async def AddShiftReminder(
        self, request: pb.AddShiftReminderRequest, context: Context
    ) -> pb.ShiftReminder:
        data = request_value(request.reminder, ReminderIn)
        done = await self._contacts.add_reminder(current_principal(), request.user_id, data)
        return to_message(done, pb.ShiftReminder)

    async def DeleteShiftReminder(
        self, request: pb.DeleteShiftReminderRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._contacts.delete_reminder(
            current_principal(), request.user_id, request.reminder_id
        )
        return empty_pb2.Empty()

    async def SendContactMethodTest(
        self, request: pb.SendContactMethodTestRequest, context: Context
    ) -> pb.SendTestResponse:
        delivery_id = await self._tests.test_contact(
            current_principal(), request.user_id, request.method_id
        )
        return pb.SendTestResponse(delivery_id=delivery_id)

    async def SendShiftReminderTest(
        self, request: pb.SendShiftReminderTestRequest, context: Context
    ) -> pb.SendTestResponse:
        delivery_id = await self._tests.test_reminder(
            current_principal(), request.user_id, request.reminder_id
        )
        return pb.SendTestResponse(delivery_id=delivery_id)
