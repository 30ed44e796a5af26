"""Refusing to delete what something else still points at.

A domain that is pointed at (users by schedules and policies, policies by services)
cannot import the domains that point at it, so the composition root hands it checks:
each answers, inside the deleting transaction, where the record is still used, in words
an admin can act on ("schedule 'Primary' (layer 'weekly')").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.errors import Conflict

UsageCheck = Callable[[AsyncSession, str], Awaitable[list[str]]]


async def refuse_if_used(
    session: AsyncSession, checks: list[UsageCheck], record_id: str, what: str
) -> None:
    """Raise Conflict naming every place that still uses `record_id`."""
    uses: list[str] = []
    for check in checks:
        uses.extend(await check(session, record_id))
    if uses:
        raise Conflict(f"{what} is still used by {'; '.join(uses)}: remove it there first")
