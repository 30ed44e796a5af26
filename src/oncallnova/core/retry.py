"""Retrying a whole transaction when PostgreSQL reports a transient conflict."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")

# deadlock_detected, serialization_failure: PostgreSQL ended the transaction; sent again,
# it normally passes.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})
# Those, and unique_violation (a racing insert won).
TRANSIENT_SQLSTATES = CONFLICT_SQLSTATES | {"23505"}


class RetryTransaction(Exception):
    """Raised inside a transaction whose assumptions a concurrent one broke."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, RetryTransaction):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code is None and orig is not None:
        code = getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return code in TRANSIENT_SQLSTATES


async def retry_conflicts(work: Callable[[], Awaitable[T]], attempts: int = 5) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except Exception as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            log.info("transaction conflict (%s); retrying, attempt %d", type(exc).__name__, attempt)
            await asyncio.sleep(random.uniform(0.001, 0.02) * attempt)  # noqa: S311
    raise AssertionError("unreachable")
