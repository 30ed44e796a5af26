"""Rendering pages: the Jinja2 environment, the signed-in user, and display filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from oncallnova import __version__
from oncallnova.core.authz import Principal, Role
from oncallnova.core.errors import NotFound, Unauthenticated
from oncallnova.core.vocab import SEVERITIES
from oncallnova.transport.http.auth import principal
from oncallnova.transport.http.deps import use_cases

HERE = Path(__file__).parent
STATUSES = ("triggered", "acknowledged", "resolved")


class LoginRequired(Exception):
    """The page needs a signed-in user: answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: their principal and the zone times are shown in."""

    who: Principal
    zone: ZoneInfo

    @property
    def can_respond(self) -> bool:
        return self.who.role >= Role.responder

    @property
    def is_admin(self) -> bool:
        return self.who.role >= Role.admin


async def viewer(request: Request) -> Viewer:
    """The signed-in user of a page (cookie session), or a redirect to the login page."""
    if not request.cookies.get("oncallnova_session") and not request.headers.get("authorization"):
        raise LoginRequired(_here(request))
    try:
        who = await principal(request)
    except Unauthenticated:
        raise LoginRequired(_here(request)) from None
    zone = ZoneInfo("UTC")
    try:
        user = await use_cases(request).users.get_user(who, who.user_id)
        zone = ZoneInfo(user.time_zone)
    except (NotFound, ZoneInfoNotFoundError, ValueError):
        pass
    return Viewer(who, zone)


PageViewer = Annotated[Viewer, Depends(viewer)]


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name, UTC first, for the time zone pickers."""
    names = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))
    return ("UTC", *names)


def when(value: datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """An instant in the viewer's zone, e.g. `2026-03-01 13:00 CET`."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).strftime(fmt)


def duration(seconds: float | None) -> str:
    """`42s`, `3m 20s`, `2h 5m`, `3d 4h`; a dash when unknown."""
    if seconds is None:
        return "—"
    total = round(seconds)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def ago(value: datetime | None, now: datetime) -> str:
    """How long before `now`, e.g. `5m 3s ago`."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = (now - value).total_seconds()
    return "just now" if seconds < 1 else f"{duration(seconds)} ago"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = duration
    env.filters["urlquote"] = lambda value: quote(str(value), safe="")
    env.globals.update(
        version=__version__, severities=SEVERITIES, statuses=STATUSES, when=when, ago=ago
    )
    return env


ENV = _environment()


def render(
    request: Request, page: Viewer | None, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A full page: `template` extends `base.html`, which draws the navigation for
    `page` (None on the login and error pages of an anonymous visitor)."""
    now = use_cases(request).clock.now()
    html = ENV.get_template(template).render(
        request=request,
        viewer=page,
        zone=page.zone if page else ZoneInfo("UTC"),
        now=now,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
