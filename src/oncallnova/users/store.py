"""Queries of users and teams. Takes a session; never commits."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.users.models import Team, TeamMember, User


async def user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def user_by_ical_token(session: AsyncSession, token: str) -> User | None:
    query = select(User).where(User.ical_token == token)
    return (await session.execute(query)).scalar_one_or_none()


async def users(session: AsyncSession, ids: list[str] | None = None) -> list[User]:
    query = select(User).order_by(User.name, User.id)
    if ids is not None:
        if not ids:
            return []
        query = query.where(User.id.in_(ids))
    return list((await session.execute(query)).scalars())


async def lock_admin_ids(session: AsyncSession) -> list[str]:
    """The admins, their rows locked on PostgreSQL until the transaction ends, so that
    two admins demoting each other at once cannot both see the other one left (SQLite
    has a single writer)."""
    query = select(User.id).where(User.role == "admin").with_for_update()
    return list((await session.execute(query)).scalars())


async def count_users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def team(session: AsyncSession, team_id: str) -> Team | None:
    return await session.get(Team, team_id)


async def team_by_name(session: AsyncSession, name: str) -> Team | None:
    return (await session.execute(select(Team).where(Team.name == name))).scalar_one_or_none()


async def teams(session: AsyncSession) -> list[Team]:
    return list((await session.execute(select(Team).order_by(Team.name))).scalars())


async def members(session: AsyncSession, team_ids: list[str]) -> dict[str, list[str]]:
    if not team_ids:
        return {}
    rows = await session.execute(
        select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.team_id.in_(team_ids))
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row.team_id, []).append(row.user_id)
    return out


async def team_ids_of(session: AsyncSession, user_id: str) -> set[str]:
    rows = await session.execute(select(TeamMember.team_id).where(TeamMember.user_id == user_id))
    return set(rows.scalars())


async def set_members(session: AsyncSession, team_id: str, user_ids: list[str]) -> None:
    await session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
    if user_ids:
        await session.execute(
            insert(TeamMember), [{"team_id": team_id, "user_id": u} for u in user_ids]
        )
