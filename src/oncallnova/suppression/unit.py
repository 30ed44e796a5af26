"""One change to silences or windows: a retried write transaction, then the cache drop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.db import Database
from oncallnova.core.errors import InvalidInput
from oncallnova.core.retry import retry_conflicts
from oncallnova.incidents.api import HoldScope, HoldsInTx
from oncallnova.suppression.active import QuietCache

T = TypeVar("T")


async def write(
    db: Database, cache: QuietCache, work: Callable[[AsyncSession], Awaitable[T]], field: str
) -> T:
    """Run `work` in a write transaction (again on a transient conflict). A service
    deleted meanwhile is a 422 on `field`. The cache is dropped once the transaction is
    over, so this process's next batch reads what was committed."""

    async def attempt() -> T:
        async with db.write() as session:
            return await work(session)

    try:
        return await retry_conflicts(attempt)
    except IntegrityError as exc:
        raise InvalidInput(f"{field}: no such service", field=field) from exc
    finally:
        cache.forget()


async def reapply(
    session: AsyncSession,
    cache: QuietCache,
    holds: HoldsInTx,
    now: datetime,
    actor: str,
    scope: HoldScope,
    previous: HoldScope | None = None,
) -> None:
    """Hold and release the incidents a change concerns, in its transaction: those of
    `scope` (what the silence or window covers now) and of `previous` (before)."""
    view = await cache.view(session, now, fresh=True)
    await holds.recheck(session, view, now, actor, scope)
    if previous is not None and previous != scope:
        await holds.recheck(session, view, now, actor, previous)
