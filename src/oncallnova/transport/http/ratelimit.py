"""Abuse limits over HTTP: a token bucket per client IP and one per integration key.

The per-IP check is an ASGI middleware in front of every route except `GET /health`;
the per-key check is called by the ingestion handlers once they know the key. Both
answer 429 with `Retry-After`; `/v2/enqueue` answers in PagerDuty's format.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from oncallnova.core.errors import Overloaded
from oncallnova.core.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RedisBreaker,
    RedisRateLimiter,
)
from oncallnova.settings import Settings
from oncallnova.transport.http.security import TrustedProxies

PAGERDUTY_PATHS = frozenset({"/v2/enqueue"})
# Opsgenie's clients read `message`; its error bodies also carry `took` and `requestId`.
OPSGENIE_PREFIX = "/v2/alerts"
UNLIMITED = frozenset({("GET", "/health"), ("HEAD", "/health")})


def build_limiter(
    settings: Settings, rate: float, burst: int, kind: str, breaker: RedisBreaker | None = None
) -> RateLimiter:
    """Redis-backed when `REDIS_URL` is set (shared by all processes), else in memory;
    `breaker` is the process's shared view of whether Redis answers."""
    if settings.redis_url:
        prefix = f"{settings.rate_limit_redis_prefix}:{kind}"
        return RedisRateLimiter(settings.redis_url, rate, burst, prefix, breaker=breaker)
    return MemoryRateLimiter(rate, burst)


def install_rate_limits(
    app: FastAPI, settings: Settings, breaker: RedisBreaker | None = None
) -> None:
    """Adds the per-IP middleware, stores the key limiter on `app.state.key_limiter`,
    and closes both limiters when the app's lifespan ends.

    Call it after the other `add_middleware` calls that it should run in front of.
    """
    app.state.key_limiter = None
    if not settings.rate_limit_enabled:
        return
    ip_limiter = build_limiter(
        settings, settings.rate_limit_per_second, settings.rate_limit_burst, "ip", breaker
    )
    key_limiter = build_limiter(
        settings,
        settings.rate_limit_key_per_second or settings.rate_limit_per_second,
        settings.rate_limit_key_burst or settings.rate_limit_burst,
        "key",
        breaker,
    )
    app.state.key_limiter = key_limiter
    app.add_middleware(
        IpRateLimit, limiter=ip_limiter, proxies=TrustedProxies(settings.trusted_proxies)
    )
    # FastAPI runs on_shutdown handlers only for apps without `lifespan=`, so the
    # limiters are closed by wrapping whichever lifespan the app has.
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        try:
            async with inner(application) as state:
                yield state
        finally:
            await ip_limiter.aclose()
            await key_limiter.aclose()

    app.router.lifespan_context = lifespan


def retry_after(wait: float) -> int:
    """Whole seconds for the Retry-After header, at least 1."""
    return max(1, math.ceil(wait))


def limited_body(path: str, what: str, seconds: int) -> dict[str, object]:
    message = f"rate limit exceeded for {what}; retry after {seconds} s"
    if path in PAGERDUTY_PATHS:
        return {"status": "throttle event", "message": message}
    if path.startswith(OPSGENIE_PREFIX):
        return {"message": message, "took": 0.0, "requestId": str(uuid.uuid4())}
    return {"detail": message}


class IpRateLimit:
    """Answers 429 once a client IP has spent its burst (pure ASGI, before routing)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, proxies: TrustedProxies) -> None:
        self.app = app
        self.limiter = limiter
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in UNLIMITED:
            await self.app(scope, receive, send)
            return
        wait = await self.limiter.hit(self.proxies.client_ip(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = retry_after(wait)
        body = json.dumps(limited_body(scope["path"], "client ip", seconds)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(seconds).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def key_wait(request: Request, key: str) -> int:
    """0 if the integration key may send now, else the Retry-After seconds."""
    limiter: RateLimiter | None = getattr(request.app.state, "key_limiter", None)
    if limiter is None:
        return 0
    # Hashed so that Redis never holds the secret key itself.
    wait = await limiter.hit(hashlib.sha256(key.encode()).hexdigest()[:32])
    return retry_after(wait) if wait else 0


async def check_key(request: Request, key: str) -> None:
    """Raises `Overloaded` (429 with Retry-After) once the key has spent its burst."""
    if seconds := await key_wait(request, key):
        raise Overloaded(str(limited_body("", "integration key", seconds)["detail"]), seconds)


async def pagerduty_throttle(request: Request, key: str) -> JSONResponse | None:
    """PagerDuty's 429 answer once the key has spent its burst, else None."""
    if not (seconds := await key_wait(request, key)):
        return None
    return JSONResponse(
        limited_body("/v2/enqueue", "integration key", seconds),
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )
