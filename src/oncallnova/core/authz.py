"""Who is acting, and the one rule every use case applies: is their role enough?

Use cases take a `Principal` and call `require`, so HTTP, the web UI and (later) gRPC
share the same rules. Roles are ordered: viewer < responder < admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from oncallnova.core.errors import Forbidden


class Role(IntEnum):
    viewer = 1
    responder = 2
    admin = 3


@dataclass(frozen=True)
class Principal:
    user_id: str
    name: str
    email: str
    role: Role
    ip: str | None = None
    via: str = "token"  # "jwt", "cookie", "api-token", or "system"
    session_id: str | None = None  # the sign-in session of a JWT or cookie

    @property
    def label(self) -> str:
        """How the principal appears on timelines and in the audit log."""
        return self.name or self.email


SYSTEM = Principal(user_id="system", name="system", email="", role=Role.admin, via="system")


def require(actor: Principal, role: Role) -> None:
    if actor.role < role:
        raise Forbidden(f"this needs the {role.name} role; you are {actor.role.name}")


def require_self_or(actor: Principal, user_id: str, role: Role) -> None:
    """The user themself, or someone with `role`."""
    if actor.user_id != user_id:
        require(actor, role)
