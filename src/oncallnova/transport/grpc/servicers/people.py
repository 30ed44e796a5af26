"""`oncallnova.v1.PeopleService` over the users and teams use cases."""

from __future__ import annotations

from typing import Any

from google.protobuf import empty_pb2

from oncallnova.transport.grpc.convert import request_value, to_message
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import current_principal
from oncallnova.users.api import UsersService
from oncallnova.users.schemas import TeamIn, TeamPatch, UserIn, UserPatch

Context = Any


class PeopleServicer(pb_grpc.PeopleServiceServicer):
    def __init__(self, users: UsersService) -> None:
        self._users = users

    async def ListUsers(
        self, request: pb.ListUsersRequest, context: Context
    ) -> pb.ListUsersResponse:
        items = await self._users.list_users(current_principal())
        return to_message({"items": items}, pb.ListUsersResponse)

    async def GetUser(self, request: pb.GetUserRequest, context: Context) -> pb.User:
        return to_message(await self._users.get_user(current_principal(), request.user_id), pb.User)

    async def CreateUser(self, request: pb.CreateUserRequest, context: Context) -> pb.User:
        data = request_value(request.user, UserIn)
        return to_message(await self._users.create_user(current_principal(), data), pb.User)

    async def UpdateUser(self, request: pb.UpdateUserRequest, context: Context) -> pb.User:
        patch = request_value(request.patch, UserPatch)
        done = await self._users.update_user(current_principal(), request.user_id, patch)
        return to_message(done, pb.User)

    async def DeleteUser(self, request: pb.DeleteUserRequest, context: Context) -> empty_pb2.Empty:
        await self._users.delete_user(current_principal(), request.user_id)
        return empty_pb2.Empty()

    async def ListTeams(
        self, request: pb.ListTeamsRequest, context: Context
    ) -> pb.ListTeamsResponse:
        items = await self._users.list_teams(current_principal())
        return to_message({"items": items}, pb.ListTeamsResponse)

    async def GetTeam(self, request: pb.GetTeamRequest, context: Context) -> pb.Team:
        return to_message(await self._users.get_team(current_principal(), request.team_id), pb.Team)

    async def CreateTeam(self, request: pb.CreateTeamRequest, context: Context) -> pb.Team:
        data = request_value(request.team, TeamIn)
        return to_message(await self._users.create_team(current_principal(), data), pb.Team)

    async def UpdateTeam(self, request: pb.UpdateTeamRequest, context: Context) -> pb.Team:
        patch = request_value(request.patch, TeamPatch)
        done = await self._users.update_team(current_principal(), request.team_id, patch)
        return to_message(done, pb.Team)

    async def DeleteTeam(self, request: pb.DeleteTeamRequest, context: Context) -> empty_pb2.Empty:
        await self._users.delete_team(current_principal(), request.team_id)
        return empty_pb2.Empty()

    async def GetUserByIcalToken(
        self, request: pb.GetUserByIcalTokenRequest, context: Context
    ) -> pb.GetUserByIcalTokenResponse:
        user = await self._users.by_ical_token(request.token)
        return to_message({"user": user}, pb.GetUserByIcalTokenResponse)

    async def RotateUserIcalToken(
        self, request: pb.RotateUserIcalTokenRequest, context: Context
    ) -> pb.RotateUserIcalTokenResponse:
        token = await self._users.rotate_ical_token(current_principal(), request.user_id)
        return pb.RotateUserIcalTokenResponse(ical_token=token)
