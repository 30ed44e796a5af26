"""`UsersService` over `oncallnova.v1.PeopleService`."""

from __future__ import annotations

import grpc

from oncallnova.core.authz import Principal
from oncallnova.transport.grpc.clients.calls import read, send, write
from oncallnova.transport.grpc.convert import to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2_grpc as pb_grpc
from oncallnova.users.schemas import TeamIn, TeamOut, TeamPatch, UserIn, UserOut, UserPatch


class UsersClient:
    """Implements `users.api.UsersService`."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.PeopleServiceStub(channel)

    async def list_users(self, actor: Principal) -> list[UserOut]:
        request = pb.ListUsersRequest()
        return await read(actor, self._stub.ListUsers, request, list[UserOut], "items")

    async def get_user(self, actor: Principal, user_id: str) -> UserOut:
        return await read(actor, self._stub.GetUser, pb.GetUserRequest(user_id=user_id), UserOut)

    async def create_user(self, actor: Principal, data: UserIn) -> UserOut:
        request = pb.CreateUserRequest(user=to_message(data, pb.UserIn))
        return await write(actor, self._stub.CreateUser, request, UserOut)

    async def update_user(self, actor: Principal, user_id: str, data: UserPatch) -> UserOut:
        request = pb.UpdateUserRequest(user_id=user_id, patch=to_message(data, pb.UserPatch))
        return await write(actor, self._stub.UpdateUser, request, UserOut)

    async def delete_user(self, actor: Principal, user_id: str) -> None:
        await send(actor, self._stub.DeleteUser, pb.DeleteUserRequest(user_id=user_id))

    async def list_teams(self, actor: Principal) -> list[TeamOut]:
        request = pb.ListTeamsRequest()
        return await read(actor, self._stub.ListTeams, request, list[TeamOut], "items")

    async def get_team(self, actor: Principal, team_id: str) -> TeamOut:
        return await read(actor, self._stub.GetTeam, pb.GetTeamRequest(team_id=team_id), TeamOut)

    async def create_team(self, actor: Principal, data: TeamIn) -> TeamOut:
        request = pb.CreateTeamRequest(team=to_message(data, pb.TeamIn))
        return await write(actor, self._stub.CreateTeam, request, TeamOut)

    async def update_team(self, actor: Principal, team_id: str, data: TeamPatch) -> TeamOut:
        request = pb.UpdateTeamRequest(team_id=team_id, patch=to_message(data, pb.TeamPatch))
        return await write(actor, self._stub.UpdateTeam, request, TeamOut)

    async def delete_team(self, actor: Principal, team_id: str) -> None:
        await send(actor, self._stub.DeleteTeam, pb.DeleteTeamRequest(team_id=team_id))

    async def by_ical_token(self, token: str) -> UserOut | None:
        request = pb.GetUserByIcalTokenRequest(token=token)
        return await read(None, self._stub.GetUserByIcalToken, request, UserOut | None, "user")

    async def rotate_ical_token(self, actor: Principal, user_id: str) -> str:
        request = pb.RotateUserIcalTokenRequest(user_id=user_id)
        return await write(actor, self._stub.RotateUserIcalToken, request, str, "ical_token")
