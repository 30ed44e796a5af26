"""What in the service catalogue uses a record another domain is asked to delete."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.services import store


async def policy_uses(session: AsyncSession, policy_id: str) -> list[str]:
    """The services that page with `policy_id`, in words (to refuse deleting it)."""
    return [f"service '{name}'" for name in await store.names_using_policy(session, policy_id)]
