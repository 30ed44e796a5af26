"""Database engines and units of work.

The caller owns the transaction: `async with db.write() as session` commits when the
block ends without error and rolls back otherwise; store functions never commit.

On SQLite every write goes through one pooled connection that starts its transactions
with BEGIN IMMEDIATE, so writers queue for the file lock up front instead of failing when
a read transaction tries to become a write one. Reads use their own connections (WAL lets
them run beside the writer).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


class Database:
    def __init__(
        self, url: str, *, pool_size: int = 10, sqlite_synchronous: str = "NORMAL"
    ) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.outage = Outage()
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(
                url, sqlite_synchronous, immediate=False, pool_size=pool_size
            )
            self.write_engine = _sqlite_engine(url, sqlite_synchronous, immediate=True, pool_size=1)
            self.unpinged_engine = self.write_engine
        else:
            self.engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.write_engine = self.engine
            # For loops that write back to back (the ingestion writers): a ping costs
            # them three round trips per transaction. Their callers make a transaction
            # again when its connection turns out closed before the commit (`closed`).
            self.unpinged_engine = create_async_engine(
                url, pool_size=2, max_overflow=pool_size, pool_pre_ping=False
            )
            # Nothing proves the database answers on checkout there; a commit does.
            event.listen(self.unpinged_engine.sync_engine, "commit", self.outage.on_checkout)
        self.before_commit: list[Callable[[AsyncSession], Awaitable[None]]] = []
        self.after_commit: list[Callable[[AsyncSession], None]] = []
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        for pooled in {self.engine, self.write_engine}:
            # A connection handed out (pre-pinged on PostgreSQL) means the database answers.
            event.listen(pooled.sync_engine, "checkout", self.outage.on_checkout)
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._unpinged_sessions = async_sessionmaker(self.unpinged_engine, expire_on_commit=False)

    @property
    def engines(self) -> list[AsyncEngine]:
        """Each distinct engine once (on SQLite the unpinged one is the write engine)."""
        return list(dict.fromkeys([self.engine, self.write_engine, self.unpinged_engine]))

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @asynccontextmanager
    async def write(self, *, pinged: bool = True) -> AsyncIterator[AsyncSession]:
        """A write transaction. `before_commit` hooks run inside it (the outbox turns
        recorded events into rows there); `after_commit` hooks run once it is durable.
        With `pinged=False` its connection is not checked first (see `unpinged_engine`)."""
        sessions = self._write_sessions if pinged else self._unpinged_sessions
        async with sessions() as session:
            async with session.begin():
                yield session
                for hook in self.before_commit:
                    await hook(session)
            for after in self.after_commit:
                after(session)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def _sqlite_engine(url: str, synchronous: str, *, immediate: bool, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=0, connect_args={"timeout": 30}
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# --- When the database is down --------------------------------------------------------

log = logging.getLogger("oncallnova.db")

# SQLSTATE classes of a server that cannot serve: connection exceptions (08), operator
# intervention (57: shutting down, starting up), insufficient resources (53).
_UNAVAILABLE_CLASSES = ("08", "57", "53")
_SQLITE_UNAVAILABLE = ("locked", "disk", "unable to open", "readonly")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error SQLAlchemy wraps, and their causes."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([getattr(current, "orig", None), current.__cause__])


def _driver_error(error: BaseException) -> BaseException:
    """What the driver or the socket said, without SQLAlchemy's wrapping."""
    orig = getattr(error, "orig", None)
    return orig if isinstance(orig, BaseException) else error


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE code PostgreSQL gave for `error`, if any."""
    for part in _chain(error):
        code = getattr(part, "sqlstate", None)
        if isinstance(code, str):
            return code
    return None


def closed(error: BaseException) -> bool:
    """Whether `error` says the connection a statement was sent on had closed (the
    database restarted, say): a transaction that failed so before its commit can be made
    again on a new connection."""
    return any(
        isinstance(part, exc.DBAPIError) and part.connection_invalidated for part in _chain(error)
    )


def unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or cannot serve now (an
    outage, worth retrying later), rather than that a statement or a value was wrong.

    The PostgreSQL driver raises its own and the socket's errors (refused, reset,
    timed out, "cannot connect now") without SQLAlchemy's DBAPI wrapping when a
    connection is being opened, so the whole chain is looked at."""
    code = sqlstate(error)
    if code is not None:
        return code[:2] in _UNAVAILABLE_CLASSES
    for part in _chain(error):
        if isinstance(part, exc.DBAPIError) and part.connection_invalidated:
            return True
        if isinstance(part, OSError | asyncpg.InterfaceError | exc.InterfaceError):
            return True
        if isinstance(part, sqlite3.OperationalError):
            message = str(part).lower()
            return any(word in message for word in _SQLITE_UNAVAILABLE)
    return False


# Failures reported this soon after the database answered again are stragglers of the
# outage that just ended (a connection attempted while PostgreSQL was still starting,
# whose error arrives after another connection's success), not a new outage.
STRAGGLER_SECONDS = 1.0


class Outage:
    """Logs once when the database stops answering and once when it answers again,
    instead of a traceback per failed request or engine pass."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.since: float | None = None
        self.failures = 0
        self._clock = clock
        self._back_at = float("-inf")

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException) -> None:
        """Record a failure that `unavailable(error)` judged an outage."""
        if self.since is None and self._clock() - self._back_at < STRAGGLER_SECONDS:
            return
        self.failures += 1
        if self.since is None:
            self.since = self._clock()
            root = _driver_error(error)
            log.error(
                "database unavailable (%s: %s); answering 503 with Retry-After until it is back",
                type(root).__name__,
                root,
            )

    def on_checkout(self, *_: Any) -> None:
        if self.since is not None:
            self._back_at = self._clock()
            seconds = self._back_at - self.since
            log.warning(
                "database available again after %.1f s (%d requests or passes failed meanwhile)",
                seconds,
                self.failures,
            )
            self.since = None
            self.failures = 0
