"""`AuthService` and `AuditService` over `oncallnova.v1.AuthService`.

Passwords and tokens travel in the request messages only: never in metadata, never in
a log line or an error raised here.
"""

from __future__ import annotations

from typing import Any

import grpc
from pydantic import BaseModel

from oncallnova.auth.schemas import ApiTokenCreated, ApiTokenOut, AuditOut, TokenOut
from oncallnova.core.authz import Principal, Role
from oncallnova.transport.grpc.clients.calls import read, send, write
from oncallnova.transport.grpc.gen.oncallnova.v1 import auth_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import auth_pb2_grpc as pb_grpc


class _Authenticated(BaseModel):
    """Authenticate's reply; the principal's role is read by name below."""

    principal: dict[str, Any]
    csrf_token: str | None = None


class AuthClient:
    """Implements `auth.api.AuthService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.AuthServiceStub(channel)

    async def authenticate(self, token: str, ip: str | None) -> tuple[Principal, str | None]:
        request = pb.AuthenticateRequest(token=token, ip=ip)
        found: _Authenticated = await read(None, self._stub.Authenticate, request, _Authenticated)
        who = found.principal
        return Principal(**{**who, "role": Role[who["role"]]}), found.csrf_token

    async def bootstrap_admin(self, email: str | None, password: str | None) -> str | None:
        request = pb.BootstrapAdminRequest(email=email, password=password)
        stub = self._stub.BootstrapAdmin
        return await write(None, stub, request, str | None, "generated_password")

    async def create_api_token(self, actor: Principal, name: str) -> ApiTokenCreated:
        request = pb.CreateApiTokenRequest(name=name)
        return await write(actor, self._stub.CreateApiToken, request, ApiTokenCreated)

    async def list_api_tokens(self, actor: Principal) -> list[ApiTokenOut]:
        request = pb.ListApiTokensRequest()
        return await read(actor, self._stub.ListApiTokens, request, list[ApiTokenOut], "items")

    async def login(self, email: str, password: str, ip: str | None) -> TokenOut:
        request = pb.LoginRequest(email=email, password=password, ip=ip)
        return await write(None, self._stub.Login, request, TokenOut)

    async def logout(self, token: str) -> None:
        await send(None, self._stub.Logout, pb.LogoutRequest(token=token))

    async def revoke_api_token(self, actor: Principal, token_id: str) -> ApiTokenOut:
        request = pb.RevokeApiTokenRequest(token_id=token_id)
        return await write(actor, self._stub.RevokeApiToken, request, ApiTokenOut)

    async def set_password(self, actor: Principal, user_id: str, password: str) -> None:
        request = pb.SetPasswordRequest(user_id=user_id, password=password)
        await send(actor, self._stub.SetPassword, request)


class AuditClient:
    """Implements `auth.api.AuditService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.AuthServiceStub(channel)

    async def list(
        self, actor: Principal, limit: int = 100, before_id: int | None = None
    ) -> list[AuditOut]:
        request = pb.ListAuditEntriesRequest(limit=limit, before_id=before_id)
        return await read(actor, self._stub.ListAuditEntries, request, list[AuditOut], "items")
