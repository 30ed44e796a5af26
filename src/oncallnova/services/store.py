"""Queries of the service catalogue. Takes a session; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.services.models import IntegrationKey, Service


async def get(session: AsyncSession, service_id: str) -> Service | None:
    return await session.get(Service, service_id)


async def by_name(session: AsyncSession, name: str) -> Service | None:
    return (await session.execute(select(Service).where(Service.name == name))).scalar_one_or_none()


async def list_all(session: AsyncSession) -> list[Service]:
    return list((await session.execute(select(Service).order_by(Service.name))).scalars())


async def by_ids(session: AsyncSession, service_ids: list[str]) -> list[Service]:
    query = select(Service).where(Service.id.in_(sorted(set(service_ids))))
    return list((await session.execute(query)).scalars())


async def keys_of(session: AsyncSession, service_ids: list[str]) -> list[IntegrationKey]:
    if not service_ids:
        return []
    query = (
        select(IntegrationKey)
        .where(IntegrationKey.service_id.in_(service_ids))
        .order_by(IntegrationKey.created_at)
    )
    return list((await session.execute(query)).scalars())


async def key_by_id(session: AsyncSession, service_id: str, key_id: str) -> IntegrationKey | None:
    key = await session.get(IntegrationKey, key_id)
    return key if key is not None and key.service_id == service_id else None


async def active_key(session: AsyncSession, key: str) -> tuple[IntegrationKey, Service] | None:
    query = (
        select(IntegrationKey, Service)
        .join(Service, Service.id == IntegrationKey.service_id)
        .where(IntegrationKey.key == key, IntegrationKey.revoked_at.is_(None))
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def names(session: AsyncSession, service_ids: list[str]) -> dict[str, str]:
    if not service_ids:
        return {}
    rows = await session.execute(
        select(Service.id, Service.name).where(Service.id.in_(service_ids))
    )
    return {row.id: row.name for row in rows}


async def names_using_policy(session: AsyncSession, policy_id: str) -> list[str]:
    query = select(Service.name).where(Service.escalation_policy_id == policy_id)
    return list((await session.execute(query.order_by(Service.name))).scalars())


async def with_timeouts(session: AsyncSession) -> list[Service]:
    query = select(Service).where(
        (Service.ack_timeout_seconds.is_not(None)) | (Service.auto_resolve_seconds.is_not(None))
    )
    return list((await session.execute(query.order_by(Service.id))).scalars())


async def remove(session: AsyncSession, service_id: str) -> None:
    await session.execute(delete(Service).where(Service.id == service_id))


def touch(service: Service, now: datetime) -> None:
    service.updated_at = now
