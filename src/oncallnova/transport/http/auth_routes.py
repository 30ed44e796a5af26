"""Sign-in, sign-out, API tokens, passwords and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from oncallnova.auth.schemas import ApiTokenCreated, ApiTokenOut, AuditOut, TokenOut
from oncallnova.core.authz import Role
from oncallnova.transport.http.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Actor,
    bearer_or_cookie,
    client_ip,
    needs,
    needs_self_or,
    secure_cookies,
)
from oncallnova.transport.http.deps import use_cases

router = APIRouter(prefix="/api/v1", tags=["auth"])


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class Me(BaseModel):
    user_id: str
    name: str
    email: str
    role: str
    via: str


class SessionOut(BaseModel):
    csrf_token: str
    expires_in: int
    user: Me


class ApiTokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024)


@router.post("/auth/token", response_model=TokenOut)
async def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """OAuth2 password flow: `username` (the email) and `password`, as a form."""
    return await use_cases(request).auth.login(form.username, form.password, client_ip(request))


@router.post("/auth/login", response_model=SessionOut)
async def login(request: Request, body: LoginIn, response: Response) -> SessionOut:
    """Browser sign-in: sets an HttpOnly session cookie; send `csrf_token` back in the
    `X-CSRF-Token` header on requests that change something."""
    svc = use_cases(request)
    issued = await svc.auth.login(body.email, body.password, client_ip(request))
    who, _ = await svc.auth.authenticate(issued.access_token, client_ip(request))
    secure = secure_cookies(request)
    response.set_cookie(
        SESSION_COOKIE,
        issued.access_token,
        max_age=issued.expires_in,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        issued.csrf_token,
        max_age=issued.expires_in,
        httponly=False,
        samesite="lax",
        secure=secure,
        path="/",
    )
    return SessionOut(
        csrf_token=issued.csrf_token,
        expires_in=issued.expires_in,
        user=Me(
            user_id=who.user_id, name=who.name, email=who.email, role=who.role.name, via="cookie"
        ),
    )


@router.post("/auth/logout", status_code=204, response_class=Response)
async def logout(request: Request) -> Response:
    """Ends the session of the cookie or bearer token (in every process: the token stops
    working) and clears the session cookies."""
    token = bearer_or_cookie(request)
    if token:
        await use_cases(request).auth.logout(token)
    response = Response(status_code=204)
    secure = secure_cookies(request)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(
            name, path="/", secure=secure, httponly=name == SESSION_COOKIE, samesite="lax"
        )
    return response


@router.get("/auth/me", response_model=Me, **needs(Role.viewer))
async def me(who: Actor) -> Me:
    return Me(user_id=who.user_id, name=who.name, email=who.email, role=who.role.name, via=who.via)


@router.post(
    "/auth/api-tokens", response_model=ApiTokenCreated, status_code=201, **needs(Role.responder)
)
async def create_api_token(request: Request, body: ApiTokenIn, who: Actor) -> ApiTokenCreated:
    """A long-lived token with your role, for scripts; `token` is shown only here."""
    return await use_cases(request).auth.create_api_token(who, body.name)


@router.get("/auth/api-tokens", response_model=list[ApiTokenOut], **needs(Role.viewer))
async def list_api_tokens(request: Request, who: Actor) -> list[ApiTokenOut]:
    return await use_cases(request).auth.list_api_tokens(who)


@router.delete("/auth/api-tokens/{token_id}", response_model=ApiTokenOut, **needs(Role.responder))
async def revoke_api_token(request: Request, token_id: str, who: Actor) -> ApiTokenOut:
    return await use_cases(request).auth.revoke_api_token(who, token_id)


@router.put(
    "/users/{user_id}/password",
    status_code=204,
    response_class=Response,
    tags=["users and teams"],
    **needs_self_or(Role.admin),
)
async def set_password(request: Request, user_id: str, body: PasswordIn, who: Actor) -> Response:
    """Your own password, or anyone's for an admin (at least 12 characters)."""
    await use_cases(request).auth.set_password(who, user_id, body.password)
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditOut], **needs(Role.admin))
async def audit(
    request: Request,
    who: Actor,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: int | None = None,
) -> list[AuditOut]:
    """The audit log, newest first; page with `before_id`."""
    return await use_cases(request).audit.list(who, limit, before_id)
