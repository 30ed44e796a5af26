"""The incident use cases, called directly with a Principal (no HTTP)."""

from __future__ import annotations

import httpx
import pytest

from oncallnova.alerts.logic import NormalizedAlert
from oncallnova.core.authz import SYSTEM, Principal, Role
from oncallnova.core.errors import Forbidden, NotFound
from oncallnova.incidents.schemas import IncidentDetail, IncidentFilter, IncidentOut
from oncallnova.runtime.container import Runtime
from oncallnova.runtime.services import Services
from oncallnova.services.schemas import ServiceIn
from oncallnova.users.contact_schemas import ContactMethodIn, RuleIn, RulesIn
from oncallnova.users.schemas import TeamIn
from tests.api.oncall_helpers import level, policy, user

VIEWER = Principal(user_id="v", name="Viewer", email="v@example.com", role=Role.viewer)
RESPONDER = Principal(user_id="r", name="Rae", email="r@example.com", role=Role.responder)


async def _incident(
    rt: Runtime, service: str, title: str = "disk full", **fields: str | None
) -> str:
    _, key = await rt.services.create(SYSTEM, ServiceIn(name=service, **fields))  # type: ignore[arg-type]
    route = await rt.ingestion.authenticate(key.key)
    results = await rt.ingestion.ingest(
        route, [NormalizedAlert(title=title, severity="critical")], "native"
    )
    incident_id = results[0].incident_id
    assert incident_id is not None
    return incident_id


async def test_detail_is_typed_with_alerts_timeline_and_pages(
    uc: Services, rt: Runtime, client: httpx.AsyncClient
) -> None:
    ann = await user(client, "Ann")
    policy_id = await policy(client, "p", [level(60, ("user", ann))])
    incident_id = await _incident(rt, "checkout", escalation_policy_id=policy_id)
    await rt.escalation.run_due(rt.clock.now())

    detail = await uc.incidents.detail(VIEWER, incident_id)

    assert isinstance(detail, IncidentDetail)
    assert (detail.id, detail.service_name, detail.escalation_level) == (incident_id, "checkout", 1)
    assert [a.title for a in detail.alerts] == ["disk full"]
    assert detail.timeline[0].kind == "triggered"
    assert [(p.user_id, p.level, p.kind) for p in detail.pages] == [(ann, 1, "page")]
    by_number = await uc.incidents.detail(VIEWER, str(detail.number))
    assert by_number.id == incident_id


async def test_pages_say_what_reached_whom_and_what_an_acknowledgement_stopped(
    uc: Services, rt: Runtime, client: httpx.AsyncClient
) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    push = ContactMethodIn(type="ntfy", server="http://127.0.0.1:9", topic="oncall")
    for who, rules in ((ann, ("email", "ntfy")), (ben, ("ntfy",))):
        method = await rt.use_cases.contacts.add_contact_method(SYSTEM, who, push)
        email = (await rt.use_cases.contacts.contact_methods(SYSTEM, who))[0]
        ids = {"email": (email.id, 0), "ntfy": (method.id, 5)}
        wanted = [RuleIn(contact_method_id=i, delay_minutes=m) for i, m in map(ids.get, rules)]
        await rt.use_cases.contacts.set_rules(SYSTEM, who, RulesIn(rules=wanted))
    policy_id = await policy(client, "p", [level(60, ("user", ann), ("user", ben))])
    incident_id = await _incident(rt, "checkout", escalation_policy_id=policy_id)
    await rt.escalation.run_due(rt.clock.now())
    await rt.use_cases.incidents.acknowledge(RESPONDER, incident_id)

    pages = (await uc.incidents.detail(VIEWER, incident_id)).pages

    assert pages == (await rt.use_cases.incidents.detail(VIEWER, incident_id)).pages
    # Ann's email went at once (still queued); Ben's one rule was minutes away.
    assert {p.user_id: (p.status, p.notified) for p in pages} == {
        ann: ("pending", ["email"]),
        ben: ("stopped", []),
    }
    assert all(p.rules_stopped_at == rt.clock.now() for p in pages)


async def test_detail_of_an_unknown_incident_is_not_found(uc: Services, rt: Runtime) -> None:
    with pytest.raises(NotFound, match="incident nope not found"):
        await uc.incidents.detail(VIEWER, "nope")


async def test_escalate_and_reassign_answer_the_incident_as_callers_see_it(
    uc: Services, rt: Runtime, client: httpx.AsyncClient
) -> None:
    ann, ben = await user(client, "Ann"), await user(client, "Ben")
    policy_id = await policy(client, "p", [level(60, ("user", ann)), level(60, ("user", ben))])
    incident_id = await _incident(rt, "checkout", escalation_policy_id=policy_id)

    escalated = await uc.escalation.escalate(RESPONDER, incident_id)
    assert isinstance(escalated, IncidentOut)
    assert (escalated.service_name, escalated.escalation_level) == ("checkout", 1)

    reassigned = await uc.escalation.reassign(RESPONDER, incident_id, user_id=ben, policy_id=None)
    assert isinstance(reassigned, IncidentOut)
    assert (reassigned.id, reassigned.service_name) == (incident_id, "checkout")
    with pytest.raises(Forbidden):
        await uc.escalation.escalate(VIEWER, incident_id)


async def test_the_team_filter_is_applied_by_the_use_case(uc: Services, rt: Runtime) -> None:
    team = await rt.users.create_team(SYSTEM, TeamIn(name="Payments"))
    ours = await _incident(rt, "checkout", team_id=team.id)
    await _incident(rt, "search", title="slow")

    listing = await uc.incidents.list(VIEWER, IncidentFilter(team_id=team.id))
    counts = await uc.incidents.counts(VIEWER, IncidentFilter(team_id=team.id))
    nobody = await uc.incidents.list(VIEWER, IncidentFilter(team_id="no-such-team"))

    assert [i.id for i in listing.items] == [ours]
    assert (listing.total, counts.triggered) == (1, 1)
    assert (nobody.items, nobody.total) == ([], 0)


async def test_similar_past_incidents_of_the_same_service_and_key(
    uc: Services, rt: Runtime
) -> None:
    _, key = await rt.services.create(SYSTEM, ServiceIn(name="checkout"))
    route = await rt.ingestion.authenticate(key.key)
    alert = NormalizedAlert(title="disk full", severity="critical")
    first = (await rt.ingestion.ingest(route, [alert], "native"))[0].incident_id
    assert first is not None
    await rt.incidents.resolve(RESPONDER, first, "restarted the pods")
    second = (await rt.ingestion.ingest(route, [alert], "native"))[0].incident_id
    assert second is not None and second != first

    found = await uc.similar_incidents.similar(VIEWER, second, limit=5)

    assert (found.incident_id, found.total, found.resolved) == (second, 1, 1)
    assert [(i.id, i.resolution) for i in found.items] == [(first, "restarted the pods")]
    with pytest.raises(NotFound):
        await uc.similar_incidents.similar(VIEWER, "nope")
