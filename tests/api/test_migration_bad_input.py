"""The native route's bad-input rules hold for the Opsgenie and Grafana OnCall routes:
a 4xx naming the field (in Opsgenie's error body under /v2/alerts), nothing stored."""

from __future__ import annotations

import httpx
import pytest

from oncallnova.runtime.container import Runtime
from tests.conftest import RuntimeFactory, api_client, new_service


@pytest.fixture
def backend() -> str:
    """Validation happens before any storage: one database is enough to show it (the
    Opsgenie and Grafana OnCall routes store through the same pipeline, tested on both)."""
    return "sqlite"


async def nothing_stored(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/incidents")).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        (b'{"message": ', 400, "JSON"),
        (b"", 400, "empty"),
        (b"{}", 422, "message"),
        (b'{"message": ""}', 422, "message"),
        (b'{"message": "' + b"x" * 131 + b'"}', 422, "message"),
        (b'{"message": "x", "priority": "P9"}', 422, "priority"),
        (b'{"message": "x", "alias": "' + b"a" * 513 + b'"}', 422, "alias"),
        (b'{"message": "x", "tags": [1]}', 422, "tags[0]"),
        (b'{"message": "x", "details": {"a": {"b": 1}}}', 422, "details.a"),
        (b'{"message": "x", "responders": [{"type": "robot"}]}', 422, "responders[0].type"),
        (b'{"message": "x\\u0000"}', 422, "message"),
        (b"[]", 422, "object"),
    ],
)
async def test_opsgenie_create_refuses_bad_bodies(
    client: httpx.AsyncClient, body: bytes, status: int, names: str
) -> None:
    svc = await new_service(client)
    response = await client.post(
        "/v2/alerts",
        content=body,
        headers={"Authorization": f"GenieKey {svc['key']}", "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    answer = response.json()
    assert {"message", "took", "requestId"} <= set(answer)
    assert names.lower() in response.text.lower()
    if status == 422 and names != "object":
        assert any(names.split(".")[0] in field for field in answer["errors"]), answer
    await nothing_stored(client)


async def test_opsgenie_keys_actions_and_sizes(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    alert = {"message": "x"}
    for headers in (
        {},
        {"Authorization": f"Bearer {svc['key']}"},
        {"Authorization": "GenieKey no"},
    ):
        refused = await client.post("/v2/alerts", json=alert, headers=headers)
        assert refused.status_code == 401, headers
        assert set(refused.json()) == {"message", "took", "requestId"}
    key_id = svc["integration_keys"][0]["id"]
    await client.delete(f"/api/v1/services/{svc['id']}/integration-keys/{key_id}")
    revoked = await client.post(
        "/v2/alerts", json=alert, headers={"Authorization": f"GenieKey {svc['key']}"}
    )
    assert revoked.status_code == 401 and "revoked" in revoked.json()["message"]
    live = await new_service(client, "live")
    genie = {"Authorization": f"GenieKey {live['key']}"}
    wrong_type = await client.post(
        "/v2/alerts/x/close", params={"identifierType": "name"}, headers=genie
    )
    assert wrong_type.status_code == 422 and "identifierType" in wrong_type.json()["errors"]
    no_note = await client.post("/v2/alerts/x/notes", json={"user": "a"}, headers=genie)
    assert no_note.status_code == 422 and "note" in no_note.json()["errors"]
    big = {"message": "x", "description": "y" * (600 * 1024)}
    assert (await client.post("/v2/alerts", json=big, headers=genie)).status_code == 413
    await nothing_stored(client)


GRAFANA_CASES = [
    ("alertmanager", b'{"alerts": []}', 422, "status"),
    ("alertmanager", b'{"status": "firing"}', 422, "alerts"),
    ("alertmanager", b'{"status": "burning", "alerts": []}', 422, "status"),
    (
        "grafana_alerting",
        b'{"status": "firing", "alerts": [{"labels": {}}]}',
        422,
        "alerts[0].status",
    ),
    ("grafana_alerting", b'{"status": "firing", "alerts": "many"}', 422, "alerts"),
    ("grafana", b'{"title": 5}', 422, "title"),
    ("grafana", b'{"alerts": [{"labels": {"a": 1}}]}', 422, "alerts[0].labels.a"),
    ("webhook", b"[1, 2]", 422, "object"),
    ("webhook", b'{"title": ', 400, "JSON"),
    ("formatted_webhook", b'{"title": ["a"]}', 422, "title"),
    ("formatted_webhook", b"", 400, "empty"),
    ("formatted_webhook", b'{"title": "a\\u0000"}', 422, "title"),
]


@pytest.mark.parametrize(("kind", "body", "status", "names"), GRAFANA_CASES)
async def test_grafana_oncall_urls_refuse_bad_bodies(
    client: httpx.AsyncClient, kind: str, body: bytes, status: int, names: str
) -> None:
    svc = await new_service(client)
    response = await client.post(
        f"/integrations/v1/{kind}/{svc['key']}/",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert names.lower() in response.text.lower()
    await nothing_stored(client)


async def test_grafana_oncall_unknown_type_and_token(client: httpx.AsyncClient) -> None:
    svc = await new_service(client)
    body = {"title": "x"}
    unknown = await client.post(f"/integrations/v1/zabbix/{svc['key']}/", json=body)
    assert unknown.status_code == 404 and "formatted_webhook" in unknown.json()["detail"]
    bad = await client.post("/integrations/v1/webhook/not-a-key/", json=body)
    assert bad.status_code == 401
    beat = await client.get("/integrations/v1/webhook/not-a-key/heartbeat/")
    assert beat.status_code == 401
    await nothing_stored(client)


async def test_full_queue_answers_429_on_both(make_runtime: RuntimeFactory) -> None:
    rt: Runtime = await make_runtime(INGEST_QUEUE_LIMIT="1")
    async with api_client(rt) as c:
        svc = await new_service(c)
        two = {"alerts": [{"status": "firing", "labels": {"n": str(n)}} for n in range(2)]}
        go = await c.post(f"/integrations/v1/grafana/{svc['key']}/", json=two)
        assert go.status_code == 429 and go.headers["Retry-After"] == "1", go.text
        # the queue now counts as full until it drains: refused before the body is read
        og = await c.post(
            "/v2/alerts", json={"message": "x"}, headers={"Authorization": f"GenieKey {svc['key']}"}
        )
        assert og.status_code == 429 and og.headers["Retry-After"] == "1"
        assert "message" in og.json()
        assert (await c.get("/api/v1/incidents")).json()["total"] == 0
