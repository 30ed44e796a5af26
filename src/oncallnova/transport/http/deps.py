"""Shared request helpers of the HTTP transport."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from oncallnova.runtime.container import Runtime


def runtime(request: Request) -> Runtime:
    value: Runtime = request.app.state.runtime
    return value


def instant(value: datetime | None, default: datetime) -> datetime:
    """A query-string instant in UTC; one without a zone is read as UTC."""
    if value is None:
        return default
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
