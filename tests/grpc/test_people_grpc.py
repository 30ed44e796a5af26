"""`PeopleService` over a real gRPC connection: the users client answers what the
in-process users and teams use cases answer, and fails alike."""

from __future__ import annotations

import pytest

from oncallnova.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from oncallnova.transport.grpc.clients.people import UsersClient
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2 as pb
from oncallnova.transport.grpc.gen.oncallnova.v1 import people_pb2_grpc as pb_grpc
from oncallnova.transport.grpc.interceptors import acting_as
from oncallnova.users.contact_schemas import ContactMethodIn
from oncallnova.users.schemas import TeamIn, TeamPatch, UserIn, UserPatch
from tests.grpc.conftest import Stack, same, same_error


@pytest.fixture(scope="module")
def users(stack: Stack) -> UsersClient:
    return UsersClient(stack.channel)


async def test_users(stack: Stack, users: UsersClient) -> None:
    local, admin = stack.local.users, stack.admin
    data = UserIn(name="Dee", email="Dee@Example.com", time_zone="Europe/Oslo", role="viewer")
    dee = await users.create_user(admin, data)
    same(dee, await local.get_user(admin, dee.id))
    assert (dee.email, dee.role, dee.contact_methods[0].address) == (
        "dee@example.com",
        "viewer",
        "dee@example.com",
    )
    same(await users.list_users(stack.viewer), await local.list_users(stack.viewer))
    same(await users.get_user(stack.viewer, dee.id), await local.get_user(stack.viewer, dee.id))
    chat = "https://8.8.8.8/hooks/abc"  # vetted when saved: a host name must resolve
    methods = [
        ContactMethodIn(address="pager@example.com"),
        ContactMethodIn(type="mattermost", name="ops chat", url=chat),
    ]
    patch = UserPatch(name="Dee Dee", role="responder", contact_methods=methods)
    updated = await users.update_user(admin, dee.id, patch)
    same(updated, await local.get_user(admin, dee.id))
    assert (updated.role, updated.time_zone) == ("responder", "Europe/Oslo")
    # Everyone sees a chat webhook's host, never its URL.
    shown = [(m.type, m.name, m.address, m.target) for m in updated.contact_methods]
    assert shown == [
        ("email", "", "pager@example.com", "pager@example.com"),
        ("mattermost", "ops chat", None, "8.8.8.8"),
    ]
    same(await users.get_user(stack.viewer, dee.id), await local.get_user(stack.viewer, dee.id))
    # The same list again keeps every method's id.
    again = await users.update_user(admin, dee.id, UserPatch(contact_methods=methods))
    assert [m.id for m in again.contact_methods] == [m.id for m in updated.contact_methods]
    # An empty list is a value in a patch: Dee is paged nowhere now.
    emptied = await users.update_user(admin, dee.id, UserPatch(contact_methods=[]))
    assert emptied.contact_methods == []
    token = await users.rotate_ical_token(admin, dee.id)
    same(await users.by_ical_token(token), await local.by_ical_token(token))
    assert (await users.by_ical_token(token)) == await local.get_user(admin, dee.id)
    assert await users.by_ical_token("not-a-token") is None
    await users.delete_user(admin, dee.id)
    with pytest.raises(NotFound):
        await local.get_user(admin, dee.id)


async def test_teams(stack: Stack, users: UsersClient) -> None:
    local, admin = stack.local.users, stack.admin
    members = [stack.responder.user_id, stack.viewer.user_id]
    team = await users.create_team(admin, TeamIn(name="SRE", description="d", member_ids=members))
    same(team, await local.get_team(admin, team.id))
    assert {m.id for m in team.members} == set(members)
    same(await users.list_teams(stack.viewer), await local.list_teams(stack.viewer))
    same(await users.get_team(stack.viewer, team.id), await local.get_team(stack.viewer, team.id))
    updated = await users.update_team(admin, team.id, TeamPatch(description=None, member_ids=[]))
    same(updated, await local.get_team(admin, team.id))
    assert (updated.name, updated.description, updated.members) == ("SRE", None, [])
    await users.delete_team(admin, team.id)
    with pytest.raises(NotFound):
        await local.get_team(admin, team.id)


async def test_errors_are_the_in_process_ones(stack: Stack, users: UsersClient) -> None:
    local, admin, viewer, responder = stack.local.users, stack.admin, stack.viewer, stack.responder
    await same_error(users.get_user(viewer, "nope"), local.get_user(viewer, "nope"))
    err = await same_error(users.delete_team(admin, "nope"), local.delete_team(admin, "nope"))
    assert isinstance(err, NotFound)
    data = UserIn(name="Eve", email="eve@example.com")
    err = await same_error(users.create_user(viewer, data), local.create_user(viewer, data))
    assert isinstance(err, Forbidden)
    # A responder changes their own name, not their role nor anyone else.
    promote = UserPatch(role="admin")
    await same_error(
        users.update_user(responder, responder.user_id, promote),
        local.update_user(responder, responder.user_id, promote),
    )
    await same_error(
        users.rotate_ical_token(responder, admin.user_id),
        local.rotate_ical_token(responder, admin.user_id),
    )
    taken = UserIn(name="Again", email="admin@example.com")
    err = await same_error(users.create_user(admin, taken), local.create_user(admin, taken))
    assert isinstance(err, Conflict) and err.field == "email"
    err = await same_error(
        users.delete_user(admin, admin.user_id), local.delete_user(admin, admin.user_id)
    )
    assert isinstance(err, Conflict)
    ghosts = TeamIn(name="Ghosts", member_ids=["ghost"])
    err = await same_error(users.create_team(admin, ghosts), local.create_team(admin, ghosts))
    assert isinstance(err, InvalidInput)


async def test_a_message_no_model_accepts_is_invalid_input(stack: Stack) -> None:
    stub = pb_grpc.PeopleServiceStub(stack.channel)
    with acting_as(stack.admin):
        for user, field in [
            (pb.UserIn(name="x", email="not-an-email"), "email"),
            (pb.UserIn(name="x", email="x@example.com", time_zone="Nowhere/Land"), "time_zone"),
            (pb.UserIn(name="", email="x@example.com"), "name"),
            (
                pb.UserIn(
                    name="x",
                    email="x@example.com",
                    contact_methods=[pb.ContactMethodIn(type=pb.CONTACT_METHOD_TYPE_SLACK)],
                ),
                "contact_methods.0.url",
            ),
        ]:
            with pytest.raises(InvalidInput) as refused:
                await stub.CreateUser(pb.CreateUserRequest(user=user))
            assert refused.value.field == field, refused.value.message
