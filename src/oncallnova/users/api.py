"""What the users domain offers: the people and teams use cases (`UsersService`), and what
other domains may ask about people (`UsersInTx`).

The `…InTx` Protocols take an `AsyncSession` and run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal
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
from oncallnova.users.schemas import TeamIn, TeamOut, TeamPatch, UserIn, UserOut, UserPatch


@dataclass(frozen=True)
class Contact:
    """One contact method; which fields are set depends on `type`."""

    id: str
    type: str  # email | slack | mattermost | teams | ntfy
    name: str = ""
    address: str = ""  # email
    url: str = ""  # slack, mattermost, teams: the incoming webhook URL
    server: str = ""  # ntfy
    topic: str = ""  # ntfy
    token: str = ""  # ntfy, optional

    @property
    def label(self) -> str:
        """How people recognise it: its name, else its type and target."""
        return self.name or f"{self.type} {self.address or self.topic or ''}".strip()


@dataclass(frozen=True)
class Rule:
    contact_method_id: str
    delay_minutes: int


@dataclass(frozen=True)
class Reminder:
    id: str
    contact_method_id: str
    event: str  # "start" | "end"
    minutes_before: int
    created_at: datetime | None


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    time_zone: str
    role: str = "responder"
    # Whether, and where first, a page reaches them: their first email address, else
    # their first contact method of another kind; None: they have none.
    page_address: str | None = None
    contacts: tuple[Contact, ...] = ()
    # In the order they fire; empty: every contact method at once.
    rules: tuple[Rule, ...] = ()
    reminders: tuple[Reminder, ...] = ()

    def contact(self, contact_id: str) -> Contact | None:
        return next((c for c in self.contacts if c.id == contact_id), None)


class UsersInTx(Protocol):
    async def missing(self, session: AsyncSession, user_ids: list[str]) -> list[str]:
        """The ids among `user_ids` that name no user."""
        ...

    async def people(self, session: AsyncSession, user_ids: list[str]) -> dict[str, Person]: ...

    async def team_exists(self, session: AsyncSession, team_id: str) -> bool: ...

    async def with_reminders(self, session: AsyncSession) -> list[Person]:
        """Everyone who asked for shift reminders."""
        ...

    async def team_ids_of(self, session: AsyncSession, user_id: str) -> set[str]:
        """The teams the user is a member of."""
        ...


class UsersService(Protocol):
    async def list_users(self, actor: Principal) -> list[UserOut]: ...

    async def get_user(self, actor: Principal, user_id: str) -> UserOut: ...

    async def create_user(self, actor: Principal, data: UserIn) -> UserOut: ...

    async def update_user(self, actor: Principal, user_id: str, data: UserPatch) -> UserOut:
        """Admins change anything; responders their own name, time zone and contacts."""
        ...

    async def delete_user(self, actor: Principal, user_id: str) -> None:
        """Refused while a schedule layer or an escalation level names the user: deleting them would
        leave a slot that pages nobody."""
        ...

    async def list_teams(self, actor: Principal) -> list[TeamOut]: ...

    async def get_team(self, actor: Principal, team_id: str) -> TeamOut: ...

    async def create_team(self, actor: Principal, data: TeamIn) -> TeamOut: ...

    async def update_team(self, actor: Principal, team_id: str, data: TeamPatch) -> TeamOut: ...

    async def delete_team(self, actor: Principal, team_id: str) -> None: ...

    async def by_ical_token(self, token: str) -> UserOut | None: ...

    async def rotate_ical_token(self, actor: Principal, user_id: str) -> str:
        """A new secret for the user's calendar feed; the old URL stops working."""
        ...


class ContactsService(Protocol):
    """A person's contact methods, notification rules and shift reminders: each user
    reads and changes their own (responders), admins anyone's."""

    async def contact_methods(self, actor: Principal, user_id: str) -> list[ContactMethodOut]: ...

    async def add_contact_method(
        self, actor: Principal, user_id: str, data: ContactMethodIn
    ) -> ContactMethodOut: ...

    async def update_contact_method(
        self, actor: Principal, user_id: str, method_id: str, data: ContactMethodPatch
    ) -> ContactMethodOut: ...

    async def delete_contact_method(self, actor: Principal, user_id: str, method_id: str) -> None:
        """The rules and reminders that use it go with it."""
        ...

    async def rules(self, actor: Principal, user_id: str) -> RulesOut: ...

    async def add_rule(self, actor: Principal, user_id: str, data: RuleIn) -> RulesOut: ...

    async def set_rules(self, actor: Principal, user_id: str, data: RulesIn) -> RulesOut: ...

    async def delete_rule(self, actor: Principal, user_id: str, rule_id: str) -> RulesOut: ...

    async def reminders(self, actor: Principal, user_id: str) -> RemindersOut: ...

    async def add_reminder(
        self, actor: Principal, user_id: str, data: ReminderIn
    ) -> ReminderOut: ...

    async def delete_reminder(self, actor: Principal, user_id: str, reminder_id: str) -> None: ...
