"""`oncallnova demo`: a short scenario on the demo service: alerts in the three
formats, deduplication, correlation into one incident, acknowledge, resolve."""

from __future__ import annotations

import uuid
from typing import Any

import typer

from oncallnova.operator import demo_service as demo
from oncallnova.operator.client import Api
from oncallnova.operator.steps import Steps, check
from oncallnova.operator.ui import (
    JsonOption,
    TokenOption,
    UrlOption,
    connect,
    out,
    print_json,
    reports_errors,
)


class Scenario:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.run = uuid.uuid4().hex[:6]
        self.key = ""
        self.incident: dict[str, Any] = {}
        self.first_alert = ""

    def _incident(self) -> dict[str, Any]:
        return dict(self.api.get(f"/api/v1/incidents/{self.incident['id']}"))

    def setup(self) -> list[str]:
        service, self.key, created = demo.ensure_service(self.api)
        return [f"{'created' if created else 'using'} the demo service {service['name']}"]

    def native(self) -> list[str]:
        alert = demo.native_alert(
            f"Checkout error rate over 5% ({self.run})",
            "critical",
            run=self.run,
            dedup_key=f"demo-{self.run}-checkout",
            labels={"region": "eu-west"},
        )
        result = self.api.ingest(demo.NATIVE, self.key, alert)["alerts"][0]
        self.first_alert = result["alert_id"]
        self.incident = self.api.get(f"/api/v1/incidents/{result['incident_id']}")
        return [f"native alert -> incident #{self.incident['number']}: {self.incident['title']}"]

    def pagerduty_repeat(self) -> list[str]:
        event = demo.pagerduty_event(
            self.key,
            f"Checkout error rate over 5% ({self.run})",
            "critical",
            f"demo-{self.run}-checkout",
        )
        self.api.ingest(demo.PAGERDUTY, self.key, event)
        incident = self._incident()
        alert = next(a for a in incident["alerts"] if a["id"] == self.first_alert)
        check(
            alert["count"] == 2 and incident["alert_count"] == 1,
            f"the repeat was not deduplicated (alert count {alert['count']}, "
            f"{incident['alert_count']} alerts on the incident)",
        )
        return [
            f"PagerDuty event with the same dedup key -> the same alert, count {alert['count']}"
        ]

    def alertmanager_joins(self) -> list[str]:
        hook = demo.alertmanager_hook(
            [(f"CheckoutLatencyHigh-{self.run}", "critical", f"demo-{self.run}-latency")], self.run
        )
        result = self.api.ingest(demo.ALERTMANAGER, self.key, hook)["alerts"][0]
        check(
            result["incident_id"] == self.incident["id"],
            f"the Alertmanager alert opened another incident ({result['incident_id']})",
        )
        incident = self._incident()
        return [
            f"Alertmanager alert (another failure, same severity) joined incident "
            f"#{incident['number']}: now {incident['alert_count']} alerts"
        ]

    def acknowledge(self) -> list[str]:
        incident = self.api.post(f"/api/v1/incidents/{self.incident['id']}/acknowledge", {})
        check(incident["status"] == "acknowledged", f"status is {incident['status']}")
        return [
            f"acknowledged by {incident['acknowledged_by']}, MTTA {incident['mtta_seconds']:.1f}s"
        ]

    def resolve(self) -> list[str]:
        incident = self.api.post(f"/api/v1/incidents/{self.incident['id']}/resolve", {})
        check(incident["status"] == "resolved", f"status is {incident['status']}")
        timeline = [f"  {e['kind']}: {e['message']}" for e in self._incident()["timeline"]]
        return [f"resolved, MTTR {incident['mttr_seconds']:.1f}s; timeline:", *timeline]


@reports_errors
def demo_command(
    url: UrlOption = None, token: TokenOption = None, as_json: JsonOption = False
) -> None:
    """Play a short scenario: alerts in three formats, dedup, correlation, ack, resolve.

    Exit status 1 if anything did not happen as shown."""
    with connect(url, token) as api:
        scenario = Scenario(api)
        steps = Steps(6, quiet=as_json)
        steps.run(1, "the demo service", scenario.setup)
        steps.run(2, "a native alert opens an incident", scenario.native, needs=(1,))
        steps.run(
            3, "a PagerDuty event repeats it: deduplicated", scenario.pagerduty_repeat, needs=(2,)
        )
        steps.run(
            4, "an Alertmanager alert correlates into it", scenario.alertmanager_joins, needs=(2,)
        )
        steps.run(5, "acknowledge", scenario.acknowledge, needs=(2,))
        steps.run(6, "resolve", scenario.resolve, needs=(2,))
        if as_json:
            print_json({"passed": not steps.failed, "steps": [r.as_dict() for r in steps.results]})
        else:
            out.print(steps.summary())
            if scenario.incident:
                out.print(f"see it at {api.url}/incidents/{scenario.incident['number']}")
    if steps.failed:
        raise typer.Exit(1)
