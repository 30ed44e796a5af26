"""Shapes of how a person is reached: contact methods, notification rules, shift reminders.

A contact method is one place a notification can go: an email address, a chat incoming
webhook (Slack, Mattermost, Microsoft Teams Workflows) or an ntfy topic (push to a phone).
Webhook URLs, ntfy topics and tokens let whoever holds them post, so the public view of
a contact method (the one every signed-in user sees on a profile) names only its type,
name and host; its owner and admins see the rest, and a token is never shown again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

ContactType = Literal["email", "slack", "mattermost", "teams", "ntfy"]
CONTACT_TYPES: tuple[str, ...] = ContactType.__args__  # type: ignore[attr-defined]
CHAT_TYPES = ("slack", "mattermost", "teams")
# What each type needs, and nothing else may be set.
FIELDS: dict[str, tuple[str, ...]] = {
    "email": ("address",),
    "slack": ("url",),
    "mattermost": ("url",),
    "teams": ("url",),
    "ntfy": ("server", "topic"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {"ntfy": ("token",)}
MAX_DELAY_MINUTES = 24 * 60
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LEAD_MINUTES = 7 * 24 * 60


def check_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value.lower()


def check_http_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    return value


def _topic(value: str) -> str:
    value = value.strip()
    # ntfy topics are path segments: letters, digits, dash and underscore, up to 64.
    if not value or len(value) > 64 or not all(c.isalnum() or c in "-_" for c in value):
        raise ValueError("must be 1 to 64 letters, digits, '-' or '_'")
    return value


CHECKS: dict[str, Callable[[str], str]] = {
    "address": check_email,
    "url": check_http_url,
    "server": check_http_url,
    "topic": _topic,
    "token": str.strip,
}


class ContactMethodIn(BaseModel):
    """One way to reach the user. `type` picks which fields apply: `address` (email);
    `url` (slack, mattermost, teams: the incoming webhook URL); `server`, `topic` and an
    optional access `token` (ntfy)."""

    model_config = ConfigDict(extra="forbid")

    type: ContactType = "email"
    name: str = Field(default="", max_length=100, description="A label, e.g. 'work phone'.")
    address: str | None = Field(default=None, max_length=320, validate_default=True)
    url: str | None = Field(default=None, max_length=2048, validate_default=True)
    server: str | None = Field(
        default=None,
        max_length=2048,
        validate_default=True,
        description="ntfy server, e.g. https://ntfy.example.com",
    )
    topic: str | None = Field(default=None, max_length=64, validate_default=True)
    token: str | None = Field(
        default=None, max_length=200, validate_default=True, description="ntfy access token"
    )

    @field_validator("address", "url", "server", "topic", "token")
    @classmethod
    def _fits_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = str(info.data.get("type") or "email")
        field = str(info.field_name)
        if field in FIELDS[kind] and not (value or "").strip():
            raise ValueError(f"required for a {kind} contact method")
        if field not in FIELDS[kind] + OPTIONAL.get(kind, ()):
            if value is not None:
                raise ValueError(f"does not apply to a {kind} contact method")
            return None
        if value is None or (field == "token" and not value):
            return value
        return CHECKS[field](value)

    def stored(self, method_id: str) -> dict[str, Any]:
        fields = FIELDS[self.type] + OPTIONAL.get(self.type, ())
        row = {"id": method_id, "type": self.type, "name": self.name.strip()}
        row.update({f: getattr(self, f) for f in fields if getattr(self, f)})
        return row


class ContactMethodPatch(BaseModel):
    """Change a contact method's name or target; its type stays. `token: ""` removes it."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=320)
    url: str | None = Field(default=None, max_length=2048)
    server: str | None = Field(default=None, max_length=2048)
    topic: str | None = Field(default=None, max_length=64)
    token: str | None = Field(default=None, max_length=200)


def target(method: dict[str, Any]) -> str:
    """Where a contact method points, safe to show anyone: an email address, or a host."""
    if method.get("type", "email") == "email":
        return str(method.get("address") or "")
    return urlsplit(str(method.get("url") or method.get("server") or "")).hostname or ""


class ContactMethodPublic(BaseModel):
    """A contact method as every signed-in user sees it on a profile."""

    id: str
    type: ContactType
    name: str = ""
    address: str | None = Field(default=None, description="The email address (email only).")
    target: str = Field(description="The email address, or the host a chat or ntfy posts to.")

    @model_validator(mode="before")
    @classmethod
    def _from_stored(cls, value: Any) -> Any:
        if isinstance(value, dict) and "target" not in value:
            return {
                "id": value.get("id", ""),
                "type": value.get("type", "email"),
                "name": value.get("name", ""),
                "address": value.get("address"),
                "target": target(value),
            }
        return value


class ContactMethodOut(BaseModel):
    """A contact method as its owner and admins see it (the token is never shown)."""

    id: str
    type: ContactType
    name: str
    address: str | None = None
    url: str | None = None
    server: str | None = None
    topic: str | None = None
    token_set: bool = Field(default=False, description="Whether an ntfy access token is stored.")
    target: str

    @classmethod
    def of(cls, method: dict[str, Any]) -> ContactMethodOut:
        return cls(
            id=method["id"],
            type=method.get("type", "email"),
            name=method.get("name", ""),
            address=method.get("address"),
            url=method.get("url"),
            server=method.get("server"),
            topic=method.get("topic"),
            token_set=bool(method.get("token")),
            target=target(method),
        )


class ContactMethodList(BaseModel):
    items: list[ContactMethodOut]


class RuleIn(BaseModel):
    """When paged, notify this contact method after `delay_minutes` (0: at once)."""

    model_config = ConfigDict(extra="forbid")

    contact_method_id: str = Field(min_length=1, max_length=36)
    delay_minutes: int = Field(default=0, ge=0, le=MAX_DELAY_MINUTES)


class RuleOut(RuleIn):
    id: str


class RulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleIn] = Field(max_length=20)


class RulesOut(BaseModel):
    rules: list[RuleOut] = Field(description="In the order they fire (by delay).")
    default: bool = Field(
        description="True when the user has no rule: a page notifies every contact method at once."
    )


class ReminderIn(BaseModel):
    """Tell the user `minutes_before` their on-call shift starts, or when it ends."""

    model_config = ConfigDict(extra="forbid")

    contact_method_id: str = Field(min_length=1, max_length=36)
    event: Literal["start", "end"] = "start"
    minutes_before: int = Field(
        default=60, ge=0, le=MAX_LEAD_MINUTES, description="For `start`: how long before."
    )


class ReminderOut(ReminderIn):
    id: str


class RemindersOut(BaseModel):
    reminders: list[ReminderOut]
