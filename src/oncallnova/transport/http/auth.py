"""Who is calling: a bearer token (JWT or API token) or the browser's session cookie.

Requests that change something with the cookie must also send the CSRF token they got
at sign-in in `X-CSRF-Token` (a cross-site form cannot read it). Each route declares the
role it needs with `needs(Role.x)`; the use case checks the same role again.
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Annotated, Any

from fastapi import Depends, Request

from oncallnova.core.authz import Principal, Role, require, require_self_or
from oncallnova.core.errors import Forbidden, Unauthenticated
from oncallnova.transport.http.deps import use_cases

SESSION_COOKIE = "oncallnova_session"
CSRF_COOKIE = "oncallnova_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def client_ip(request: Request) -> str | None:
    """The client's address: behind a trusted proxy the forwarded one (the security
    layer rewrites the request's client; see `TrustedProxies.forwarded`)."""
    return request.client.host if request.client else None


def secure_cookies(request: Request) -> bool:
    """Session cookies are `Secure` when the browser speaks HTTPS: directly, through a
    trusted TLS proxy (X-Forwarded-Proto), or as the public base URL says."""
    base_url = use_cases(request).settings.base_url
    return request.url.scheme == "https" or base_url.lower().startswith("https://")


def bearer_or_cookie(request: Request) -> str | None:
    """The token the request authenticates with, if any (for signing out)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE) or None


async def principal(request: Request) -> Principal:
    svc = use_cases(request)
    ip = client_ip(request)
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send 'Authorization: Bearer <token>'")
        who, _ = await svc.auth.authenticate(token.strip(), ip)
        return who
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        who, csrf = await svc.auth.authenticate(cookie, ip)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not csrf or not hmac.compare_digest(sent.encode(), csrf.encode()):
                raise Forbidden(f"missing or wrong CSRF token: send the {CSRF_HEADER} header")
        return dataclasses.replace(who, via="cookie")
    raise Unauthenticated("sign in first: send 'Authorization: Bearer <token>'")


Actor = Annotated[Principal, Depends(principal)]


def needs(role: Role) -> dict[str, Any]:
    """Route options declaring the role a route needs (checked again by the use case)."""

    async def check(who: Actor) -> None:
        require(who, role)

    return {"dependencies": [Depends(check)], "openapi_extra": {"x-required-role": role.name}}


def needs_self_or(role: Role) -> dict[str, Any]:
    """Route options for `/users/{user_id}/...`: that user themself, or `role`."""

    async def check(request: Request, who: Actor) -> None:
        require_self_or(who, str(request.path_params.get("user_id", "")), role)

    return {
        "dependencies": [Depends(check)],
        "openapi_extra": {"x-required-role": "viewer", "x-self-or-role": role.name},
    }
