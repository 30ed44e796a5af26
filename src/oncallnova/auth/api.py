"""The sign-in, session, token and audit use cases the transports call."""

from __future__ import annotations

from typing import Protocol

from oncallnova.auth.schemas import ApiTokenCreated, ApiTokenOut, AuditOut, TokenOut
from oncallnova.core.authz import Principal


class AuthService(Protocol):
    async def authenticate(self, token: str, ip: str | None) -> tuple[Principal, str | None]:
        """The principal a bearer token names, and the CSRF value bound to it (JWT only). A JWT is
        only as good as its session row: the row is read on every request (by primary key), so
        signing out or changing the password ends it in every process."""
        ...

    async def bootstrap_admin(self, email: str | None, password: str | None) -> str | None:
        """On first start with no users: an admin from the settings, or with a generated password,
        which is returned so it can be printed once."""
        ...

    async def create_api_token(self, actor: Principal, name: str) -> ApiTokenCreated: ...

    async def list_api_tokens(self, actor: Principal) -> list[ApiTokenOut]: ...

    async def login(self, email: str, password: str, ip: str | None) -> TokenOut: ...

    async def logout(self, token: str) -> None:
        """Ends the session a JWT names (if it is one and still valid); API tokens are revoked on
        their own, never by signing out."""
        ...

    async def revoke_api_token(self, actor: Principal, token_id: str) -> ApiTokenOut: ...

    async def set_password(self, actor: Principal, user_id: str, password: str) -> None: ...


class AuditService(Protocol):
    async def list(
        self, actor: Principal, limit: int = 100, before_id: int | None = None
    ) -> list[AuditOut]: ...
