"""What every transport of the MCP server must show, with the SDK's own client: the tools
listed, each read tool's answer on the seeded data, and the write tools offered only when
enabled and refused to a viewer."""

from __future__ import annotations

from typing import Any

from mcp.client.client import Client

from tests.mcp.seed import Seeded

READ_TOOLS = {
    "list_incidents",
    "get_incident",
    "similar_incidents",
    "who_is_on_call",
    "list_schedules",
    "list_services",
    "list_escalation_policies",
    "list_teams",
    "list_users",
    "analytics_summary",
    "incident_trends",
    "mtta_mttr_distribution",
}
WRITE_TOOLS = {
    "acknowledge_incident",
    "resolve_incident",
    "add_incident_note",
    "escalate_incident",
    "create_schedule_override",
    "create_silence",
}


LATER = "2030-01-01T00:00:00Z"


async def call(client: Client, name: str, arguments: dict[str, Any] | None = None) -> Any:
    result = await client.call_tool(name, arguments or {})
    assert not result.is_error, (name, result.content)
    assert result.structured_content is not None, name
    return result.structured_content


async def refusal(client: Client, name: str, arguments: dict[str, Any]) -> str:
    """The text of a tool call's error (and that it is one)."""
    result = await client.call_tool(name, arguments)
    assert result.is_error, (name, result.structured_content)
    return " ".join(getattr(part, "text", "") for part in result.content)


async def tool_names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


async def check_listed_tools(client: Client, *, writes: bool) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == (READ_TOOLS | WRITE_TOOLS if writes else READ_TOOLS)
    for name, tool in tools.items():
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (name in READ_TOOLS), name
        assert tool.output_schema is not None and tool.output_schema["type"] == "object", name
        assert tool.description and len(tool.description) > 40, name
    assert tools["resolve_incident" if writes else "get_incident"].input_schema["required"] == [
        "incident"
    ]


async def check_read_tools(client: Client, s: Seeded) -> None:
    """Call every read tool on the seeded data; `client` acts as Ann (a responder)."""
    await check_listed_tools(client, writes=False)

    open_now = await call(client, "list_incidents", {"status": ["triggered", "acknowledged"]})
    assert open_now["total"] == 2
    assert [i["id"] for i in open_now["items"]] == [s.open, s.other]  # critical first
    past = await call(
        client,
        "list_incidents",
        {"service_id": s.checkout, "status": ["resolved"], "order": "newest", "text": "5%"},
    )
    assert [i["id"] for i in past["items"]] == [s.second, s.first]
    assert past["items"][0]["service_name"] == "checkout"

    detail = await call(client, "get_incident", {"incident": str(s.open_number)})
    assert (detail["id"], detail["status"]) == (s.open, "triggered")
    assert [a["title"] for a in detail["alerts"]] == ["Checkout 5xx over 10%"]
    assert detail["timeline"][0]["kind"] == "triggered"
    assert detail == await call(client, "get_incident", {"incident": s.open})

    similar = await call(client, "similar_incidents", {"incident": s.open})
    assert [i["id"] for i in similar["items"]] == [s.second, s.first]
    assert [i["resolution"] for i in similar["items"]] == [
        "Restarted the pods",
        "Rolled back deploy 42",
    ]
    assert [n["message"] for n in similar["items"][1]["notes"]] == ["Cause: a bad feature flag"]
    assert (similar["total"], similar["resolved"]) == (2, 2)
    assert similar["mean_mttr_seconds"] > 0
    assert all(i["mttr_seconds"] > 0 for i in similar["items"])

    await _check_on_call(client, s)

    schedules = (await call(client, "list_schedules"))["items"]
    layers = [(x["name"], x["layers"][0]["users"]) for x in schedules]
    assert layers == [("Primary", [s.ann, s.bob])]
    assert schedules[0]["ical_url"] is None  # the API shows Ann the feed URL; assistants not
    services = {x["name"]: x for x in (await call(client, "list_services"))["items"]}
    assert set(services) == {"checkout", "payments"}
    assert services["checkout"]["escalation_policy_id"] == s.policy
    keys = [k["key"] for x in services.values() for k in x["integration_keys"]]
    assert keys == [None, None]  # integration keys are secrets that act; never sent
    policies = (await call(client, "list_escalation_policies"))["items"]
    assert [(p["name"], p["levels"][0]["targets"][0]["id"]) for p in policies] == [
        ("Shop policy", s.schedule)
    ]
    teams = (await call(client, "list_teams"))["items"]
    assert [(t["name"], sorted(m["name"] for m in t["members"])) for t in teams] == [
        ("Shop", ["Ann", "Bob"])
    ]
    users = {u["name"]: u["role"] for u in (await call(client, "list_users"))["items"]}
    assert {k: v for k, v in users.items() if k in ("Ann", "Bob", "Vic")} == {
        "Ann": "responder",
        "Bob": "responder",
        "Vic": "viewer",
    }

    summary = await call(client, "analytics_summary", {"period": "7d"})
    assert (summary["incidents_in_period"], summary["open_incidents"]) == (4, 2)
    assert summary["top_services"][0]["name"] == "checkout"
    trends = await call(client, "incident_trends", {"bucket": "1d", "service": "checkout"})
    assert trends["totals"]["total"] == trends["totals"]["critical"] == 3
    distribution = await call(client, "mtta_mttr_distribution", {"severity": ["critical"]})
    assert distribution["mttr"]["overall"]["count"] == 2

    await _check_errors(client)


async def _check_on_call(client: Client, s: Seeded) -> None:
    for at, person in (("2026-01-05T12:00:00Z", s.ann), ("2026-01-13T12:00:00Z", s.bob)):
        answer = await call(client, "who_is_on_call", {"at": at})
        assert answer["at"].startswith(at[:19])
        assert [(x["name"], x["user_ids"]) for x in answer["schedules"]] == [("Primary", [person])]
        services = {x["name"]: x["user_ids"] for x in answer["services"]}
        assert services == {"checkout": [person], "payments": []}
    now = await call(client, "who_is_on_call")
    assert now["schedules"][0]["user_ids"] in ([s.ann], [s.bob])
    assert {x["name"]: x["user_ids"] for x in now["services"]}["checkout"] == now["schedules"][0][
        "user_ids"
    ]


async def _check_errors(client: Client) -> None:
    """Errors say what is wrong and what to do."""
    missing = await refusal(client, "get_incident", {"incident": "999999"})
    assert "incident 999999 not found" in missing and "list_incidents" in missing
    traversal = await refusal(client, "get_incident", {"incident": "../services"})
    assert "incident" in traversal and "pattern" in traversal
    bad = await refusal(client, "analytics_summary", {"service": "no-such-service"})
    assert "Invalid input" in bad and "no-such-service" in bad


async def check_viewer_is_refused(client: Client, s: Seeded) -> None:
    """Write tools are offered, but the API refuses them to a viewer's token."""
    await check_listed_tools(client, writes=True)
    for name, arguments in (
        ("acknowledge_incident", {"incident": s.open}),
        ("resolve_incident", {"incident": str(s.open_number)}),
        ("add_incident_note", {"incident": s.open, "message": "hi"}),
        ("escalate_incident", {"incident": s.open}),
        (
            "create_schedule_override",
            {
                "schedule_id": s.schedule,
                "user_id": s.vic,
                "start": "2027-01-01T00:00:00Z",
                "end": "2027-01-02T00:00:00Z",
            },
        ),
        ("create_silence", {"incident": s.other, "comment": "x", "ends_at": LATER}),
    ):
        text = await refusal(client, name, arguments)
        assert "Not allowed" in text and "responder role; you are viewer" in text, text
    detail = await call(client, "get_incident", {"incident": s.open})
    assert detail["status"] == "triggered"
    assert [e["kind"] for e in detail["timeline"]].count("note") == 0


async def check_responder_acts(client: Client, s: Seeded) -> None:
    """A responder's token acknowledges, notes, escalates, resolves and overrides, each
    on the incident's timeline as Ann."""
    await check_listed_tools(client, writes=True)
    acked = await call(
        client, "acknowledge_incident", {"incident": str(s.open_number), "message": "on it"}
    )
    assert (acked["id"], acked["status"]) == (s.open, "acknowledged")
    assert acked["acknowledged_by"] == "Ann"
    again = await refusal(client, "acknowledge_incident", {"incident": s.open})
    assert "Not possible now: the incident is already acknowledged" in again
    note = await call(client, "add_incident_note", {"incident": s.open, "message": "DB failover"})
    assert (note["kind"], note["actor"], note["message"]) == ("note", "Ann", "DB failover")
    escalated = await call(client, "escalate_incident", {"incident": s.open})
    assert escalated["status"] == "triggered"
    resolved = await call(
        client, "resolve_incident", {"incident": s.open, "message": "Failed over the DB"}
    )
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", "Ann")
    override = await call(
        client,
        "create_schedule_override",
        {
            "schedule_id": s.schedule,
            "user_id": s.bob,
            "start": "2027-01-04T09:00:00Z",
            "end": "2027-01-04T17:00:00Z",
        },
    )
    assert override["user_id"] == s.bob
    covered = await call(client, "who_is_on_call", {"at": "2027-01-04T12:00:00Z"})
    assert covered["schedules"][0]["user_ids"] == [s.bob]
    unknown = await refusal(client, "acknowledge_incident", {"incident": "0190aaaa-no-such"})
    assert "not found" in unknown and "list_incidents" in unknown
    # A silence filled in from an incident's alert, as the web UI's button does.
    silence = await call(
        client,
        "create_silence",
        {"incident": s.other, "comment": "Payments maintenance", "ends_at": LATER},
    )
    matchers = [(m["name"], m["op"], m["value"]) for m in silence["matchers"]]
    assert matchers == [("title", "=", "Payments latency high")]
    assert (silence["service_id"], silence["status"]) == (s.payments, "active")
    assert silence["created_by"] == "Ann"
    nothing = await refusal(client, "create_silence", {"comment": "x", "ends_at": LATER})
    assert "`matchers`" in nothing and "`incident`" in nothing
    past = {"name": "env", "op": "=", "value": "prod"}
    ended = await refusal(
        client,
        "create_silence",
        {"matchers": [past], "comment": "x", "ends_at": "2020-01-01T00:00:00Z"},
    )
    assert "ends_at" in ended and "future" in ended, ended


AUDITED = [
    ("silence.created", "silence"),
    ("schedule.override.create", "schedule"),
    ("incident.resolve", "incident"),
    ("incident.escalate", "incident"),
    ("incident.note", "incident"),
    ("incident.acknowledge", "incident"),
]


def check_audit(entries: list[dict[str, Any]], s: Seeded) -> None:
    """The writes above are in the audit log, newest first, as Ann's."""
    mine = [(e["action"], e["target_type"]) for e in entries if e["actor_id"] == s.ann]
    assert mine[: len(AUDITED)] == AUDITED
