"""Use cases of users and teams."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal, Role, require, require_self_or
from oncallnova.core.clock import Clock
from oncallnova.core.db import Database
from oncallnova.core.errors import Conflict, InvalidInput, NotFound
from oncallnova.core.ids import new_id, new_secret
from oncallnova.core.usage import UsageCheck, refuse_if_used
from oncallnova.users import store
from oncallnova.users.api import Person
from oncallnova.users.contact_schemas import ContactMethodIn
from oncallnova.users.contacts import UrlCheck, person_of, replace_contact_methods, vet_urls
from oncallnova.users.models import Team, User
from oncallnova.users.schemas import (
    TeamIn,
    TeamOut,
    TeamPatch,
    UserIn,
    UserOut,
    UserPatch,
)


class UserService:
    """Users and teams; implements `UsersInTx` for other domains."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        usage_checks: Sequence[UsageCheck] = (),
        check_url: UrlCheck | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        # Contact methods given with a user are vetted as those added on their own.
        self._check_url = check_url
        # Where other domains still name a user (schedules, policies).
        self.usage_checks = list(usage_checks)

    # --- UsersInTx ---

    async def missing(self, session: AsyncSession, user_ids: list[str]) -> list[str]:
        found = {u.id for u in await store.users(session, sorted(set(user_ids)))}
        return [u for u in user_ids if u not in found]

    async def people(self, session: AsyncSession, user_ids: list[str]) -> dict[str, Person]:
        return {u.id: person_of(u) for u in await store.users(session, sorted(set(user_ids)))}

    async def by_email(self, session: AsyncSession, email: str) -> Person | None:
        user = await store.user_by_email(session, email)
        return None if user is None else person_of(user)

    async def with_reminders(self, session: AsyncSession) -> list[Person]:
        return [person_of(u) for u in await store.users(session) if u.shift_reminders]

    async def count(self, session: AsyncSession) -> int:
        return await store.count_users(session)

    async def team_exists(self, session: AsyncSession, team_id: str) -> bool:
        return await store.team(session, team_id) is not None

    async def team_ids_of(self, session: AsyncSession, user_id: str) -> set[str]:
        return await store.team_ids_of(session, user_id)

    # --- users ---

    async def create_user(self, actor: Principal, data: UserIn) -> UserOut:
        require(actor, Role.admin)
        now = self._clock.now()
        methods = data.contact_methods or [ContactMethodIn(address=data.email)]
        await self._vet(methods)
        user = User(
            id=new_id(),
            name=data.name,
            email=data.email,
            time_zone=data.time_zone,
            role=data.role,
            contact_methods=[m.stored(new_id()) for m in methods],
            notification_rules=[],
            shift_reminders=[],
            ical_token=new_secret(),
            created_at=now,
            updated_at=now,
        )
        taken = Conflict(f"a user with email {data.email} already exists", field="email")
        try:
            async with self._db.write() as session:
                if await store.user_by_email(session, data.email) is not None:
                    raise taken
                session.add(user)
                note(session, actor, "user.create", "user", user.id, {"role": data.role})
        except IntegrityError as exc:  # created at the same moment by another request
            raise taken from exc
        return UserOut.model_validate(user)

    async def list_users(self, actor: Principal) -> list[UserOut]:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            return [UserOut.model_validate(u) for u in await store.users(session)]

    async def get_user(self, actor: Principal, user_id: str) -> UserOut:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            return UserOut.model_validate(await _require_user(session, user_id))

    async def update_user(self, actor: Principal, user_id: str, data: UserPatch) -> UserOut:
        """Admins change anything; responders their own name, time zone and contacts."""
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "role" in changes or "email" in changes:
            require(actor, Role.admin)
        require(actor, Role.responder)
        require_self_or(actor, user_id, Role.admin)
        await self._vet(data.contact_methods or [])
        async with self._db.write() as session:
            user = await _require_user(session, user_id)
            if "role" in changes:
                await _keep_an_admin(session, user, changes["role"])
            email = changes.get("email")
            if email and email != user.email and await store.user_by_email(session, email):
                raise Conflict(f"a user with email {email} already exists", field="email")
            if data.contact_methods is not None:
                replace_contact_methods(user, data.contact_methods)
            for field, value in changes.items():
                if field != "contact_methods":
                    setattr(user, field, value)
            user.updated_at = self._clock.now()
            note(session, actor, "user.update", "user", user_id, {"fields": sorted(changes)})
        return UserOut.model_validate(user)

    async def _vet(self, methods: list[ContactMethodIn]) -> None:
        for method in methods:
            await vet_urls(self._check_url, method.model_dump())

    async def rotate_ical_token(self, actor: Principal, user_id: str) -> str:
        """A new secret for the user's calendar feed; the old URL stops working."""
        require(actor, Role.responder)
        require_self_or(actor, user_id, Role.admin)
        async with self._db.write() as session:
            user = await _require_user(session, user_id)
            user.ical_token = new_secret()
            return user.ical_token

    async def by_ical_token(self, token: str) -> UserOut | None:
        async with self._db.read() as session:
            user = await store.user_by_ical_token(session, token)
            return None if user is None else UserOut.model_validate(user)

    async def delete_user(self, actor: Principal, user_id: str) -> None:
        """Refused while a schedule layer or an escalation level names the user: deleting
        them would leave a slot that pages nobody."""
        require(actor, Role.admin)
        if actor.user_id == user_id:
            raise Conflict("you cannot delete yourself")
        async with self._db.write() as session:
            user = await _require_user(session, user_id)
            await _keep_an_admin(session, user, None)
            await refuse_if_used(session, self.usage_checks, user_id, f"user '{user.name}'")
            await session.delete(user)
            note(session, actor, "user.delete", "user", user_id)

    # --- teams ---

    async def create_team(self, actor: Principal, data: TeamIn) -> TeamOut:
        require(actor, Role.admin)
        team = Team(
            id=new_id(), name=data.name, description=data.description, created_at=self._clock.now()
        )
        async with self._db.write() as session:
            if await store.team_by_name(session, data.name) is not None:
                raise Conflict(f"a team named '{data.name}' already exists", field="name")
            await self._check_members(session, data.member_ids)
            session.add(team)
            await session.flush()
            await store.set_members(session, team.id, _unique(data.member_ids))
            note(session, actor, "team.create", "team", team.id)
            return await _team_out(session, team)

    async def list_teams(self, actor: Principal) -> list[TeamOut]:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            return [await _team_out(session, t) for t in await store.teams(session)]

    async def get_team(self, actor: Principal, team_id: str) -> TeamOut:
        require(actor, Role.viewer)
        async with self._db.read() as session:
            return await _team_out(session, await _require_team(session, team_id))

    async def update_team(self, actor: Principal, team_id: str, data: TeamPatch) -> TeamOut:
        require(actor, Role.admin)
        changes = data.model_dump(exclude_unset=True)
        async with self._db.write() as session:
            team = await _require_team(session, team_id)
            if changes.get("name") and changes["name"] != team.name:
                if await store.team_by_name(session, changes["name"]) is not None:
                    raise Conflict(f"a team named '{changes['name']}' already exists", field="name")
                team.name = changes["name"]
            if "description" in changes:
                team.description = changes["description"]
            if changes.get("member_ids") is not None:
                await self._check_members(session, changes["member_ids"])
                await store.set_members(session, team.id, _unique(changes["member_ids"]))
            note(session, actor, "team.update", "team", team_id)
            return await _team_out(session, team)

    async def delete_team(self, actor: Principal, team_id: str) -> None:
        require(actor, Role.admin)
        async with self._db.write() as session:
            await session.delete(await _require_team(session, team_id))
            note(session, actor, "team.delete", "team", team_id)

    async def _check_members(self, session: AsyncSession, member_ids: list[str]) -> None:
        missing = await self.missing(session, member_ids)
        if missing:
            raise InvalidInput(f"unknown user id(s): {', '.join(missing)}", field="member_ids")


def _unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


async def _keep_an_admin(session: AsyncSession, user: User, new_role: str | None) -> None:
    """Refuses to demote (`new_role`) or delete (None) the last admin: nobody could
    administer the installation any more."""
    if user.role != "admin" or new_role == "admin":
        return
    if set(await store.lock_admin_ids(session)) <= {user.id}:
        raise Conflict(
            f"{user.name} is the only admin; make someone else admin first", field="role"
        )


async def _require_user(session: AsyncSession, user_id: str) -> User:
    user = await store.user(session, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def _require_team(session: AsyncSession, team_id: str) -> Team:
    team = await store.team(session, team_id)
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


async def _team_out(session: AsyncSession, team: Team) -> TeamOut:
    member_ids = (await store.members(session, [team.id])).get(team.id, [])
    members = await store.users(session, member_ids)
    return TeamOut(
        id=team.id,
        name=team.name,
        description=team.description,
        members=[UserOut.model_validate(u) for u in members],
        created_at=team.created_at,
    )
