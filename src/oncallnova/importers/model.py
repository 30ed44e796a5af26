"""What an import wants to exist, in OnCallNova's terms, whatever tool it came from.

People are named by email and everything else by name: those are what stay the same
from one run to the next, so a second run finds what the first created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class UserSpec:
    email: str
    name: str
    time_zone: str = "UTC"


@dataclass
class TeamSpec:
    name: str
    member_emails: list[str] = field(default_factory=list)


@dataclass
class LayerSpec:
    name: str
    emails: list[str]
    turn: str | float
    handoff: datetime
    restrictions: list[dict[str, str | int]] = field(default_factory=list)
    end: datetime | None = None


@dataclass
class OverrideSpec:
    email: str
    start: datetime
    end: datetime


@dataclass
class ScheduleSpec:
    name: str
    time_zone: str = "UTC"
    layers: list[LayerSpec] = field(default_factory=list)
    overrides: list[OverrideSpec] = field(default_factory=list)


@dataclass
class TargetSpec:
    type: str  # "user" (by email) or "schedule" (by name)
    ref: str


@dataclass
class LevelSpec:
    targets: list[TargetSpec]
    delay_seconds: int | None = None


@dataclass
class PolicySpec:
    name: str
    levels: list[LevelSpec]
    repeat: int = 0


@dataclass
class ServiceSpec:
    """An old integration as a service: where its senders pointed, and what they send."""

    name: str
    sender: str  # "opsgenie", or a Grafana OnCall integration type
    old_urls: list[str] = field(default_factory=list)
    policy: str | None = None
    team: str | None = None


@dataclass
class Remark:
    """Something of the old tool that has no equivalent here, said per object."""

    kind: str
    name: str
    text: str


@dataclass
class Bundle:
    users: list[UserSpec] = field(default_factory=list)
    teams: list[TeamSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    policies: list[PolicySpec] = field(default_factory=list)
    services: list[ServiceSpec] = field(default_factory=list)
    remarks: list[Remark] = field(default_factory=list)

    def remark(self, kind: str, name: str, text: str) -> None:
        self.remarks.append(Remark(kind, name, text))
