"""Pages: people and teams (`/people`, `/people/{id}`, `/teams/{id}`) and the signed-in
user's own account with their API tokens (`/account`). Every change is an API call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from oncallnova.transport.http.deps import use_cases
from oncallnova.transport.web.render import PageViewer, Viewer, render, time_zones
from oncallnova.users.schemas import TeamOut

router = APIRouter(include_in_schema=False)
ROLES = ("viewer", "responder", "admin")
CONTACT_TYPES = {
    "email": "Email",
    "ntfy": "ntfy (push)",
    "slack": "Slack",
    "mattermost": "Mattermost",
    "teams": "Microsoft Teams",
}


def can_edit(page: Viewer, user_id: str) -> bool:
    """`PATCH /users/{id}`: admins anyone, responders themselves (name, zone, contacts)."""
    return page.is_admin or (page.can_respond and page.who.user_id == user_id)


def teams_of(teams: list[TeamOut], user_id: str) -> list[TeamOut]:
    return [t for t in teams if any(m.id == user_id for m in t.members)]


@router.get("/people")
async def people(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    users = await svc.users.list_users(page.who)
    teams = await svc.users.list_teams(page.who)
    team_names = {u.id: [t.name for t in teams_of(teams, u.id)] for u in users}
    return render(
        request,
        page,
        "people.html",
        title="People",
        users=sorted(users, key=lambda u: u.name.lower()),
        teams=sorted(teams, key=lambda t: t.name.lower()),
        team_names=team_names,
        roles=ROLES,
        zones=time_zones(),
    )


@router.get("/people/{user_id}")
async def person(request: Request, user_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    user = await svc.users.get_user(page.who, user_id)
    teams = await svc.users.list_teams(page.who)
    editable = can_edit(page, user.id)
    reach: dict[str, Any] = {}
    if editable:  # contact details, rules and reminders: the person themself and admins
        reach = {
            "contacts": await svc.contacts.contact_methods(page.who, user.id),
            "rules": await svc.contacts.rules(page.who, user.id),
            "reminders": await svc.contacts.reminders(page.who, user.id),
            "contact_types": CONTACT_TYPES,
        }
    return render(
        request,
        page,
        "person.html",
        title=user.name,
        user=user,
        teams=teams_of(teams, user.id),
        is_self=page.who.user_id == user.id,
        can_edit=editable,
        roles=ROLES,
        zones=time_zones(),
        **reach,
    )


@router.get("/teams/{team_id}")
async def team(request: Request, team_id: str, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    found = await svc.users.get_team(page.who, team_id)
    users = await svc.users.list_users(page.who) if page.is_admin else []
    return render(
        request,
        page,
        "team.html",
        title=found.name,
        team=found,
        member_ids={m.id for m in found.members},
        users=sorted(users, key=lambda u: u.name.lower()),
    )


@router.get("/account")
async def account(request: Request, page: PageViewer) -> HTMLResponse:
    svc = use_cases(request)
    me = await svc.users.get_user(page.who, page.who.user_id)
    tokens = await svc.auth.list_api_tokens(page.who)  # an admin's list holds everyone's
    mine = [t for t in tokens if t.user_id == me.id]
    others = [t for t in tokens if t.user_id != me.id]
    owners: dict[str, str] = {}
    if others:
        owners = {u.id: u.name for u in await svc.users.list_users(page.who)}
    teams = await svc.users.list_teams(page.who)
    return render(
        request,
        page,
        "account.html",
        title="Your account",
        user=me,
        teams=teams_of(teams, me.id),
        mine=sorted(mine, key=lambda t: t.created_at, reverse=True),
        others=sorted(others, key=lambda t: t.created_at, reverse=True),
        owners=owners,
        zones=time_zones(),
    )
