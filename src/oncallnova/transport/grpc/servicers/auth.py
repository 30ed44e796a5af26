"""`oncallnova.v1.AuthService` over the sign-in, token and audit use cases.

Requests carry passwords and tokens: nothing here logs a request or puts one of its
values in an error.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from oncallnova.auth.api import AuditService, AuthService
from oncallnova.transport.grpc.convert import to_dict, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import auth_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import auth_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal

Context = Any


class AuthServicer(pb_grpc.AuthServiceServicer):
    def __init__(self, auth: AuthService, audit: AuditService) -> None:
        self._auth = auth
        self._audit = audit

    async def Authenticate(
        self, request: pb.AuthenticateRequest, context: Context
    ) -> pb.AuthenticateResponse:
        asked = to_dict(request)
        who, csrf = await self._auth.authenticate(asked["token"], asked["ip"])
        return to_message({"principal": who, "csrf_token": csrf}, pb.AuthenticateResponse)

    async def BootstrapAdmin(
        self, request: pb.BootstrapAdminRequest, context: Context
    ) -> pb.BootstrapAdminResponse:
        asked = to_dict(request)
        generated = await self._auth.bootstrap_admin(asked["email"], asked["password"])
        return pb.BootstrapAdminResponse(generated_password=generated)

    async def Login(self, request: pb.LoginRequest, context: Context) -> pb.Token:
        asked = to_dict(request)
        token = await self._auth.login(asked["email"], asked["password"], asked["ip"])
        return to_message(token, pb.Token)

    async def Logout(self, request: pb.LogoutRequest, context: Context) -> empty_pb2.Empty:
        await self._auth.logout(request.token)
        return empty_pb2.Empty()

    async def CreateApiToken(
        self, request: pb.CreateApiTokenRequest, context: Context
    ) -> pb.ApiToken:
        created = await self._auth.create_api_token(current_principal(), request.name)
        return to_message(created, pb.ApiToken)

    async def ListApiTokens(
        self, request: pb.ListApiTokensRequest, context: Context
    ) -> pb.ListApiTokensResponse:
        items = await self._auth.list_api_tokens(current_principal())
        return to_message({"items": items}, pb.ListApiTokensResponse)

    async def RevokeApiToken(
        self, request: pb.RevokeApiTokenRequest, context: Context
    ) -> pb.ApiToken:
        done = await self._auth.revoke_api_token(current_principal(), request.token_id)
        return to_message(done, pb.ApiToken)

    async def SetPassword(
        self, request: pb.SetPasswordRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._auth.set_password(current_principal(), request.user_id, request.password)
        return empty_pb2.Empty()

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: Context
    ) -> pb.ListAuditEntriesResponse:
        asked = {k: v for k, v in to_dict(request).items() if v is not None}
        items = await self._audit.list(current_principal(), **asked)
        return to_message({"items": items}, pb.ListAuditEntriesResponse)
