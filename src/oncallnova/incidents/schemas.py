"""Request and response shapes of the incidents domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oncallnova.alerts.schemas import AlertOut
from oncallnova.notify.schemas import PageOut

Severity = Literal["critical", "high", "medium", "low"]
Status = Literal["triggered", "acknowledged", "resolved"]


class TimelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any] | None = None


class IncidentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: int = Field(
        description="Short number per installation (#1, #2, ...), the one people say; "
        "GET /api/v1/incidents/{number} finds the incident by it too."
    )
    service_id: str
    service_name: str | None = None
    title: str
    severity: Severity
    status: Status
    alert_count: int
    created_at: datetime
    last_alert_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    mtta_seconds: float | None
    mttr_seconds: float | None
    escalation_policy_id: str | None = None
    escalation_level: int = Field(
        default=0, description="Level last paged, counting from 1; 0 before the first page."
    )
    escalation_round: int = Field(default=0, description="0 on the first pass, then repeats.")
    next_escalation_at: datetime | None = None
    silence_id: str | None = Field(
        default=None,
        description="The silence holding it: it matches every firing alert of the incident, "
        "which pages nobody while it lasts (kept once resolved, as a record).",
    )
    maintenance_window_id: str | None = Field(
        default=None,
        description="The maintenance window of its service holding it: it pages nobody "
        "until the window ends (kept once resolved, as a record).",
    )
    other_titles: list[str] = Field(
        default_factory=list,
        description="Titles of its alerts other than the incident's own, newest first (at "
        "most 5), so an alert that joined a noisy incident is seen.",
    )
    other_titles_total: int = Field(
        default=0, description="How many distinct titles other than its own its alerts have."
    )


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int
    limit: int
    offset: int


class ActionIn(BaseModel):
    """Optional body of acknowledge and resolve."""

    model_config = ConfigDict(extra="forbid")

    message: str | None = Field(default=None, max_length=10_000)


class ReassignIn(BaseModel):
    """Page one user now, or hand the incident to another escalation policy."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = None
    escalation_policy_id: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReassignIn:
        if (self.user_id is None) == (self.escalation_policy_id is None):
            raise ValueError("give exactly one of user_id and escalation_policy_id")
        return self


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=10_000)


class IncidentFilter(BaseModel):
    status: list[Status] | None = None
    service_id: str | None = None
    team_id: str | None = Field(default=None, description="Only the services of this team.")
    text: str | None = Field(default=None, max_length=200, description="In the title, any case.")
    severity: list[Severity] | None = None
    since: datetime | None = None
    until: datetime | None = None
    silenced: bool | None = Field(
        default=None, description="true: only incidents a silence holds; false: hide them."
    )
    maintenance: bool | None = Field(
        default=None,
        description="true: only incidents a maintenance window holds; false: hide them.",
    )
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)
    order: Literal["newest", "triage"] = Field(
        default="newest",
        description="newest: newest first; triage: open first, then by severity, then newest.",
    )


class StatusCounts(BaseModel):
    triggered: int = 0
    acknowledged: int = 0
    resolved: int = 0


class IncidentDetail(IncidentOut):
    """An incident with its alerts, its timeline (oldest first) and its pages."""

    alerts: list[AlertOut]
    timeline: list[TimelineOut]
    pages: list[PageOut]


class PastIncident(IncidentOut):
    """An earlier incident like another one, and how it ended."""

    resolution: str | None = Field(
        description="What was written when it was resolved (the resolver's message, or that "
        "every alert resolved on its own); null while it is open."
    )
    notes: list[TimelineOut] = Field(description="Notes left on it, oldest first (the last 10).")


class SimilarIncidents(BaseModel):
    """Earlier incidents of the same service and correlation key as one incident."""

    incident_id: str
    incident_number: int
    service_id: str
    service_name: str | None
    correlation_key: str = Field(
        description="Digest of the alert fields the service correlates on (by default its "
        "severity): incidents sharing it came from the same kind of alert."
    )
    total: int = Field(description="How many earlier incidents share the service and key.")
    resolved: int = Field(description="How many of those are resolved.")
    mean_mtta_seconds: float | None = Field(
        description="Mean time to acknowledge over all of them that were acknowledged."
    )
    mean_mttr_seconds: float | None = Field(
        description="Mean time to resolve over all of them that were resolved."
    )
    items: list[PastIncident] = Field(description="The most recent of them, newest first.")
