"""Users and teams: /api/v1/users, /api/v1/teams."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from oncallnova.core.authz import Role
from oncallnova.transport.http.auth import Actor, needs
from oncallnova.transport.http.deps import use_cases
from oncallnova.users.schemas import (
    TeamIn,
    TeamList,
    TeamOut,
    TeamPatch,
    UserIn,
    UserList,
    UserOut,
    UserPatch,
)

router = APIRouter(prefix="/api/v1", tags=["users and teams"])


@router.post("/users", response_model=UserOut, status_code=201, **needs(Role.admin))
async def create_user(request: Request, body: UserIn, who: Actor) -> UserOut:
    return await use_cases(request).users.create_user(who, body)


@router.get("/users", response_model=UserList, **needs(Role.viewer))
async def list_users(request: Request, who: Actor) -> UserList:
    return UserList(items=await use_cases(request).users.list_users(who))


@router.get("/users/{user_id}", response_model=UserOut, **needs(Role.viewer))
async def get_user(request: Request, user_id: str, who: Actor) -> UserOut:
    return await use_cases(request).users.get_user(who, user_id)


@router.patch("/users/{user_id}", response_model=UserOut, **needs(Role.responder))
async def update_user(request: Request, user_id: str, body: UserPatch, who: Actor) -> UserOut:
    return await use_cases(request).users.update_user(who, user_id, body)


@router.delete("/users/{user_id}", status_code=204, response_class=Response, **needs(Role.admin))
async def delete_user(request: Request, user_id: str, who: Actor) -> Response:
    await use_cases(request).users.delete_user(who, user_id)
    return Response(status_code=204)


@router.post("/teams", response_model=TeamOut, status_code=201, **needs(Role.admin))
async def create_team(request: Request, body: TeamIn, who: Actor) -> TeamOut:
    return await use_cases(request).users.create_team(who, body)


@router.get("/teams", response_model=TeamList, **needs(Role.viewer))
async def list_teams(request: Request, who: Actor) -> TeamList:
    return TeamList(items=await use_cases(request).users.list_teams(who))


@router.get("/teams/{team_id}", response_model=TeamOut, **needs(Role.viewer))
async def get_team(request: Request, team_id: str, who: Actor) -> TeamOut:
    return await use_cases(request).users.get_team(who, team_id)


@router.patch("/teams/{team_id}", response_model=TeamOut, **needs(Role.admin))
async def update_team(request: Request, team_id: str, body: TeamPatch, who: Actor) -> TeamOut:
    return await use_cases(request).users.update_team(who, team_id, body)


@router.delete("/teams/{team_id}", status_code=204, response_class=Response, **needs(Role.admin))
async def delete_team(request: Request, team_id: str, who: Actor) -> Response:
    await use_cases(request).users.delete_team(who, team_id)
    return Response(status_code=204)
