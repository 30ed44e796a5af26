"""Grafana OnCall's inbound integrations (`/integrations/v1/<type>/<token>/`), read as
Grafana OnCall read them. Sources, in grafana/oncall:
- the URLs: `engine/apps/integrations/urls.py`; how each view reads its body:
  `engine/apps/integrations/views.py` (`AlertManagerAPIView.process_v2`: one alert per
  webhook; `GrafanaAPIView`: Alertmanager-form entries one by one, else a legacy Grafana
  notification; `UniversalAPIView`: the body as it is);
- grouping and resolving per type, `engine/config_integrations/`: `alertmanager.py` and
  `grafana_alerting.py` group by `groupKey` and resolve on `status == "resolved"`;
  `grafana.py` groups by `ruleName` (else `labels.alertname`) and resolves on
  `state == "ok"` or `status == "resolved"`; `formatted_webhook.py` groups by `alert_uid`
  and resolves on `state` "OK" (title, message, image_url, link_to_upstream_details);
  `webhook.py` resolves on `state` "OK".
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from oncallnova.alerts.formats import alertmanager
from oncallnova.alerts.formats.alertmanager import SEVERITY, AmAlert
from oncallnova.alerts.logic import NormalizedAlert, dedup_key_for
from oncallnova.alerts.schemas import Labels

TYPES = ("alertmanager", "grafana_alerting", "grafana", "webhook", "formatted_webhook")
_ENTRIES_KEPT = 50  # entries of a group kept in the alert's details


class AlertGroup(BaseModel):
    """The Alertmanager webhook form, as Alertmanager sends it (payload version 4) and as
    Grafana alerting sends it (version 1, with `title`, `message`, `state`, `orgId`).
    Unknown fields are ignored: these senders write their bodies themselves."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    alerts: list[AmAlert] = Field(max_length=1000)
    groupKey: str | None = Field(default=None, max_length=65_536)
    receiver: str | None = Field(default=None, max_length=1024)
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Labels = Field(default_factory=dict)
    externalURL: str | None = Field(default=None, max_length=2048)
    title: str | None = Field(default=None, max_length=65_536)
    message: str | None = Field(default=None, max_length=65_536)


class GrafanaEntries(BaseModel):
    """`grafana` with Alertmanager-form entries: Grafana OnCall read only the entries."""

    model_config = ConfigDict(extra="ignore")

    alerts: list[AmAlert] = Field(max_length=1000)
    groupKey: str | None = Field(default=None, max_length=65_536)
    receiver: str | None = Field(default=None, max_length=1024)
    externalURL: str | None = Field(default=None, max_length=2048)


class LegacyGrafana(BaseModel):
    """Grafana's legacy alerting notification (before unified alerting)."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = Field(default=None, max_length=1024)
    ruleId: int | None = None
    ruleName: str | None = Field(default=None, max_length=1024)
    ruleUrl: str | None = Field(default=None, max_length=2048)
    state: str | None = Field(default=None, max_length=64)
    message: str | None = Field(default=None, max_length=65_536)
    imageUrl: str | None = Field(default=None, max_length=2048)
    evalMatches: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    tags: Labels = Field(default_factory=dict)


class FormattedWebhook(BaseModel):
    # Extras are kept so that the answer's warnings can name them.
    model_config = ConfigDict(extra="allow")

    alert_uid: str | None = Field(default=None, max_length=1024)
    title: str | None = Field(default=None, max_length=1024)
    message: str | None = Field(default=None, max_length=65_536)
    image_url: str | None = Field(default=None, max_length=2048)
    state: str | None = Field(default=None, max_length=64)
    link_to_upstream_details: str | None = Field(default=None, max_length=2048)


def group_alert(group: AlertGroup, kind: str) -> NormalizedAlert:
    """`alertmanager` and `grafana_alerting`: the whole webhook is one alert, keyed by its
    group key; a resolved webhook resolves it."""
    labels = group.commonLabels or group.groupLabels
    first = group.alerts[0].labels if group.alerts else {}
    notes = group.commonAnnotations
    title = (
        notes.get("summary")
        or notes.get("title")
        or group.title
        or labels.get("alertname")
        or first.get("alertname")
        or "Alert group"
    )
    identity = group.groupKey or _hash(sorted((group.groupLabels or labels).items()))
    details: dict[str, Any] = {"integration": f"grafana-oncall/{kind}"}
    if notes:
        details["annotations"] = notes
    for name, value in (
        ("group_key", group.groupKey),
        ("receiver", group.receiver),
        ("external_url", group.externalURL),
    ):
        if value:
            details[name] = value
    details["firing"] = sum(1 for a in group.alerts if a.status == "firing")
    details["resolved"] = len(group.alerts) - details["firing"]
    details["alerts"] = [
        a.model_dump(mode="json", exclude_none=True) for a in group.alerts[:_ENTRIES_KEPT]
    ]
    starts = [t for a in group.alerts if (t := alertmanager.instant(a.startsAt)) is not None]
    return NormalizedAlert(
        title=title[:1024],
        severity=_severity(labels.get("severity")),
        action="resolve" if group.status == "resolved" else "trigger",
        source=labels.get("instance") or labels.get("job") or group.externalURL,
        description=notes.get("description") or group.message,
        labels=dict(labels),
        dedup_key=dedup_key_for(identity),
        occurred_at=min(starts) if starts else None,
        details=details,
    )


def grafana_entries(group: GrafanaEntries) -> list[NormalizedAlert]:
    """`grafana` with Alertmanager-form entries: each entry is one alert."""
    return [alertmanager.entry_alert(group, entry) for entry in group.alerts]


def legacy_alert(note: LegacyGrafana) -> NormalizedAlert:
    identity = note.ruleName or note.tags.get("alertname") or note.title or "Grafana alert"
    details: dict[str, Any] = {"integration": "grafana-oncall/grafana"}
    if note.ruleUrl:
        details["links"] = [{"href": note.ruleUrl, "text": "Grafana rule"}]
    if note.imageUrl:
        details["images"] = [{"src": note.imageUrl, "alt": "Graph"}]
    if note.evalMatches:
        details["eval_matches"] = note.evalMatches
    if note.state:
        details["state"] = note.state
    return NormalizedAlert(
        title=(note.title or note.ruleName or "Grafana alert")[:1024],
        severity=alertmanager.DEFAULT_SEVERITY,
        action="resolve" if (note.state or "").lower() == "ok" else "trigger",
        description=note.message,
        labels=dict(note.tags),
        dedup_key=dedup_key_for(f"rule:{identity}"),
        details=details,
    )


def formatted_alert(hook: FormattedWebhook) -> NormalizedAlert:
    details: dict[str, Any] = {"integration": "grafana-oncall/formatted_webhook"}
    if hook.link_to_upstream_details:
        details["links"] = [{"href": hook.link_to_upstream_details, "text": "Upstream details"}]
    if hook.image_url:
        details["images"] = [{"src": hook.image_url, "alt": "Image"}]
    if hook.state:
        details["state"] = hook.state
    return NormalizedAlert(
        title=hook.title or "Title undefined",
        severity=alertmanager.DEFAULT_SEVERITY,
        action="resolve" if (hook.state or "").upper() == "OK" else "trigger",
        description=hook.message,
        # Grafana OnCall grouped every alert without `alert_uid` into one group.
        dedup_key=dedup_key_for(f"uid:{hook.alert_uid or ''}"),
        details=details,
    )


# Fields a generic webhook's alert is known by, in the order they are looked for.
_IDENTITY_FIELDS = ("alert_uid", "alert_id", "id", "dedup_key", "fingerprint", "title")


def webhook_alert(payload: dict[str, Any]) -> NormalizedAlert:
    """`webhook`: any JSON object. Grafana OnCall's default grouping was the whole body,
    so that a resolving body (with `state` "OK") never met the alert it resolved; here
    an alert is known by its first identity field present (`alert_uid`, `alert_id`, `id`,
    `dedup_key`, `fingerprint`, `title`), else by the body without its `state`."""
    identity = next((str(payload[f]) for f in _IDENTITY_FIELDS if _scalar(payload.get(f))), None)
    if identity is None:
        identity = _hash({k: v for k, v in payload.items() if k != "state"})
    title = _text(payload.get("title")) or _text(payload.get("message")) or "Incident"
    state = str(payload.get("state") or "")
    restored = payload.get("is_amixr_heartbeat_restored") is True
    details: dict[str, Any] = {"integration": "grafana-oncall/webhook", "custom_details": payload}
    if url := _text(payload.get("url")):
        details["links"] = [{"href": url, "text": "Source"}]
    severity = _text(payload.get("severity"))
    return NormalizedAlert(
        title=title[:1024],
        severity=_severity(severity),
        action="resolve" if state.upper() == "OK" or restored else "trigger",
        description=_text(payload.get("message")) if _text(payload.get("title")) else None,
        dedup_key=dedup_key_for(f"id:{identity}"),
        details=details,
    )


def _severity(value: str | None) -> str:
    return SEVERITY.get((value or "").lower(), alertmanager.DEFAULT_SEVERITY)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _scalar(value: object) -> bool:
    """A non-empty string or a number (an `id: 7`), not a flag or a structure."""
    return bool(_text(value)) or (isinstance(value, int | float) and not isinstance(value, bool))


def _hash(value: object) -> str:
    raw = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()
