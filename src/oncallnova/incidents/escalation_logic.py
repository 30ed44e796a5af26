"""Pure rules of escalation: where a policy goes next, and when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Why an incident paged nobody (the `reason` label of the unpaged-incidents counter).
NO_POLICY = "no_policy"
NOBODY_REACHABLE = "nobody_reachable"
UNPAGED_REASONS = (NO_POLICY, NOBODY_REACHABLE)


@dataclass(frozen=True)
class Position:
    level: int
    round: int


def next_position(snapshot: dict[str, Any], level: int, round_: int) -> Position | None:
    """The level to page after (level, round); None once the last repeat is done.

    level -1 means nothing was paged yet, so the answer is the first level.
    """
    levels = snapshot.get("levels") or []
    if not levels:
        return None
    if level < 0:
        return Position(0, 0)
    if level + 1 < len(levels):
        return Position(level + 1, round_)
    if round_ < int(snapshot.get("repeat", 0)):
        return Position(0, round_ + 1)
    return None


def delay_seconds(snapshot: dict[str, Any], level: int) -> int:
    return int(snapshot["levels"][level]["delay_seconds"])


def targets(snapshot: dict[str, Any], level: int) -> list[dict[str, str]]:
    return list(snapshot["levels"][level]["targets"])
