"""Request and response shapes of the alerts domain (native format)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    field_validator,
)

from oncallnova.alerts import logic
from oncallnova.core.validation import to_utc

LabelName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
LabelValue = Annotated[str, StringConstraints(max_length=4096)]
Labels = Annotated[dict[LabelName, LabelValue], Field(max_length=100)]


def as_utc(value: datetime | None) -> datetime | None:
    """Read a timestamp without a zone as UTC; one outside UTC's years is refused."""
    return None if value is None else to_utc(value)


class AlertIn(BaseModel):
    """One alert in OnCallNova's native format. An unknown field is ignored and named in
    the answer's `warnings`."""

    # Extras are kept (not refused: senders keep working) so that they can be warned of.
    model_config = ConfigDict(extra="allow")

    title: str = Field(min_length=1, max_length=1024)
    severity: Literal["critical", "high", "medium", "low"]
    source: str | None = Field(default=None, max_length=1024)
    description: str | None = Field(default=None, max_length=65_536)
    labels: Labels = Field(default_factory=dict)
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    status: Literal["firing", "resolved"] = "firing"
    timestamp: datetime | None = None
    details: dict[str, Any] | None = Field(
        default=None, description="Free-form details (any JSON object), shown with the alert."
    )
    runbook_url: str | None = Field(
        default=None, max_length=2048, description="An http(s) link to the runbook."
    )

    _utc = field_validator("timestamp")(as_utc)

    @field_validator("runbook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not logic.is_web_url(value):
            raise ValueError("must be an http:// or https:// URL")
        return value


# A plain dataclass, not a model: ingestion builds one per alert, and pydantic
# serialises it without validating it again.
@dataclass(slots=True)
class AlertResult:
    """What became of one posted alert; `alert_id` and `incident_id` are null when a
    resolve matched no open alert (status `ignored`)."""

    alert_id: str | None
    incident_id: str | None
    deduplicated: bool
    fingerprint: str
    status: Literal["firing", "resolved", "ignored"]


class IngestResponse(BaseModel):
    accepted: int
    alerts: list[AlertResult]
    warnings: list[str] = Field(
        default_factory=list,
        description="What was accepted but ignored, e.g. 'alerts[0].dedupkey: unknown field'.",
    )


class AlertLink(BaseModel):
    text: str
    href: str


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    service_id: str
    incident_id: str
    fingerprint: str
    dedup_key: str | None
    title: str
    description: str | None
    severity: str
    source: str | None
    labels: dict[str, str]
    details: dict[str, Any] | None
    status: Literal["firing", "resolved"]
    count: int
    occurred_at: datetime | None
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    silence_id: str | None = Field(
        default=None,
        description="The silence that matched the alert when it arrived (or when the "
        "silence began); a silenced alert pages nobody.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def links(self) -> list[AlertLink]:
        """The http(s) links its details carry (runbook, source, PagerDuty links)."""
        return [AlertLink(text=t, href=h) for t, h in logic.links(self.details)]
