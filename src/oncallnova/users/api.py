"""What other domains may ask about people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


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
