"""Authentication: sign-in, access tokens, API tokens, the first admin."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.auth import secrets as keys
from oncallnova.auth.models import ApiToken, AuthSession, Credential
from oncallnova.auth.schemas import ApiTokenCreated, ApiTokenOut, TokenOut
from oncallnova.auth.throttle import MemoryFailures, SignInThrottle
from oncallnova.core.audit import note
from oncallnova.core.authz import SYSTEM, Principal, Role, require, require_self_or
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Overloaded,
    Unauthenticated,
)
from oncallnova.core.ids import new_id
from oncallnova.users.api import Person
from oncallnova.users.schemas import UserIn
from oncallnova.users.service import UserService

log = logging.getLogger(__name__)
MIN_PASSWORD = 12


class AuthService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        users: UserService,
        *,
        secret: str,
        lifetime: timedelta,
        throttle: SignInThrottle | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._secret = secret
        self.lifetime = lifetime
        self.throttle = throttle or SignInThrottle(MemoryFailures())

    async def login(self, email: str, password: str, ip: str | None) -> TokenOut:
        email = email.strip().lower()
        wait = await self.throttle.wait(email, ip)
        if wait:
            log.warning("sign-in refused (too many failures) for %s from %s", email, ip)
            raise Overloaded(f"too many failed sign-ins; retry in {wait} s", retry_after=wait)
        async with self._db.read() as session:
            person = await self._users.by_email(session, email)
            stored = await session.get(Credential, person.id) if person else None
        if stored is None:
            keys.dummy_check()
        if stored is None or not keys.check_password(stored.password_hash, password):
            await self.throttle.failed(email, ip)
            log.warning("failed sign-in for %s from %s", email, ip)
            raise Unauthenticated("wrong email or password")
        assert person is not None
        await self.throttle.succeeded(email, ip)
        return await self.issue(person.id, ip)

    async def issue(self, user_id: str, ip: str | None = None) -> TokenOut:
        """A new sign-in session of the user and an access token naming it (`sid`)."""
        now = self._clock.now()
        row = AuthSession(
            id=new_id(),
            user_id=user_id,
            created_at=now,
            expires_at=now + self.lifetime,
            revoked_at=None,
            ip=ip,
        )
        async with self._db.write() as session:
            # The user's ended sessions are of no use any more: tidied up here, by index.
            await session.execute(
                delete(AuthSession).where(
                    AuthSession.user_id == user_id, AuthSession.expires_at <= now
                )
            )
            session.add(row)
        csrf = secrets.token_urlsafe(24)
        token = keys.issue_jwt(self._secret, user_id, now, self.lifetime, csrf, row.id)
        return TokenOut(
            access_token=token, expires_in=int(self.lifetime.total_seconds()), csrf_token=csrf
        )

    async def authenticate(self, token: str, ip: str | None) -> tuple[Principal, str | None]:
        """The principal a bearer token names, and the CSRF value bound to it (JWT only).

        A JWT is only as good as its session row: the row is read on every request (by
        primary key), so signing out or changing the password ends it in every process.
        """
        if token.startswith(keys.API_TOKEN_PREFIX):
            return await self._api_token(token, ip), None
        now = self._clock.now()
        claims = keys.read_jwt(self._secret, token, now)
        if claims is None:
            raise Unauthenticated("invalid or expired token")
        user_id, sid = str(claims["sub"]), claims.get("sid")
        if not isinstance(sid, str):
            raise Unauthenticated("this token predates sign-in sessions; sign in again")
        async with self._db.read() as session:
            row = await session.get(AuthSession, sid)
            live = row is not None and row.user_id == user_id and _live(row, now)
            person = (await self._users.people(session, [user_id])).get(user_id) if live else None
        if not live:
            raise Unauthenticated("the session has ended (signed out or password changed)")
        if person is None:
            raise Unauthenticated("the token's user no longer exists")
        who = _principal(person, ip, "jwt")
        return dataclasses.replace(who, session_id=sid), str(claims.get("csrf", ""))

    async def logout(self, token: str) -> None:
        """Ends the session a JWT names (if it is one and still valid); API tokens are
        revoked on their own, never by signing out."""
        claims = keys.read_jwt(self._secret, token, self._clock.now())
        sid = claims.get("sid") if claims is not None else None
        if not isinstance(sid, str):
            return
        async with self._db.write() as session:
            row = await session.get(AuthSession, sid)
            if row is not None and row.revoked_at is None:
                row.revoked_at = self._clock.now()

    async def aclose(self) -> None:
        await self.throttle.aclose()

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
        # Every other session of the user ends: whoever knew the old password is out.
        # Changing your own keeps the session you changed it from.
        keep = actor.session_id if actor.user_id == user_id else None
        async with self._db.write() as session:
            if await self._users.missing(session, [user_id]):
                raise NotFound(f"user {user_id} not found")
            await self._store_password(session, user_id, password)
            ended = update(AuthSession).where(
                AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
            )
            if keep is not None:
                ended = ended.where(AuthSession.id != keep)
            await session.execute(ended.values(revoked_at=self._clock.now()))
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
        try:
            await self.create_user(
                SYSTEM,
                UserIn(name="Admin", email=email or "admin@oncallnova.local", role="admin"),
                password,
            )
        except Conflict:
            return None  # replicas starting together: another one made the admin first
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


def _live(row: AuthSession, now: datetime) -> bool:
    return row.revoked_at is None and row.expires_at > now


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
