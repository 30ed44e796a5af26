"""Who a level of an escalation policy reaches now, and who it cannot reach and why.

Reachability is decided here, before any outbox row is written: a page to a user who no
longer exists or has no contact method would only fail later in the channel ("user has
no email address") while the policy waited on it, so such a user is a gap, written on
the timeline, and a level of nothing but gaps is skipped at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oncallnova.oncall.api import SchedulesInTx
from oncallnova.users.api import UsersInTx

NO_ONE_ON_CALL = "no_one_on_call"  # a schedule target with nobody (or no schedule)
UNREACHABLE = "unreachable"  # a user target, or a user on call, who cannot be paged


@dataclass
class Reach:
    user_ids: list[str] = field(default_factory=list)
    # (timeline kind, sentence) for each target or person that could not be paged.
    gaps: list[tuple[str, str]] = field(default_factory=list)


def _label(target: dict[str, str]) -> str:
    name = target.get("name")
    if target["type"] == "schedule":
        return f"schedule '{name}'" if name else f"schedule {target['id']}"
    return f"user '{name}'" if name else f"user {target['id']}"


async def resolve(
    session: AsyncSession,
    users: UsersInTx,
    schedules: SchedulesInTx,
    targets: list[dict[str, str]],
    now: datetime,
) -> Reach:
    reach = Reach()
    schedule_ids = [t["id"] for t in targets if t["type"] == "schedule"]
    on_call = await schedules.on_call(session, schedule_ids, now)
    # (user id, the target that named them, whether they came from a schedule)
    candidates: list[tuple[str, dict[str, str], bool]] = []
    for target in targets:
        if target["type"] == "user":
            candidates.append((target["id"], target, False))
        elif target["id"] not in on_call:
            reach.gaps.append((NO_ONE_ON_CALL, f"{_label(target)} no longer exists"))
        elif not on_call[target["id"]]:
            reach.gaps.append((NO_ONE_ON_CALL, f"nobody is on call in {_label(target)}"))
        else:
            candidates.extend((u, target, True) for u in on_call[target["id"]])
    people = await users.people(session, list(dict.fromkeys(c[0] for c in candidates)))
    for user_id, target, via_schedule in candidates:
        person = people.get(user_id)
        where = f" (on call in {_label(target)})" if via_schedule else ""
        if person is None:
            who = f"user {user_id}" if via_schedule else _label(target)
            reach.gaps.append((UNREACHABLE, f"{who}{where} no longer exists"))
        elif not person.page_address:
            reach.gaps.append((UNREACHABLE, f"{person.name}{where} has no contact method"))
        else:
            reach.user_ids.append(user_id)
    reach.user_ids = list(dict.fromkeys(reach.user_ids))
    reach.gaps = list(dict.fromkeys(reach.gaps))
    return reach
