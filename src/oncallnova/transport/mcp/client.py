"""OnCallNova's REST API as typed calls: what the MCP tools use.

Going through the API (over the network for `oncallnova mcp`, in process for `/mcp`)
means a tool can do exactly what its token's user may do, checked and audited as any
other API call. Answers are parsed into the domains' own response models; refusals
become `ToolError`s that tell the assistant what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ValidationError

from oncallnova.analytics.schemas import AnalyticsQuery, DistributionOut, SummaryOut, TrendsOut
from oncallnova.incidents.schemas import (
    IncidentDetail,
    IncidentFilter,
    IncidentOut,
    IncidentPage,
    SimilarIncidents,
    TimelineOut,
)
from oncallnova.oncall.policy_schemas import PolicyList
from oncallnova.oncall.schedule_schemas import OnCallNow, OverrideOut, ScheduleList
from oncallnova.services.schemas import ServiceList
from oncallnova.suppression.schemas import SilenceDraft, SilenceIn, SilenceOut
from oncallnova.users.schemas import TeamList, UserList

M = TypeVar("M", bound=BaseModel)
Params = dict[str, Any]

# What to try when an id names nothing, per kind of record.
FIND_INCIDENT = "list_incidents gives incident ids and numbers."
FIND_SCHEDULE = "list_schedules gives schedule ids; list_users gives user ids."


class OnCallNovaApi:
    """Typed calls on one HTTP client; `headers` and `extensions` go with every request
    (the caller's bearer token and address when the client is shared by many callers)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        self._http = http
        self._headers = dict(headers or {})
        self._extensions = dict(extensions or {})

    # --- reads ---

    async def incidents(self, flt: IncidentFilter) -> IncidentPage:
        params: Params = {
            "status": flt.status,
            "severity": flt.severity,
            "service_id": flt.service_id,
            "team_id": flt.team_id,
            "q": flt.text,
            "since": _iso(flt.since),
            "until": _iso(flt.until),
            "order": flt.order,
            "limit": flt.limit,
            "offset": flt.offset,
        }
        return await self._get("/api/v1/incidents", IncidentPage, params)

    async def incident(self, reference: str) -> IncidentDetail:
        path = f"/api/v1/incidents/{_segment(reference)}"
        return await self._get(path, IncidentDetail, missing=FIND_INCIDENT)

    async def similar(self, reference: str, limit: int) -> SimilarIncidents:
        path = f"/api/v1/incidents/{_segment(reference)}/similar"
        return await self._get(path, SimilarIncidents, {"limit": limit}, missing=FIND_INCIDENT)

    async def oncall(self, at: datetime | None) -> OnCallNow:
        return await self._get("/api/v1/oncall", OnCallNow, {"at": _iso(at)})

    async def schedules(self) -> ScheduleList:
        return await self._get("/api/v1/schedules", ScheduleList)

    async def services(self) -> ServiceList:
        return await self._get("/api/v1/services", ServiceList)

    async def policies(self) -> PolicyList:
        return await self._get("/api/v1/escalation-policies", PolicyList)

    async def teams(self) -> TeamList:
        return await self._get("/api/v1/teams", TeamList)

    async def users(self) -> UserList:
        return await self._get("/api/v1/users", UserList)

    async def summary(self, query: AnalyticsQuery) -> SummaryOut:
        return await self._get("/api/v1/analytics/summary", SummaryOut, _analytics(query))

    async def trends(self, query: AnalyticsQuery, bucket: str) -> TrendsOut:
        params = {**_analytics(query), "bucket": bucket}
        return await self._get("/api/v1/analytics/trends", TrendsOut, params)

    async def distribution(self, query: AnalyticsQuery) -> DistributionOut:
        params = _analytics(query)
        return await self._get("/api/v1/analytics/mttr-distribution", DistributionOut, params)

    # --- writes ---

    async def acknowledge(self, incident_id: str, message: str | None) -> IncidentOut:
        path = f"/api/v1/incidents/{_segment(incident_id)}/acknowledge"
        return await self._post(path, IncidentOut, {"message": message}, missing=FIND_INCIDENT)

    async def resolve(self, incident_id: str, message: str | None) -> IncidentOut:
        path = f"/api/v1/incidents/{_segment(incident_id)}/resolve"
        return await self._post(path, IncidentOut, {"message": message}, missing=FIND_INCIDENT)

    async def add_note(self, incident_id: str, message: str) -> TimelineOut:
        path = f"/api/v1/incidents/{_segment(incident_id)}/notes"
        return await self._post(path, TimelineOut, {"message": message}, missing=FIND_INCIDENT)

    async def escalate(self, incident_id: str) -> IncidentOut:
        path = f"/api/v1/incidents/{_segment(incident_id)}/escalate"
        return await self._post(path, IncidentOut, None, missing=FIND_INCIDENT)

    async def add_override(
        self, schedule_id: str, user_id: str, start: datetime, end: datetime
    ) -> OverrideOut:
        path = f"/api/v1/schedules/{_segment(schedule_id)}/overrides"
        body = {"user_id": user_id, "start": start.isoformat(), "end": end.isoformat()}
        return await self._post(path, OverrideOut, body, missing=FIND_SCHEDULE)

    async def silence_draft(self, incident_id: str) -> SilenceDraft:
        params = {"incident_id": incident_id}
        return await self._get(
            "/api/v1/silences/draft", SilenceDraft, params, missing=FIND_INCIDENT
        )

    async def create_silence(self, silence: SilenceIn) -> SilenceOut:
        body = silence.model_dump(mode="json", exclude_none=True)
        return await self._post("/api/v1/silences", SilenceOut, body)

    # --- the exchange ---

    async def _get(
        self, path: str, out: type[M], params: Params | None = None, *, missing: str = ""
    ) -> M:
        return await self._call("GET", path, out, params=params, missing=missing)

    async def _post(self, path: str, out: type[M], body: Any, *, missing: str = "") -> M:
        return await self._call("POST", path, out, body=body, missing=missing)

    async def _call(
        self,
        method: str,
        path: str,
        out: type[M],
        *,
        params: Params | None = None,
        body: Any = None,
        missing: str,
    ) -> M:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self._http.request(
                method,
                path,
                params=query,
                json=body,
                headers=self._headers,
                extensions=self._extensions,
            )
        except httpx.TransportError as exc:
            raise ToolError(
                f"OnCallNova at {self._http.base_url} cannot be reached ({type(exc).__name__}). "
                "Check that it is running and that ONCALLNOVA_URL points to it, then retry."
            ) from exc
        if response.is_success:
            try:
                return out.model_validate_json(response.content)
            except ValidationError as exc:
                raise ToolError(
                    f"OnCallNova answered {method} {path} with an unexpected body; is "
                    "ONCALLNOVA_URL an OnCallNova server of the same version as this command?"
                ) from exc
        raise ToolError(explain(response, missing))


def explain(response: httpx.Response, missing: str) -> str:
    """A refusal of the API as a sentence an assistant can act on."""
    detail, errors = _problem(response)
    status = response.status_code
    if status == 401:
        return (
            f"OnCallNova refused the API token ({detail}). Create an API token in OnCallNova "
            "(web UI: Account, API tokens; or POST /api/v1/auth/api-tokens) and configure it "
            "(ONCALLNOVA_TOKEN for `oncallnova mcp`, the bearer token of an /mcp connection)."
        )
    if status == 403:
        return (
            f"Not allowed: {detail}. The API token acts with its user's role (viewers read; "
            "responders also acknowledge, resolve, escalate, add notes, overrides and silences). "
            "Ask an OnCallNova admin for that role, or do this in OnCallNova's web UI."
        )
    if status == 404:
        return f"Not found: {detail}. {missing}".strip()
    if status == 409:
        return f"Not possible now: {detail}."
    if status in (400, 413, 422):
        problems = "; ".join(errors) if errors else detail
        return f"Invalid input: {problems}. Correct the arguments and call again."
    if status in (429, 503):
        wait = response.headers.get("retry-after", "a few")
        why = "is limiting requests" if status == 429 else "is unavailable"
        return f"OnCallNova {why} ({detail}); retry in {wait} seconds."
    return f"OnCallNova answered {status}: {detail}."


def _problem(response: httpx.Response) -> tuple[str, list[str]]:
    """The API's error body: `detail` and, for bad input, `errors`."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no detail", []
    if not isinstance(body, dict):
        return str(body), []
    errors = body.get("errors")
    return str(body.get("detail", "no detail")), [str(e) for e in errors or []]


def _segment(value: str) -> str:
    """A value as one path segment, whatever it holds."""
    return quote(value, safe="")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _analytics(query: AnalyticsQuery) -> Params:
    return query.model_dump(exclude_none=True)
