"""`oncallnova full-demo`: seven numbered steps that prove a running OnCallNova end to
end; every step is checked on observed state (polled with a deadline, never a fixed
sleep), so the command doubles as a smoke test of a deployment."""

from __future__ import annotations

import os
import time
import uuid
from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape

from oncallnova.operator import demo_setup, mailcapture, probes, storm
from oncallnova.operator.client import Api
from oncallnova.operator.receiver import Receiver
from oncallnova.operator.steps import StepFailed, Steps, check, wait_for
from oncallnova.operator.ui import (
    JsonOption,
    TokenOption,
    UrlOption,
    connect,
    duration,
    out,
    print_json,
    progress,
    reports_errors,
)

METRIC_LINES = (
    "oncall_alerts_ingested_total",
    "oncall_incidents_total",
    "oncall_incidents_active",
    "oncall_escalations_total",
    "oncall_notifications_total",
    "oncall_mttr_seconds_count",
)


def _numbers(incidents: list[dict[str, Any]]) -> str:
    return ", ".join("#{} {}".format(i["number"], i["severity"]) for i in incidents)


class FullDemo:
    def __init__(
        self,
        api: Api,
        *,
        alerts: int,
        delay: int,
        receiver_host: str,
        mail_api: str | None,
        show_progress: bool,
    ) -> None:
        self.api = api
        self.alerts = alerts
        self.delay = delay
        self.mail_api = mail_api
        self.show_progress = show_progress
        self.created = demo_setup.Created(uuid.uuid4().hex[:6])
        self.receiver = Receiver(receiver_host)
        self.receiver_url = f"http://{receiver_host}:{self.receiver.port}/oncallnova"
        self.incident: dict[str, Any] = {}  # the critical incident the later steps follow
        # Waits scale with the engine's work: a page is due at once, the next level after
        # the policy's delay; both leave room for a slow, shared machine.
        self.page_timeout = 60.0
        self.escalation_timeout = delay + 60.0

    def _service_incidents(self) -> list[dict[str, Any]]:
        page = self.api.get("/api/v1/incidents", service_id=self.created.service["id"], limit=500)
        return list(page["items"])

    def _detail(self) -> dict[str, Any]:
        return dict(self.api.get(f"/api/v1/incidents/{self.incident['id']}"))

    # 1 -------------------------------------------------------------------------------
    def health(self) -> list[str]:
        found = [check_() for check_ in probes.all_probes(self.api.url, {})]
        lines = [f"{p.name}: {p.state} ({p.health})" for p in found]
        down = [p.name for p in found if p.state != "up"]
        check(not down, f"down: {', '.join(down)}", lines)
        return lines

    # 2 -------------------------------------------------------------------------------
    def setup(self) -> list[str]:
        self.receiver.start()
        secret, lines = demo_setup.build(self.api, self.created, self.delay, self.receiver_url)
        self.receiver.secret = secret
        return lines

    # 3 -------------------------------------------------------------------------------
    def alert_storm(self) -> list[str]:
        planned = storm.plan(self.alerts, self.created.run)
        distinct, incidents = storm.expected(planned)
        started = time.monotonic()
        with progress(self.show_progress) as bar:
            task = bar.add_task("alert storm", total=len(planned))
            requests = storm.send(
                self.api, self.created.key, planned, lambda n: bar.advance(task, n)
            )
        took = time.monotonic() - started
        opened = self._service_incidents()
        stored = sum(i["alert_count"] for i in opened)
        summary = self.api.get(
            "/api/v1/analytics/summary", period="1d", service=self.created.service["id"]
        )
        lines = [
            f"{len(planned)} alerts in {sum(requests.values())} requests ({took:.1f}s): "
            + ", ".join(f"{fmt} {n}" for fmt, n in requests.items()),
            f"deduplicated: {len(planned)} received -> {stored} distinct alerts "
            f"({100 * (1 - stored / len(planned)):.0f}% were repeats); the server counts "
            f"{summary['alerts_received']} received",
            f"correlated: {stored} alerts -> {len(opened)} incidents ({_numbers(opened)})",
        ]
        check(stored == distinct, f"expected {distinct} distinct alerts, found {stored}", lines)
        check(
            len(opened) == incidents, f"expected {incidents} incidents, found {len(opened)}", lines
        )
        check(
            summary["alerts_received"] == len(planned),
            f"the server counts {summary['alerts_received']} alerts received, not {len(planned)}",
            lines,
        )
        self.incident = next(i for i in opened if i["severity"] == "critical")
        return lines

    # 4 -------------------------------------------------------------------------------
    def paged(self) -> list[str]:
        alice = self.created.users["alice"]
        incident_id = self.incident["id"]

        def hook_seen(got: list[Any]) -> bool:
            return any(r.incident_id == incident_id and r.event_type == "incident.new" for r in got)

        got = wait_for(
            self.receiver.snapshot, hook_seen, self.page_timeout, "the incident.new webhook"
        )
        bad = [r.delivery_id for r in got if not r.signature_ok]
        check(not bad, f"{len(bad)} deliveries had a wrong signature: {bad[:3]}")
        detail = wait_for(
            self._detail,
            lambda d: any(p["user_id"] == alice["id"] and p["level"] == 1 for p in d["pages"]),
            self.page_timeout,
            f"the level-1 page to {alice['name']}",
        )
        page = next(p for p in detail["pages"] if p["user_id"] == alice["id"] and p["level"] == 1)
        lines = [
            f"incident #{detail['number']} ({detail['severity']}): {alice['name']} paged at "
            f"level 1 (email to {alice['email']}: {page['status']})",
            f"webhook: {len(got)} deliveries received, every signature verified "
            f"({', '.join(sorted({r.event_type for r in got}))})",
        ]
        lines.append(self._email(alice, detail, page["status"]))
        return lines

    def _email(self, alice: dict[str, Any], detail: dict[str, Any], status: str) -> str:
        if not self.mail_api:
            why = " (is SMTP_HOST set on the server?)" if status == "failed" else ""
            return (
                f"email: not checked{why}; give --mail-api, the HTTP API of the capture "
                "server SMTP points to (e.g. MailHog's http://127.0.0.1:8025)"
            )
        subject = f"#{detail['number']}"

        def look() -> mailcapture.Mail | None:
            try:
                return mailcapture.find(self.mail_api or "", alice["email"], subject)
            except httpx.HTTPError as exc:
                raise StepFailed(f"the capture server at {self.mail_api}: {exc}") from exc

        mail = wait_for(
            look, lambda m: m is not None, self.page_timeout, f"the email to {alice['email']}"
        )
        return f"email captured at {self.mail_api}: to {alice['email']}, subject {mail.subject!r}"

    # 5 -------------------------------------------------------------------------------
    def escalated(self) -> list[str]:
        bob = self.created.users["bob"]
        detail = wait_for(
            self._detail,
            lambda d: any(p["user_id"] == bob["id"] and p["level"] == 2 for p in d["pages"]),
            self.escalation_timeout,
            f"the level-2 page to {bob['name']}",
        )
        check(detail["status"] == "triggered", f"the incident is {detail['status']}")
        lines = [
            f"no acknowledgement within {self.delay}s, so level 2 paged {bob['name']}; timeline:"
        ]
        lines += [f"  {e['at'][11:19]} {e['kind']}: {e['message']}" for e in detail["timeline"]]
        return lines

    # 6 -------------------------------------------------------------------------------
    def ack_and_resolve(self) -> list[str]:
        path = f"/api/v1/incidents/{self.incident['id']}"
        acked = self.api.post(f"{path}/acknowledge", {"message": "full-demo: looking"})
        check(acked["status"] == "acknowledged", f"acknowledge left it {acked['status']}")
        resolved = self.api.post(f"{path}/resolve", {"message": "full-demo: fixed"})
        check(resolved["status"] == "resolved", f"resolve left it {resolved['status']}")
        others = 0
        for incident in self._service_incidents():
            if incident["status"] != "resolved":
                self.api.post(f"/api/v1/incidents/{incident['id']}/acknowledge", {})
                self.api.post(f"/api/v1/incidents/{incident['id']}/resolve", {})
                others += 1
        return [
            f"incident #{resolved['number']}: acknowledged, MTTA "
            f"{duration(resolved['mtta_seconds'])}; resolved, MTTR "
            f"{duration(resolved['mttr_seconds'])}",
            f"the storm's {others} other incidents acknowledged and resolved too",
        ]

    # 7 -------------------------------------------------------------------------------
    def analytics(self) -> list[str]:
        service = self.created.service["id"]
        trends = self.api.get("/api/v1/analytics/trends", period="1d", bucket="1h", service=service)
        dist = self.api.get("/api/v1/analytics/mttr-distribution", period="1d", service=service)
        totals = trends["totals"]
        lines = [
            "trends (last day, this service): "
            + ", ".join(f"{s} {totals[s]}" for s in storm.SEVERITIES)
            + f", total {totals['total']}",
            "MTTR by severity (p50 / p90 / p99):",
        ]
        for severity, stats in dist["mttr"]["by_severity"].items():
            if stats["count"]:
                lines.append(
                    f"  {severity:<8} n={stats['count']} {duration(stats['p50'])} / "
                    f"{duration(stats['p90'])} / {duration(stats['p99'])}"
                )
        resolved = len(self._service_incidents())
        check(
            totals["total"] == resolved,
            f"trends count {totals['total']} incidents, not {resolved}",
            lines,
        )
        check(
            dist["mttr"]["overall"]["count"] == resolved,
            f"MTTR counts {dist['mttr']['overall']['count']} incidents, not {resolved}",
            lines,
        )
        lines += self._metrics()
        lines += self._dashboards()
        return lines

    def _metrics(self) -> list[str]:
        token = os.environ.get("METRICS_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.get(f"{self.api.url}/metrics", headers=headers, timeout=10)
        if response.status_code != 200:
            raise StepFailed(f"GET /metrics answered {response.status_code} (METRICS_TOKEN?)")
        ours = f'service="{self.created.service["name"]}"'
        keep = [
            row
            for row in response.text.splitlines()
            if row.startswith(METRIC_LINES) and ("service=" not in row or ours in row)
        ]
        check(bool(keep), "/metrics has none of the key series")
        return ["/metrics:", *[f"  {row}" for row in keep[:20]]]

    def _dashboards(self) -> list[str]:
        urls = [
            f"incidents: {self.api.url}/incidents",
            f"analytics: {self.api.url}/analytics",
            f"API docs: {self.api.url}/docs",
        ]
        if grafana := os.environ.get("GRAFANA_URL"):
            urls.append(f"Grafana: {grafana.rstrip('/')}/d/oncallnova")
        if prom := os.environ.get("PROMETHEUS_URL"):
            urls.append(f"Prometheus: {prom.rstrip('/')}/graph")
        return ["dashboards:", *[f"  {u}" for u in urls]]

    def cleanup(self) -> list[str]:
        for incident in self._service_incidents() if self.created.service else []:
            if incident["status"] != "resolved":
                self.api.post(f"/api/v1/incidents/{incident['id']}/resolve", {})
        return demo_setup.cleanup(self.api, self.created)


@reports_errors
def full_demo(
    url: UrlOption = None,
    token: TokenOption = None,
    alerts: Annotated[
        int, typer.Option(min=40, max=5000, help="Alerts in the storm of step 3.")
    ] = 300,
    escalation_delay: Annotated[
        int,
        typer.Option(min=1, max=600, help="Seconds between the demo policy's two levels."),
    ] = 5,
    receiver_host: Annotated[
        str,
        typer.Option(
            help="Address the demo's webhook receiver listens on, which the server must "
            "reach (e.g. the host's address as seen from a container)."
        ),
    ] = "127.0.0.1",
    mail_api: Annotated[
        str | None,
        typer.Option(
            envvar="ONCALLNOVA_MAIL_API",
            help="HTTP API of the SMTP capture server the server sends to (MailHog or "
            "MailDev), to check the page email; unchecked without it.",
        ),
    ] = None,
    cleanup: Annotated[
        bool, typer.Option("--cleanup", help="Delete what the demo created at the end.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Prove a running OnCallNova end to end in seven steps; exit status 1 if one fails.

    Needs an admin sign-in (`oncallnova login`)."""
    with connect(url, token) as api:
        api.auth_headers()  # not signed in: say so before anything runs
        demo = FullDemo(
            api,
            alerts=alerts,
            delay=escalation_delay,
            receiver_host=receiver_host,
            mail_api=mail_api,
            show_progress=not as_json,
        )
        steps = Steps(7, quiet=as_json)
        try:
            steps.run(1, "health of every service", demo.health)
            steps.run(
                2, "set-up: team, people, schedule, policy, service, signed webhook", demo.setup
            )
            steps.run(3, "alert storm: deduplication and correlation", demo.alert_storm, needs=(2,))
            steps.run(4, "the on-call person is paged", demo.paged, needs=(3,))
            steps.run(5, "no acknowledgement: level 2 is paged", demo.escalated, needs=(3,))
            steps.run(6, "acknowledge and resolve: MTTA and MTTR", demo.ack_and_resolve, needs=(3,))
            steps.run(7, "analytics, /metrics and dashboards", demo.analytics, needs=(6,))
            removed = demo.cleanup() if cleanup else []
        finally:
            demo.receiver.stop()
    if as_json:
        print_json(
            {
                "passed": not steps.failed,
                "run": demo.created.run,
                "steps": [r.as_dict() for r in steps.results],
                "cleaned_up": removed,
            }
        )
    else:
        colour = "red" if steps.failed else "green"
        out.print(f"[{colour}]{steps.summary()}[/{colour}] (run {escape(demo.created.run)})")
        if removed:
            out.print("cleaned up: " + ", ".join(removed))
        elif not cleanup:
            out.print(
                f"kept what it created (service demo-{demo.created.run}); --cleanup removes it"
            )
    if steps.failed:
        raise typer.Exit(1)
