"""Audit notes: use cases note what an actor changed; the note is written to the audit
log in the same transaction (see `auth.audit.AuditLog.write_notes`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oncallnova.core.authz import Principal


@dataclass(frozen=True)
class AuditNote:
    actor: Principal
    action: str  # e.g. "service.create", "incident.acknowledge"
    target_type: str
    target_id: str | None
    details: dict[str, Any] | None = None


def note(
    session: Any,
    actor: Principal,
    action: str,
    target_type: str,
    target_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    session.info.setdefault("audit", []).append(
        AuditNote(actor, action, target_type, target_id, details)
    )
