"""The Grafana provisioning under deploy/grafana: valid files, queries on real metrics.

The dashboard checks are static; the metric-name check scrapes /metrics of a real app
(on SQLite and PostgreSQL, like every `client` test) after producing at least one sample
of every family, so a renamed metric breaks this test instead of silently emptying a panel.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from tests.api.oncall_helpers import level, policy, schedule, user
from tests.conftest import new_service

GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
METRIC = re.compile(r"\b(oncall_[a-z0-9_]+)\b")
PAIRS = {")": "(", "]": "[", "}": "{"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def exprs(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) for every target of every panel."""
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def balanced(expr: str) -> bool:
    """Brackets pair up outside of quoted strings."""
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for char in expr:
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            stack.append(char)
        elif char in PAIRS and (not stack or stack.pop() != PAIRS[char]):
            return False
    return not stack and quote is None


def test_there_is_a_dashboard() -> None:
    assert [p.name for p in DASHBOARDS] == ["oncallnova.json"]
    dashboard = load(DASHBOARDS[0])
    assert dashboard["uid"] == "oncallnova"
    assert dashboard["title"] == "OnCallNova"
    assert dashboard["schemaVersion"] == 39


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_structure(path: Path) -> None:
    dashboard = load(path)
    for key in ("title", "uid", "schemaVersion", "panels"):
        assert key in dashboard, f"{path.name}: missing {key}"
    assert isinstance(dashboard["schemaVersion"], int)
    panels = dashboard["panels"]
    assert panels, f"{path.name}: no panels"
    ids = [panel.get("id") for panel in panels]
    assert all(isinstance(i, int) for i in ids), ids
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {ids}"
    for panel in panels:
        name = f"{path.name}: panel {panel.get('id')} {panel.get('title')!r}"
        assert isinstance(panel.get("type"), str) and panel["type"], name
        assert isinstance(panel.get("title"), str) and panel["title"], name
        grid = panel.get("gridPos")
        assert isinstance(grid, dict), name
        for key in ("x", "y", "w", "h"):
            assert type(grid.get(key)) is int, f"{name}: gridPos.{key}"
        assert 0 <= grid["x"] < 24 and 1 <= grid["w"] <= 24, f"{name}: {grid}"
        assert grid["x"] + grid["w"] <= 24, f"{name}: {grid}"
        assert grid["y"] >= 0 and grid["h"] >= 1, f"{name}: {grid}"
        datasource = panel.get("datasource")
        assert isinstance(datasource, dict), name
        assert datasource.get("type") and datasource.get("uid"), name
        targets = panel.get("targets")
        assert isinstance(targets, list) and targets, name
        ref_ids = [target.get("refId") for target in targets]
        assert len(ref_ids) == len(set(ref_ids)), f"{name}: refIds {ref_ids}"
        for target in targets:
            assert isinstance(target.get("refId"), str) and target["refId"], name
            assert isinstance(target.get("expr"), str) and target["expr"].strip(), name
            assert balanced(target["expr"]), f"{name}: unbalanced {target['expr']!r}"


def test_panels_do_not_overlap() -> None:
    for path in DASHBOARDS:
        taken: dict[tuple[int, int], str] = {}
        for panel in load(path)["panels"]:
            grid = panel["gridPos"]
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                    taken[(x, y)] = panel["title"]


def test_datasources_match_provisioning() -> None:
    """Panels use only the datasource uids that provisioning creates, with their type."""
    provisioned = {"prometheus": "prometheus", "loki": "loki", "jaeger": "jaeger"}
    used = set()
    for path in DASHBOARDS:
        for panel in load(path)["panels"]:
            for source in [panel["datasource"]] + [t.get("datasource") for t in panel["targets"]]:
                if source is None:
                    continue
                assert provisioned.get(source["uid"]) == source["type"], source
                used.add(source["uid"])
    assert {"prometheus", "loki"} <= used


def _yaml_documents() -> dict[str, Any]:
    """Each provisioning file parsed with PyYAML, or None per file when it is missing."""
    try:
        import yaml
    except ImportError:  # PyYAML is not a project dependency (only bandit pulls it in).
        return dict.fromkeys(("datasources", "dashboards"))
    base = GRAFANA / "provisioning"
    return {
        name: yaml.safe_load((base / name / f"{name}.yaml").read_text(encoding="utf-8"))
        for name in ("datasources", "dashboards")
    }


def test_datasources_yaml() -> None:
    path = GRAFANA / "provisioning" / "datasources" / "datasources.yaml"
    text = path.read_text(encoding="utf-8")
    parsed = _yaml_documents()["datasources"]
    if parsed is None:  # structural fallback without PyYAML
        for line in (
            "apiVersion: 1",
            "datasources:",
            "uid: prometheus",
            "url: http://prometheus:9090",
            "uid: loki",
            "url: http://loki:3100",
            "uid: jaeger",
            "url: http://jaeger:16686",
        ):
            assert re.search(rf"^\s*(- )?{re.escape(line)}\s*$", text, re.M), line
        return
    assert parsed["apiVersion"] == 1
    sources = {s["uid"]: (s["type"], s["url"]) for s in parsed["datasources"]}
    assert sources == {
        "prometheus": ("prometheus", "http://prometheus:9090"),
        "loki": ("loki", "http://loki:3100"),
        "jaeger": ("jaeger", "http://jaeger:16686"),
    }
    assert [s["uid"] for s in parsed["datasources"] if s.get("isDefault")] == ["prometheus"]


def test_dashboards_yaml() -> None:
    path = GRAFANA / "provisioning" / "dashboards" / "dashboards.yaml"
    text = path.read_text(encoding="utf-8")
    parsed = _yaml_documents()["dashboards"]
    if parsed is None:  # structural fallback without PyYAML
        for line in ("apiVersion: 1", "providers:", "type: file"):
            assert re.search(rf"^\s*(- )?{re.escape(line)}\s*$", text, re.M), line
        assert re.search(r"^\s*path: /var/lib/grafana/dashboards\s*$", text, re.M)
        return
    assert parsed["apiVersion"] == 1
    [provider] = parsed["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def exported(text: str) -> tuple[set[str], set[str]]:
    """(family names from `# TYPE` lines, sample names) of a text exposition."""
    families: set[str] = set()
    samples: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            families.add(line.split()[2])
        elif line and not line.startswith("#"):
            samples.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return families, samples


async def _produce_every_sample(client: httpx.AsyncClient, rt: Runtime, clock: FakeClock) -> None:
    """One paged, acknowledged and resolved incident: every oncall_ family gets samples.

    The same steps as tests/api/test_metrics.py: a schedule puts Bob on call, the engine
    escalates to him and tries to email him (email is off in tests, so the notification
    counter gets a `failed` sample), then the incident is acknowledged and resolved so the
    MTTA and MTTR histograms have buckets.
    """
    bob = await user(client, "Bob")
    layer = {"name": "weekly", "turn": "weekly", "handoff": "2026-01-05T09:00:00Z"}
    rota = await schedule(client, "Primary", [{**layer, "users": [bob]}])
    policy_id = await policy(client, "Default", [level(300, ("schedule", rota["id"]))])
    svc = await new_service(client, escalation_policy_id=policy_id)
    response = await client.post(
        "/api/v1/alerts",
        json={"title": "Checkout down", "severity": "critical"},
        headers={"X-Routing-Key": svc["key"]},
    )
    assert response.status_code == 202, response.text
    incident_id = response.json()["alerts"][0]["incident_id"]
    assert (await rt.engine.run_once())["escalation"] == 1
    clock.advance(90)
    ack = await client.post(f"/api/v1/incidents/{incident_id}/acknowledge")
    assert ack.status_code == 200, ack.text
    clock.advance(210)
    done = await client.post(f"/api/v1/incidents/{incident_id}/resolve")
    assert done.status_code == 200, done.text
    monitor = await client.post(
        "/api/v1/heartbeat-monitors",
        json={"service_id": svc["id"], "name": "backup", "interval_seconds": 60},
    )
    assert monitor.status_code == 201, monitor.text
    assert (await client.get(f"/api/v1/heartbeats/{monitor.json()['token']}")).status_code == 200


async def test_queries_name_only_exported_metrics(
    client: httpx.AsyncClient, rt: Runtime, clock: FakeClock
) -> None:
    await _produce_every_sample(client, rt, clock)
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    families, samples = exported(response.text)
    # The text format also types each counter's `_created` timestamp as its own gauge.
    ours = {f for f in families if f.startswith("oncall_") and not f.endswith("_created")}
    assert ours, response.text

    used: set[str] = set()
    for path in DASHBOARDS:
        for title, expr in exprs(load(path)):
            assert balanced(expr), f"{title}: {expr}"
            for name in METRIC.findall(expr):
                assert name in samples, f"{path.name} / {title}: {name} is not exported"
                used.add(name)

    # Every family the server exports has a panel (counters are exported as `_total`).
    unused = {f for f in ours if not any(u == f or u.startswith(f + "_") for u in used)}
    assert not unused, f"exported but on no panel: {sorted(unused)}"
