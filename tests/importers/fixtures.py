"""What the old tools give out, for the import tests: a loopback HTTP server answering
with their APIs' documented shapes, and iCalendar feeds in each tool's form.

Sources of the shapes:
- Grafana OnCall: grafana/oncall `docs/sources/oncall-api-reference/` (users.md,
  teams.md, schedules.md, on_call_shifts.md, escalation_chains.md,
  escalation_policies.md, integrations.md: list answers `{"count", "next", "previous",
  "results"}`; the shift examples are that page's "Demo single event" and "Demo
  recurrent event"), and the public API serializers in `engine/apps/public_api/`.
- Opsgenie: docs.opsgenie.com, the User, Team, Schedule (`expand=rotation`), Schedule
  Override, Escalation and Integration APIs (`{"data": [...], "took", "requestId"}`).
- iCalendar (RFC 5545): one VEVENT per shift, as each tool's schedule export gives it;
  the person is an ATTENDEE (Grafana OnCall, Opsgenie) or written in the SUMMARY
  (PagerDuty writes the name and the address in the event's text).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def loopback(pages: dict[str, Any] | Callable[[str], dict[str, Any]], auth: str) -> Iterator[str]:
    """Serves `pages` (path with query -> JSON; or a function of the server's own URL
    giving them) on 127.0.0.1; requests without the `Authorization: auth` header get a
    401, unknown paths a 404."""
    served: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != auth:
                self._send(401, {"message": "Could not authenticate"})
            elif self.path in served:
                self._send(200, served[self.path])
            else:
                self._send(404, {"message": f"no {self.path}"})

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    served.update(pages(url) if callable(pages) else pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def page(results: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    return {"count": len(results), "next": next_url, "previous": None, "results": results}


def grafana_oncall_pages(base: str) -> dict[str, Any]:
    users = [
        {
            "id": "U4DNY931HHJS5",
            "email": "public-api-demo-user-1@grafana.com",
            "slack": [],
            "username": "alex",
            "role": "admin",
            "is_phone_number_verified": False,
            "timezone": "America/New_York",
            "teams": ["TI73TDU19W48J"],
        },
        {
            "id": "U7S8BKFUYU7QP",
            "email": "bob@example.com",
            "username": "bob",
            "role": "user",
            "timezone": None,
            "teams": [],
        },
    ]
    return {
        # two pages, to follow `next`
        "/api/v1/users/": page(users[:1], f"{base}/api/v1/users/?page=2"),
        "/api/v1/users/?page=2": page(users[1:]),
        "/api/v1/teams/": page(
            [{"id": "TI73TDU19W48J", "name": "my test team", "email": "", "avatar_url": ""}]
        ),
        "/api/v1/schedules/": page(
            [
                {
                    "id": "SBM7DV7BKFUYU",
                    "team_id": None,
                    "name": "Demo schedule Calendar",
                    "type": "calendar",
                    "time_zone": "America/New_York",
                    "on_call_now": ["U4DNY931HHJS5"],
                    "shifts": ["OH3V5FYQEYJ6M", "O9WTH7CKM3KZW", "OROLLING00001"],
                },
                {
                    "id": "S3Z477AHDXTMF",
                    "team_id": None,
                    "name": "Demo schedule iCal",
                    "type": "ical",
                    "time_zone": "UTC",
                    "ical_url_primary": "https://example.com/meow_calendar.ics",
                    "ical_url_overrides": None,
                    "on_call_now": [],
                },
            ]
        ),
        "/api/v1/on_call_shifts/": page(
            [
                {
                    "id": "OH3V5FYQEYJ6M",
                    "name": "Demo single event",
                    "type": "single_event",
                    "team_id": None,
                    "time_zone": None,
                    "level": 0,
                    "start": "2020-09-10T08:00:00",
                    "duration": 10800,
                    "users": ["U4DNY931HHJS5"],
                },
                {
                    "id": "O9WTH7CKM3KZW",
                    "name": "Demo recurrent event",
                    "type": "recurrent_event",
                    "team_id": None,
                    "time_zone": None,
                    "level": 0,
                    "start": "2020-09-10T16:00:00",
                    "duration": 10800,
                    "frequency": "weekly",
                    "interval": 2,
                    "week_start": "SU",
                    "by_day": ["MO", "WE", "FR"],
                    "by_month": None,
                    "by_monthday": None,
                    "users": ["U4DNY931HHJS5"],
                },
                {
                    "id": "OROLLING00001",
                    "name": "Primary rotation",
                    "type": "rolling_users",
                    "team_id": None,
                    "time_zone": "America/New_York",
                    "level": 1,
                    "start": "2024-01-01T09:00:00",
                    "rotation_start": "2024-01-01T09:00:00",
                    "duration": 86400,
                    "frequency": "daily",
                    "interval": 1,
                    "rolling_users": [["U4DNY931HHJS5"], ["U7S8BKFUYU7QP"]],
                    "start_rotation_from_user_index": 0,
                },
            ]
        ),
        "/api/v1/escalation_chains/": page(
            [{"id": "FWDL7M6N6I9HE", "name": "example-chain", "team_id": None}]
        ),
        "/api/v1/escalation_policies/": page(
            [
                {
                    "id": "E3GA6SJETWWJS",
                    "escalation_chain_id": "FWDL7M6N6I9HE",
                    "position": 0,
                    "type": "notify_persons",
                    "persons_to_notify": ["U4DNY931HHJS5"],
                },
                {
                    "id": "E5JJTU52M5YM4",
                    "escalation_chain_id": "FWDL7M6N6I9HE",
                    "position": 1,
                    "type": "wait",
                    "duration": 300,
                },
                {
                    "id": "E6JJTU52M5YM5",
                    "escalation_chain_id": "FWDL7M6N6I9HE",
                    "position": 2,
                    "type": "notify_on_call_from_schedule",
                    "notify_on_call_from_schedule": "SBM7DV7BKFUYU",
                },
                {
                    "id": "E7JJTU52M5YM6",
                    "escalation_chain_id": "FWDL7M6N6I9HE",
                    "position": 3,
                    "type": "trigger_webhook",
                    "action_to_trigger": "KWUJ6P3ZFA3EL",
                },
                {
                    "id": "E8JJTU52M5YM7",
                    "escalation_chain_id": "FWDL7M6N6I9HE",
                    "position": 4,
                    "type": "repeat_escalation",
                },
            ]
        ),
        "/api/v1/integrations/": page(
            [
                {
                    "id": "CFRPV98RPR1U8",
                    "name": "Grafana :blush:",
                    "team_id": "TI73TDU19W48J",
                    "link": f"{base}/integrations/v1/grafana/mReAoNwDm0eMwKo1mTeTwYo/",
                    "inbound_email": None,
                    "type": "grafana",
                    "default_route": {
                        "id": "RVBE4RKQSCGJ2",
                        "escalation_chain_id": "FWDL7M6N6I9HE",
                    },
                    "heartbeat": {
                        "link": f"{base}/integrations/v1/grafana/mReAoNwDm0eMwKo1mTeTwYo/heartbeat/"
                    },
                    "templates": {"grouping_key": None, "resolve_signal": None},
                },
                {
                    "id": "CZABBIX00001",
                    "name": "Zabbix prod",
                    "team_id": None,
                    "link": f"{base}/integrations/v1/zabbix/zZzZzZzZ/",
                    "type": "zabbix",
                    "default_route": {"id": "R2", "escalation_chain_id": None},
                },
            ]
        ),
    }


def opsgenie_pages() -> dict[str, Any]:
    def data(items: object) -> dict[str, Any]:
        return {"data": items, "took": 0.1, "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"}

    rotation = {
        "id": "b1e8a2f3-0000-4000-8000-000000000001",
        "name": "First Rotation",
        "startDate": "2024-01-01T09:00:00Z",
        "type": "weekly",
        "length": 1,
        "participants": [
            {
                "type": "user",
                "id": "b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4",
                "username": "john.doe@opsgenie.com",
            },
            {
                "type": "user",
                "id": "e07c63f0-dd8c-4ad4-983e-4ee7dc600463",
                "username": "jane.doe@opsgenie.com",
            },
            {"type": "none"},
        ],
        "timeRestriction": {
            "type": "weekday-and-time-of-day",
            "restrictions": [
                {
                    "startDay": "monday",
                    "startHour": 9,
                    "startMin": 0,
                    "endDay": "friday",
                    "endHour": 17,
                    "endMin": 0,
                }
            ],
        },
    }
    return {
        "/v2/users": {
            **data(
                [
                    {
                        "id": "b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4",
                        "username": "john.doe@opsgenie.com",
                        "fullName": "John Doe",
                        "role": {"id": "Admin", "name": "Admin"},
                        "timeZone": "Europe/Istanbul",
                    },
                    {
                        "id": "e07c63f0-dd8c-4ad4-983e-4ee7dc600463",
                        "username": "jane.doe@opsgenie.com",
                        "fullName": "Jane Doe",
                        "role": {"id": "User", "name": "User"},
                        "timeZone": "UTC",
                    },
                ]
            ),
            "totalCount": 2,
            "paging": {"first": "...", "last": "..."},
        },
        "/v2/teams": data(
            [{"id": "90098alp9-f0e3-41d3-a060-0ea895027630", "name": "ops_team", "description": ""}]
        ),
        "/v2/teams/90098alp9-f0e3-41d3-a060-0ea895027630": data(
            {
                "id": "90098alp9-f0e3-41d3-a060-0ea895027630",
                "name": "ops_team",
                "members": [
                    {
                        "user": {
                            "id": "b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4",
                            "username": "john.doe@opsgenie.com",
                        },
                        "role": "admin",
                    }
                ],
            }
        ),
        "/v2/schedules?expand=rotation": data(
            [
                {
                    "id": "d875alp4-9b4e-4219-alp3-0c26936d18de",
                    "name": "ScheduleName",
                    "description": "ScheduleDescription",
                    "timezone": "Europe/Istanbul",
                    "enabled": True,
                    "ownerTeam": {
                        "id": "90098alp9-f0e3-41d3-a060-0ea895027630",
                        "name": "ops_team",
                    },
                    "rotations": [rotation],
                }
            ]
        ),
        "/v2/schedules/d875alp4-9b4e-4219-alp3-0c26936d18de/overrides": data(
            [
                {
                    "alias": "1d1-alias",
                    "user": {
                        "type": "user",
                        "id": "e07c63f0-dd8c-4ad4-983e-4ee7dc600463",
                        "username": "jane.doe@opsgenie.com",
                    },
                    "startDate": "2024-02-01T09:00:00Z",
                    "endDate": "2024-02-02T09:00:00Z",
                    "rotations": [],
                }
            ]
        ),
        "/v2/escalations": data(
            [
                {
                    "id": "9a0d3b8c-0000-4000-8000-000000000001",
                    "name": "Engineering_escalation",
                    "description": "",
                    "ownerTeam": {
                        "id": "90098alp9-f0e3-41d3-a060-0ea895027630",
                        "name": "ops_team",
                    },
                    "rules": [
                        {
                            "condition": "if-not-acked",
                            "notifyType": "default",
                            "delay": {"timeAmount": 0, "timeUnit": "minutes"},
                            "recipient": {
                                "type": "schedule",
                                "id": "d875alp4-9b4e-4219-alp3-0c26936d18de",
                                "name": "ScheduleName",
                            },
                        },
                        {
                            "condition": "if-not-acked",
                            "notifyType": "default",
                            "delay": {"timeAmount": 5, "timeUnit": "minutes"},
                            "recipient": {
                                "type": "user",
                                "id": "b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4",
                                "username": "john.doe@opsgenie.com",
                            },
                        },
                        {
                            "condition": "if-not-acked",
                            "notifyType": "default",
                            "delay": {"timeAmount": 10, "timeUnit": "minutes"},
                            "recipient": {
                                "type": "team",
                                "id": "90098alp9-f0e3-41d3-a060-0ea895027630",
                                "name": "ops_team",
                            },
                        },
                    ],
                    "repeat": {
                        "waitInterval": 10,
                        "count": 2,
                        "resetRecipientStates": False,
                        "closeAlertAfterAll": False,
                    },
                }
            ]
        ),
        "/v2/integrations": data(
            [
                {
                    "id": "055082dc-9ae5-4e1e-9e5f-15c4a0d1bd8f",
                    "name": "Prometheus prod",
                    "enabled": True,
                    "type": "Prometheus",
                    "teamId": "90098alp9-f0e3-41d3-a060-0ea895027630",
                    "version": "v2",
                },
                {
                    "id": "6a2fcd16-0000-4000-8000-000000000002",
                    "name": "Datadog",
                    "enabled": True,
                    "type": "Datadog",
                    "version": "v1",
                },
            ]
        ),
    }


# A PagerDuty schedule feed: the on-call person's name and address in the SUMMARY.
PAGERDUTY_ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//PagerDuty Inc.//PagerDuty Schedule//EN
X-WR-CALNAME:Primary On-Call
BEGIN:VEVENT
UID:Q0RIJJZL24RC6W-2024-03-01T09:00:00Z
DTSTART:20240301T090000Z
DTEND:20240302T090000Z
SUMMARY:On Call - Ann Lee (ann@example.com) - Primary On-Call
DESCRIPTION:https://acme.pagerduty.com/schedules#PABC123
END:VEVENT
BEGIN:VEVENT
UID:Q0RIJJZL24RC6W-2024-03-02T09:00:00Z
DTSTART:20240302T090000Z
DTEND:20240303T090000Z
SUMMARY:On Call - Zed Unknown (zed@example.com) - Primary On-Call
END:VEVENT
END:VCALENDAR
"""
# An Opsgenie schedule feed: the participant as an ATTENDEE.
OPSGENIE_ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Opsgenie//Schedule//EN
X-WR-TIMEZONE:Europe/Istanbul
BEGIN:VEVENT
UID:og-1@opsgenie.com
DTSTART:20240301T060000Z
DTEND:20240308T060000Z
SUMMARY:ScheduleName - First Rotation: Ann Lee
ATTENDEE;CN=Ann Lee:mailto:ann@example.com
END:VEVENT
END:VCALENDAR
"""
# A Grafana OnCall schedule export: the user as an ATTENDEE, the summary their username.
GRAFANA_ONCALL_ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID://Grafana Labs//Grafana On-Call//
X-WR-CALNAME:Demo schedule Calendar
BEGIN:VEVENT
UID:amixr-O9WTH7CKM3KZW-U1-E2
DTSTART;TZID=America/New_York:20240304T090000
DTEND;TZID=America/New_York:20240304T170000
SUMMARY:[L1] bob
ATTENDEE;CN=bob:mailto:bob@example.com
END:VEVENT
BEGIN:VEVENT
UID:amixr-no-one
DTSTART:20240305T090000Z
DTEND:20240305T170000Z
SUMMARY:[L1] empty shift
END:VEVENT
END:VCALENDAR
"""
