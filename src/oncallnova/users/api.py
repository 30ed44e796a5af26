"""What the users domain offers: the people and teams use cases (`UsersService`), and what
other domains may ask about people (`UsersApi`).

The Protocols whose methods take an `AsyncSession` run inside the caller's transaction,
in the same process; they never cross a wire. The `...Service` Protocols are the use
cases: a `Principal` and typed values in, typed values out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.authz import Principal
from oncallnova.users.schemas import TeamIn, TeamOut, TeamPatch, UserIn, UserOut, UserPatch


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    time_zone: str
    role: str = "responder"
    # Where a page reaches them (their first email contact method); None: nowhere.
    page_address: str | None = None


class UsersApi(Protocol):
    async def missing(self, session: AsyncSession, user_ids: list[str]) -> list[str]:
        """The ids among `user_ids` that name no user."""
        ...

    async def people(self, session: AsyncSession, user_ids: list[str]) -> dict[str, Person]: ...

    async def team_exists(self, session: AsyncSession, team_id: str) -> bool: ...

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
