"""Authentication: sign-in, access tokens, API tokens, the first admin."""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.auth import secrets as keys
from oncallnova.auth.models import ApiToken, Credential
from oncallnova.core.audit import note
from oncallnova.core.authz import SYSTEM, Principal, Role, require, require_self_or
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import InvalidInput, NotFound, Overloaded, Unauthenticated
from oncallnova.core.ids import new_id
from oncallnova.users.api import Person
from oncallnova.users.schemas import UserIn
from oncallnova.users.service import UserService

log = logging.getLogger(__name__)
MIN_PASSWORD = 12


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    csrf_token: str


class ApiTokenOut(BaseModel):
    id: str
    name: str
    prefix: str
    user_id: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenOut):
    token: str


class FailureWindow:
    """Counts failed sign-ins per key over a sliding window (in this process)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> int:
        window = self._trim(key)
        if len(window) < self.limit:
            return 0
        return max(1, int(window[0] + self.seconds - time.monotonic()) + 1)

    def fail(self, key: str) -> None:
        if len(self._failures) > 50_000:
            self._failures.clear()
        self._failures.setdefault(key, deque()).append(time.monotonic())

    def _trim(self, key: str) -> deque[float]:
        window = self._failures.get(key, deque())
        while window and window[0] < time.monotonic() - self.seconds:
            window.popleft()
        return window


class AuthService:
    def __init__(
        self, db: Database, clock: Clock, users: UserService, *, secret: str, lifetime: timedelta
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._secret = secret
        self.lifetime = lifetime
        self.per_account = FailureWindow(limit=5, seconds=300)
        self.per_ip = FailureWindow(limit=20, seconds=300)

    async def login(self, email: str, password: str, ip: str | None) -> TokenOut:
        email = email.strip().lower()
        wait = max(self.per_account.retry_after(email), self.per_ip.retry_after(ip or "-"))
        if wait:
            log.warning("sign-in refused (too many failures) for %s from %s", email, ip)
            raise Overloaded(f"too many failed sign-ins; retry in {wait} s", retry_after=wait)
        async with self._db.read() as session:
            person = await self._users.by_email(session, email)
            stored = await session.get(Credential, person.id) if person else None
        if stored is None:
            keys.dummy_check()
        if stored is None or not keys.check_password(stored.password_hash, password):
            self.per_account.fail(email)
            self.per_ip.fail(ip or "-")
            log.warning("failed sign-in for %s from %s", email, ip)
            raise Unauthenticated("wrong email or password")
        assert person is not None
        return self.issue(person.id)

    def issue(self, user_id: str) -> TokenOut:
        csrf = secrets.token_urlsafe(24)
        token = keys.issue_jwt(self._secret, user_id, self._clock.now(), self.lifetime, csrf)
        return TokenOut(
            access_token=token, expires_in=int(self.lifetime.total_seconds()), csrf_token=csrf
        )

    async def authenticate(self, token: str, ip: str | None) -> tuple[Principal, str | None]:
        """The principal a bearer token names, and the CSRF value bound to it (JWT only)."""
        if token.startswith(keys.API_TOKEN_PREFIX):
            return await self._api_token(token, ip), None
        claims = keys.read_jwt(self._secret, token, self._clock.now())
        if claims is None:
            raise Unauthenticated("invalid or expired token")
        async with self._db.read() as session:
            person = (await self._users.people(session, [str(claims["sub"])])).get(
                str(claims["sub"])
            )
        if person is None:
            raise Unauthenticated("the token's user no longer exists")
        return _principal(person, ip, "jwt"), str(claims.get("csrf", ""))

    async def _api_token(self, token: str, ip: str | None) -> Principal:
        digest = keys.token_digest(token)
        now = self._clock.now()
        async with self._db.read() as session:
            row = (
                await session.execute(select(ApiToken).where(ApiToken.token_hash == digest))
            ).scalar_one_or_none()
            person = (
                (await self._users.people(session, [row.user_id])).get(row.user_id)
                if row is not None and row.revoked_at is None
                else None
            )
        if row is None or person is None:
            raise Unauthenticated("invalid or revoked API token")
        if row.last_used_at is None or now - row.last_used_at > timedelta(seconds=60):
            async with self._db.write() as session:  # at most one write a minute per token
                stored = await session.get(ApiToken, row.id)
                if stored is not None:
                    stored.last_used_at = now
        return _principal(person, ip, "api-token")

    async def set_password(self, actor: Principal, user_id: str, password: str) -> None:
        require_self_or(actor, user_id, Role.admin)
        _check_password(password)
        async with self._db.write() as session:
            if await self._users.missing(session, [user_id]):
                raise NotFound(f"user {user_id} not found")
            await self._store_password(session, user_id, password)
            note(session, actor, "user.set_password", "user", user_id)

    async def create_user(self, actor: Principal, data: UserIn, password: str) -> str:
        _check_password(password)
        user = await self._users.create_user(actor, data)
        async with self._db.write() as session:
            await self._store_password(session, user.id, password)
        return user.id

    async def bootstrap_admin(self, email: str | None, password: str | None) -> str | None:
        """On first start with no users: an admin from the settings, or with a generated
        password, which is returned so it can be printed once."""
        async with self._db.read() as session:
            if await self._users.count(session):
                return None
        generated = None
        if not password:
            generated = password = secrets.token_urlsafe(18)
        await self.create_user(
            SYSTEM,
            UserIn(name="Admin", email=email or "admin@oncallnova.local", role="admin"),
            password,
        )
        return generated

    async def create_api_token(self, actor: Principal, name: str) -> ApiTokenCreated:
        require(actor, Role.responder)
        token = keys.new_api_token()
        row = ApiToken(
            id=new_id(),
            user_id=actor.user_id,
            name=name,
            token_hash=keys.token_digest(token),
            prefix=token[:12],
            created_at=self._clock.now(),
            last_used_at=None,
            revoked_at=None,
        )
        async with self._db.write() as session:
            session.add(row)
            note(session, actor, "api_token.create", "api_token", row.id, {"name": name})
        return ApiTokenCreated(**_token_out(row).model_dump(), token=token)

    async def list_api_tokens(self, actor: Principal) -> list[ApiTokenOut]:
        require(actor, Role.viewer)
        query = select(ApiToken).order_by(ApiToken.created_at)
        if actor.role < Role.admin:
            query = query.where(ApiToken.user_id == actor.user_id)
        async with self._db.read() as session:
            return [_token_out(t) for t in (await session.execute(query)).scalars()]

    async def revoke_api_token(self, actor: Principal, token_id: str) -> ApiTokenOut:
        require(actor, Role.responder)
        async with self._db.write() as session:
            row = await session.get(ApiToken, token_id)
            if row is None or (row.user_id != actor.user_id and actor.role < Role.admin):
                raise NotFound(f"API token {token_id} not found")
            if row.revoked_at is None:
                row.revoked_at = self._clock.now()
            note(session, actor, "api_token.revoke", "api_token", token_id)
        return _token_out(row)

    async def _store_password(self, session: AsyncSession, user_id: str, password: str) -> None:
        stored = await session.get(Credential, user_id)
        digest = keys.hash_password(password)
        if stored is None:
            session.add(
                Credential(user_id=user_id, password_hash=digest, updated_at=self._clock.now())
            )
        else:
            stored.password_hash = digest
            stored.updated_at = self._clock.now()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"the password must have at least {MIN_PASSWORD} characters", field="password"
        )


def _principal(person: Person, ip: str | None, via: str) -> Principal:
    return Principal(
        user_id=person.id,
        name=person.name,
        email=person.email,
        role=Role[person.role],
        ip=ip,
        via=via,
    )


def _token_out(row: ApiToken) -> ApiTokenOut:
    return ApiTokenOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        user_id=row.user_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
