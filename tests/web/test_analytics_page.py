"""The analytics page rendered on the server (no browser): the numbers it shows, filters,
the viewer's zone, the empty state, and who may see it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from oncallnova.core.authz import SYSTEM
from oncallnova.core.clock import FakeClock
from oncallnova.runtime.container import Runtime
from oncallnova.users.schemas import UserIn
from tests.conftest import ADMIN_PASSWORD, api_client, new_service

SVG = "{http://www.w3.org/2000/svg}"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


async def alert(client: httpx.AsyncClient, key: str, title: str, severity: str) -> str:
    body = {"title": title, "severity": severity}
    response = await client.post("/api/v1/alerts", json=body, headers={"X-Routing-Key": key})
    assert response.status_code == 202, response.text
    return str(response.json()["alerts"][0]["incident_id"])


async def act(client: httpx.AsyncClient, incident_id: str, verb: str) -> None:
    response = await client.post(f"/api/v1/incidents/{incident_id}/{verb}")
    assert response.status_code == 200, response.text


def stat(html: str, name: str) -> str:
    match = re.search(rf'data-stat="{name}"><strong>([^<]*)</strong>', html)
    assert match, name
    return match.group(1)


def cells(row: str) -> list[str]:
    """The text of each cell of a table row, tags removed."""
    found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in found]


def stats_row(html: str, metric: str, severity: str) -> list[str]:
    table = html.split(f'data-metric="{metric}"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'data-severity="{severity}"', 1)[1].split("</tr>", 1)[0]
    return cells("<tr " + row)[1:]  # count, p50, p90, p99, mean


def table_rows(html: str, name: str) -> list[list[str]]:
    table = html.split(f'data-table="{name}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [cells(r) for r in body.split("</tr>") if "<td" in r]


def svg(html: str, chart_id: str) -> ET.Element:
    start = html.rindex("<svg", 0, html.index(f'aria-labelledby="{chart_id}-title'))
    return ET.fromstring(html[start : html.index("</svg>", start) + 6])


def bar_values(chart: ET.Element, cls: str) -> list[float]:
    return [
        float(r.get("data-value", 0)) for r in chart.iter(f"{SVG}rect") if r.get("class") == cls
    ]


@pytest.fixture
async def incidents(client: httpx.AsyncClient, clock: FakeClock) -> dict[str, Any]:
    """api (team Payments): a critical (its alert twice) and a high at 10:00; web: a low
    at 11:00. MTTA 2m, 5m, 10m; MTTR 10m (critical) and 30m (low); now is 12:00 UTC."""
    team = (await client.post("/api/v1/teams", json={"name": "Payments"})).json()["id"]
    api = await new_service(client, "api", team_id=team, correlation_key=["title"])
    web = await new_service(client, "web <b>&", correlation_key=["title"])
    clock.set(at(10))
    critical = await alert(client, api["key"], "disk full", "critical")
    assert await alert(client, api["key"], "disk full", "critical") == critical
    high = await alert(client, api["key"], "latency", "high")
    for when, incident_id, verb in ((2, critical, "acknowledge"), (5, high, "acknowledge")):
        clock.set(at(10, when))
        await act(client, incident_id, verb)
    clock.set(at(10, 10))
    await act(client, critical, "resolve")
    clock.set(at(11))
    low = await alert(client, web["key"], "queue slow", "low")
    clock.set(at(11, 10))
    await act(client, low, "acknowledge")
    clock.set(at(11, 30))
    await act(client, low, "resolve")
    clock.set(at(12))
    return {"team": team, "api": api["id"], "web": web["id"]}


async def test_shows_the_numbers_of_the_period(
    client: httpx.AsyncClient, incidents: dict[str, Any]
) -> None:
    response = await client.get("/analytics", params={"period": "24h"})
    assert response.status_code == 200, response.text
    html = response.text
    assert "<h1>Analytics</h1>" in html
    assert '<option value="24h" selected>' in html
    assert stat(html, "incidents") == "3"
    assert stat(html, "alerts") == "4"
    assert stat(html, "alerts-per-incident") == "1.33"
    assert stat(html, "escalation-rate") == "0%"
    assert stat(html, "open") == "1"
    # MTTA of 2m, 5m, 10m; MTTR of 10m and 30m (nearest rank)
    assert stats_row(html, "MTTA", "all") == ["3", "5m 0s", "10m 0s", "10m 0s", "5m 40s"]
    assert stats_row(html, "MTTA", "critical") == ["1", "2m 0s", "2m 0s", "2m 0s", "2m 0s"]
    assert stats_row(html, "MTTA", "medium") == ["0", "—", "—", "—", "—"]
    assert stats_row(html, "MTTR", "all") == ["2", "10m 0s", "30m 0s", "30m 0s", "20m 0s"]
    # incidents per hour in UTC, the last 24 hours plus the current hour
    volume = table_rows(html, "volume")
    assert len(volume) == 25
    assert ["2026-03-01 10:00", "1", "1", "0", "0", "2"] in volume
    assert ["2026-03-01 11:00", "0", "0", "0", "1", "1"] in volume
    chart = svg(html, "volume")
    assert bar_values(chart, "fill-critical") == [1]
    assert bar_values(chart, "fill-low") == [1]
    assert chart.find(f"{SVG}title").text == "Incidents per hour by severity"  # type: ignore[union-attr]
    assert "critical" in html.split('class="chart-legend"', 1)[1].split("</ul>", 1)[0]
    # the trend: eight 3-hour windows ending now; only the last holds incidents
    trend = table_rows(html, "trend")
    assert len(trend) == 8
    assert trend[-1] == ["Mar 01 09:00 \u2013 Mar 01 12:00", "3", "5m 40s", "2", "20m 0s"]
    assert trend[0][1:] == ["0", "—", "0", "—"]
    assert bar_values(svg(html, "mtta-trend"), "fill-accent") == [340]
    # histograms, per range: 2m and 5m fall in the one over 1m up to 5m, 10m in the next
    # (the API's counts are cumulative; the page shows what each range holds)
    hist = table_rows(html, "mtta-hist")
    assert ["1\u20135m", "1", "1", "0", "0", "2"] in hist
    assert ["5\u201315m", "0", "0", "0", "1", "1"] in hist
    assert [row[-1] for row in hist] == ["0", "2", "1", "0", "0", "0", "0", "0"]
    assert bar_values(svg(html, "mtta-hist"), "fill-critical") == [1]
    assert sum(bar_values(svg(html, "mttr-hist"), "fill-low")) == 1
    # services (names escaped), acknowledgements
    assert "web &lt;b&gt;&amp;</a>: <span data-count>1</span>" in html
    assert "api</a>: <span data-count>2</span> incidents" in html
    assert "Admin: <span data-count>3</span> acknowledgements" in html
    assert "<b>&" not in html
    assert bar_values(svg(html, "services"), "fill-accent") == [2, 1]
    assert bar_values(svg(html, "noise"), "fill-accent") == [4, 3]


async def test_filters_narrow_every_figure(
    client: httpx.AsyncClient, incidents: dict[str, Any]
) -> None:
    critical = (await client.get("/analytics", params={"severity": "critical"})).text
    assert '<option value="critical" selected>' in critical
    assert (stat(critical, "incidents"), stat(critical, "alerts")) == ("1", "2")
    assert 'data-severity="high"' not in critical  # only the chosen severity's rows
    team = (await client.get("/analytics", params={"team": incidents["team"]})).text
    assert (stat(team, "incidents"), stat(team, "open")) == ("2", "1")
    web = (await client.get("/analytics", params={"service": incidents["web"]})).text
    assert stat(web, "incidents") == "1"
    assert stats_row(web, "MTTR", "low") == ["1", "30m 0s", "30m 0s", "30m 0s", "30m 0s"]
    week = (await client.get("/analytics", params={"period": "7d"})).text
    days = table_rows(week, "volume")
    assert days[-1] == ["2026-03-01", "1", "1", "0", "1", "3"] and len(days) == 8
    assert len(table_rows(week, "trend")) == 7
    month = (await client.get("/analytics", params={"period": "90d"})).text
    assert stat(month, "incidents") == "3" and len(table_rows(month, "trend")) == 9
    # unknown values fall back to the defaults instead of an error page
    odd = await client.get("/analytics", params={"period": "1y", "severity": "x", "team": "?"})
    assert odd.status_code == 200 and '<option value="7d" selected>' in odd.text
    none = (await client.get("/analytics", params={"period": "24h", "severity": "medium"})).text
    assert "No incidents in the last 24 hours match these filters." in none
    assert "<svg" not in none


async def test_viewer_sees_it_in_their_zone(rt: Runtime, incidents: dict[str, Any]) -> None:
    data = UserIn(name="Vi", email="vi@example.com", role="viewer", time_zone="Europe/Paris")
    user_id = await rt.auth.create_user(SYSTEM, data, ADMIN_PASSWORD)
    async with api_client(rt, (await rt.auth.issue(user_id)).access_token) as viewer:
        response = await viewer.get("/analytics", params={"period": "24h"})
    assert response.status_code == 200, response.text
    html = response.text
    assert stat(html, "incidents") == "3"
    volume = table_rows(html, "volume")
    assert ["2026-03-01 11:00", "1", "1", "0", "0", "2"] in volume  # 10:00 UTC in Paris
    assert "One bar per hour in Europe/Paris" in html
    assert "data-api" not in html  # nothing to change on this page


async def test_empty_state_and_sign_in(rt: Runtime, client: httpx.AsyncClient) -> None:
    html = (await client.get("/analytics")).text
    assert "No incidents in the last 7 days — nothing to chart yet." in html
    assert "Services" in html and "<svg" not in html
    async with api_client(rt, token="") as anonymous:
        response = await anonymous.get("/analytics?period=24h")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fanalytics")
