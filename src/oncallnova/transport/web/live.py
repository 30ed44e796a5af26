"""Live updates: `GET /api/v1/stream`, a server-sent event stream of changes.

A `change` event is sent whenever an incident is created or changes. In one process the
event bus announces changes as they are committed; a poll of the incidents' change
marker (once a second, only while someone listens) catches the changes made by other
processes (`--role web` beside ingestion and engine replicas). Pages refetch the parts
they show live when told; they never rely on the event's content.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from oncallnova.core.authz import Role
from oncallnova.transport.changes import ChangeFeed
from oncallnova.transport.http.auth import Actor, bearer_or_cookie, client_ip, needs
from oncallnova.transport.http.deps import use_cases

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["live"])
KEEPALIVE_SECONDS = 15.0
SignedIn = Callable[[], Awaitable[bool]]


def feed(request: Request) -> ChangeFeed:
    value: ChangeFeed = request.app.state.live_feed
    return value


async def _events(changes: ChangeFeed, signed_in: SignedIn) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    async with changes.subscribe() as queue:
        while True:
            try:
                kind = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                kind = ""
            # The stream outlives the request that opened it: before anything more is
            # sent, the session must still be live, so signing out ends it too.
            if kind is None or not await signed_in():
                return
            if kind:
                yield f"event: change\ndata: {json.dumps({'type': kind})}\n\n"
            else:
                yield ": keep-alive\n\n"


def session_check(request: Request) -> SignedIn:
    """Whether the credential this request came with is still good, asked again later."""
    auth, token, ip = use_cases(request).auth, bearer_or_cookie(request), client_ip(request)

    async def signed_in() -> bool:
        if token is None:
            return False
        try:
            await auth.authenticate(token, ip)
        except Exception:  # signed out, or the database is away: the browser reconnects
            return False
        return True

    return signed_in


@router.get(
    "/stream",
    summary="Server-sent events: `change` whenever an incident opens or changes",
    description="The stream ends when the session it was opened with ends (sign-out, "
    "password change, revoked token).",
    response_class=StreamingResponse,
    **needs(Role.viewer),
)
async def stream(request: Request, who: Actor) -> StreamingResponse:
    del who  # the role check is in `needs`
    return StreamingResponse(
        _events(feed(request), session_check(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
