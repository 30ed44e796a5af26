"""Shared request helpers of the HTTP transport."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from oncallnova.runtime.services import Services


def use_cases(request: Request) -> Services:
    """The use cases the app was built with; routes and pages call nothing else."""
    value: Services = request.app.state.use_cases
    return value


def instant(value: datetime | None, default: datetime) -> datetime:
    """A query-string instant in UTC; one without a zone is read as UTC."""
    if value is None:
        return default
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
