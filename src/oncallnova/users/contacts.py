"""Use cases of how a person is reached: contact methods, notification rules, reminders.

All three live on the user's row (JSON lists naming contact methods by id), so a change
is one row update: deleting a contact method takes the rules and reminders that use it
in the same write, and a page reads everything it needs with the person.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require, require_self_or
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import InvalidInput, NotFound
from oncallnova.core.ids import new_id
from oncallnova.users import store
from oncallnova.users.api import Contact, Person, Reminder, Rule
from oncallnova.users.contact_schemas import (
    FIELDS,
    OPTIONAL,
    ContactMethodIn,
    ContactMethodOut,
    ContactMethodPatch,
    ReminderIn,
    ReminderOut,
    RemindersOut,
    RuleIn,
    RuleOut,
    RulesIn,
    RulesOut,
)
from oncallnova.users.models import User

# Refuses a URL the server may not post to (see notify/ssrf.py), as InvalidInput.
UrlCheck = Callable[[str, str], Awaitable[None]]


class ContactPreferences:
    """Implements `ContactsService`."""

    def __init__(self, db: Database, clock: Clock, check_url: UrlCheck | None = None) -> None:
        self._db = db
        self._clock = clock
        self._check_url = check_url

    async def contact_methods(self, actor: Principal, user_id: str) -> list[ContactMethodOut]:
        require_self_or(actor, user_id, Role.admin)
        async with self._db.read() as session:
            user = await _user(session, user_id)
        return [ContactMethodOut.of(m) for m in user.contact_methods]

    async def add_contact_method(
        self, actor: Principal, user_id: str, data: ContactMethodIn
    ) -> ContactMethodOut:
        _may_edit(actor, user_id)
        await self._vet(data.model_dump())
        method = data.stored(new_id())
        async with self._db.write() as session:
            user = await _user(session, user_id)
            if len(user.contact_methods) >= 20:
                raise InvalidInput("at most 20 contact methods", field="contact_methods")
            user.contact_methods = [*user.contact_methods, method]
            self._touch(session, actor, user, "contact_method.create", method["id"])
        return ContactMethodOut.of(method)

    async def update_contact_method(
        self, actor: Principal, user_id: str, method_id: str, data: ContactMethodPatch
    ) -> ContactMethodOut:
        _may_edit(actor, user_id)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        async with self._db.read() as session:
            current = _method(await _user(session, user_id), method_id)
        merged = {**current, **changes}
        if merged.get("token") == "":
            del merged["token"]
        allowed = {"type", "name", *FIELDS[current["type"]], *OPTIONAL.get(current["type"], ())}
        try:
            checked = ContactMethodIn.model_validate({k: v for k, v in merged.items() if k != "id"})
        except ValueError as exc:
            raise InvalidInput(_first_error(exc), field=_bad_field(changes, allowed)) from exc
        await self._vet(changes)
        method = checked.stored(method_id)
        async with self._db.write() as session:
            user = await _user(session, user_id)
            _method(user, method_id)
            user.contact_methods = [
                method if m["id"] == method_id else m for m in user.contact_methods
            ]
            self._touch(session, actor, user, "contact_method.update", method_id)
        return ContactMethodOut.of(method)

    async def delete_contact_method(self, actor: Principal, user_id: str, method_id: str) -> None:
        _may_edit(actor, user_id)
        async with self._db.write() as session:
            user = await _user(session, user_id)
            _method(user, method_id)
            keep = [m for m in user.contact_methods if m["id"] != method_id]
            set_contact_methods(user, keep)
            self._touch(session, actor, user, "contact_method.delete", method_id)

    async def rules(self, actor: Principal, user_id: str) -> RulesOut:
        require_self_or(actor, user_id, Role.admin)
        async with self._db.read() as session:
            return _rules_out(await _user(session, user_id))

    async def add_rule(self, actor: Principal, user_id: str, data: RuleIn) -> RulesOut:
        return await self._change_rules(actor, user_id, lambda rules: [*rules, _rule(data)])

    async def set_rules(self, actor: Principal, user_id: str, data: RulesIn) -> RulesOut:
        return await self._change_rules(actor, user_id, lambda _: [_rule(r) for r in data.rules])

    async def delete_rule(self, actor: Principal, user_id: str, rule_id: str) -> RulesOut:
        def without(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if not any(r["id"] == rule_id for r in rules):
                raise NotFound(f"notification rule {rule_id} not found")
            return [r for r in rules if r["id"] != rule_id]

        return await self._change_rules(actor, user_id, without)

    async def reminders(self, actor: Principal, user_id: str) -> RemindersOut:
        require_self_or(actor, user_id, Role.admin)
        async with self._db.read() as session:
            user = await _user(session, user_id)
        return RemindersOut(reminders=[ReminderOut(**r) for r in _public(user.shift_reminders)])

    async def add_reminder(self, actor: Principal, user_id: str, data: ReminderIn) -> ReminderOut:
        _may_edit(actor, user_id)
        reminder = {
            "id": new_id(),
            **data.model_dump(),
            "created_at": self._clock.now().isoformat(),
        }
        async with self._db.write() as session:
            user = await _user(session, user_id)
            _method(user, data.contact_method_id, field="contact_method_id")
            if len(user.shift_reminders) >= 20:
                raise InvalidInput("at most 20 shift reminders", field="reminders")
            user.shift_reminders = [*user.shift_reminders, reminder]
            self._touch(session, actor, user, "shift_reminder.create", reminder["id"])
        return ReminderOut(**_public([reminder])[0])

    async def delete_reminder(self, actor: Principal, user_id: str, reminder_id: str) -> None:
        _may_edit(actor, user_id)
        async with self._db.write() as session:
            user = await _user(session, user_id)
            if not any(r["id"] == reminder_id for r in user.shift_reminders):
                raise NotFound(f"shift reminder {reminder_id} not found")
            user.shift_reminders = [r for r in user.shift_reminders if r["id"] != reminder_id]
            self._touch(session, actor, user, "shift_reminder.delete", reminder_id)

    async def _change_rules(
        self,
        actor: Principal,
        user_id: str,
        change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    ) -> RulesOut:
        _may_edit(actor, user_id)
        async with self._db.write() as session:
            user = await _user(session, user_id)
            rules = change(list(user.notification_rules))
            for n, rule in enumerate(rules):
                _method(user, rule["contact_method_id"], field=f"rules[{n}].contact_method_id")
            if len(rules) > 20:
                raise InvalidInput("at most 20 notification rules", field="rules")
            # Stable: rules with the same delay keep the order they were given in.
            user.notification_rules = sorted(rules, key=lambda r: r["delay_minutes"])
            self._touch(session, actor, user, "notification_rules.update", user_id)
            return _rules_out(user)

    async def _vet(self, fields: dict[str, Any]) -> None:
        await vet_urls(self._check_url, fields)

    def _touch(
        self, session: AsyncSession, actor: Principal, user: User, action: str, target: str
    ) -> None:
        user.updated_at = self._clock.now()
        note(session, actor, action, "user", user.id, {"id": target})


async def vet_urls(check_url: UrlCheck | None, fields: dict[str, Any]) -> None:
    """Refuses a contact method's `url` or `server` the server may not post to."""
    if check_url is None:
        return
    for field in ("url", "server"):
        if fields.get(field):
            await check_url(fields[field], field)


def set_contact_methods(user: User, methods: list[dict[str, Any]]) -> None:
    """Store `methods`; the rules and reminders naming a method no longer there go."""
    ids = {m["id"] for m in methods}
    user.contact_methods = methods
    user.notification_rules = [
        r for r in user.notification_rules or [] if r["contact_method_id"] in ids
    ]
    user.shift_reminders = [r for r in user.shift_reminders or [] if r["contact_method_id"] in ids]


def replace_contact_methods(user: User, wanted: list[ContactMethodIn]) -> None:
    """The user's contact methods become `wanted`; one equal to a method kept keeps its
    id, and with it the rules and reminders that use it."""
    old = {_identity(m): m["id"] for m in user.contact_methods or []}
    methods = []
    for item in wanted:
        stored = item.stored("")
        stored["id"] = old.pop(_identity(stored), None) or new_id()
        methods.append(stored)
    set_contact_methods(user, methods)


def person_of(user: User) -> Person:
    contacts = tuple(
        Contact(
            id=m["id"],
            type=m.get("type", "email"),
            name=m.get("name", ""),
            address=m.get("address", ""),
            url=m.get("url", ""),
            server=m.get("server", ""),
            topic=m.get("topic", ""),
            token=m.get("token", ""),
        )
        for m in user.contact_methods or []
        if m.get("id")
    )
    emails = [c.address for c in contacts if c.type == "email" and c.address.strip()]
    first = emails[0].strip() if emails else None
    if first is None and contacts:
        first = f"{contacts[0].type}:{contacts[0].url or contacts[0].server}"
    return Person(
        user.id,
        user.name,
        user.email,
        user.time_zone,
        user.role,
        first,
        contacts,
        tuple(Rule(r["contact_method_id"], r["delay_minutes"]) for r in user.notification_rules),
        tuple(
            Reminder(
                r["id"],
                r["contact_method_id"],
                r["event"],
                int(r.get("minutes_before") or 0),
                datetime.fromisoformat(r["created_at"]) if r.get("created_at") else None,
            )
            for r in user.shift_reminders or []
        ),
    )


def _identity(method: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(method.get(f) for f in ("type", "address", "url", "server", "topic", "token"))


def _rule(data: RuleIn) -> dict[str, Any]:
    return {"id": new_id(), **data.model_dump()}


def _rules_out(user: User) -> RulesOut:
    rules = [RuleOut(**r) for r in user.notification_rules or []]
    return RulesOut(rules=rules, default=not rules)


def _public(reminders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "created_at"} for r in reminders]


def _may_edit(actor: Principal, user_id: str) -> None:
    require(actor, Role.responder)
    require_self_or(actor, user_id, Role.admin)


async def _user(session: AsyncSession, user_id: str) -> User:
    user = await store.user(session, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def _method(user: User, method_id: str, field: str | None = None) -> dict[str, Any]:
    for method in user.contact_methods or []:
        if method.get("id") == method_id:
            return dict(method)
    message = f"contact method {method_id} not found"
    if field is not None:
        raise InvalidInput(message, field=field)
    raise NotFound(message)


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            return str(found[0].get("msg", exc)).removeprefix("Value error, ")
    return str(exc)


def _bad_field(changes: dict[str, Any], allowed: set[str]) -> str | None:
    return next((f for f in changes if f not in allowed), next(iter(changes), None))
