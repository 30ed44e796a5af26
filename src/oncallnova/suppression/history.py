"""The trail a silence or a window keeps of its own changes: who, when, what and why.

The audit log (admins only) records the same changes with the actor's address; this
trail travels with the row, so everyone who may read the silence sees why it is there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from oncallnova.core.audit import note
from oncallnova.core.authz import Principal

LIMIT = 200  # entries kept per row; the audit log keeps everything


class HasHistory(Protocol):
    id: str
    history: list[dict[str, Any]]


def record(
    row: HasHistory,
    now: datetime,
    actor: str,
    action: str,
    reason: str | None = None,
    changes: Iterable[str] = (),
) -> None:
    entry = {
        "at": now.isoformat(),
        "actor": actor,
        "action": action,
        "reason": reason,
        "changes": sorted(changes),
    }
    # A new list, so that the JSON column is seen as changed.
    row.history = [*(row.history or [])[-(LIMIT - 1) :], entry]


def audited(
    session: Any,
    who: Principal,
    row: HasHistory,
    kind: str,
    action: str,
    now: datetime,
    reason: str | None = None,
    changes: Iterable[str] = (),
) -> None:
    """A change by a person: in the row's trail and in the audit log."""
    changed = sorted(changes)
    record(row, now, who.label, action, reason, changed)
    details: dict[str, Any] = {"reason": reason} if reason else {}
    if changed:
        details["fields"] = changed
    note(session, who, f"{kind}.{action}", kind, row.id, details or None)
