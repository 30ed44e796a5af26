"""Opsgenie's official Python SDK (PyPI `opsgenie-sdk`, a dev dependency), its host set
to `oncallnova serve`: create, poll the request status, acknowledge, add a note and
close, as a script written for Opsgenie does."""

from __future__ import annotations

from pathlib import Path

import httpx
import opsgenie_sdk
import pytest

from tests.system.servers import Server

pytestmark = pytest.mark.slow


def test_opsgenie_python_sdk_against_oncallnova(tmp_path: Path) -> None:
    env = {
        "ONCALLNOVA_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "RATE_LIMIT_ENABLED": "false",
    }
    server = Server(env, tmp_path / "server.log").start(timeout=120)
    try:
        created = httpx.post(
            f"{server.url}/api/v1/services", headers=server.headers, json={"name": "payments"}
        )
        assert created.status_code == 201, created.text
        key = created.json()["integration_keys"][0]["key"]

        conf = opsgenie_sdk.configuration.Configuration()
        conf.host = server.url  # the only change a migrating script needs, with the key
        conf.api_key["Authorization"] = key
        conf.api_key_prefix["Authorization"] = "GenieKey"
        alerts = opsgenie_sdk.AlertApi(api_client=opsgenie_sdk.api_client.ApiClient(conf))

        payload = opsgenie_sdk.CreateAlertPayload(
            message="Payment latency over 2 s",
            alias="payments-latency",
            description="p99 latency of /pay",
            tags=["env:prod", "payments"],
            details={"region": "eu-west-1"},
            priority="P2",
            note="opened by the SDK test",
        )
        accepted = alerts.create_alert(create_alert_payload=payload)
        assert accepted.result == "Request will be processed"
        status = alerts.get_request_status(request_id=accepted.request_id)
        assert status.data.is_success is True
        assert status.data.action == "Create"
        alert_id = status.data.alert_id

        ack = alerts.acknowledge_alert(
            identifier="payments-latency",
            identifier_type="alias",
            acknowledge_alert_payload=opsgenie_sdk.AcknowledgeAlertPayload(
                user="sdk", source="test", note="on it"
            ),
        )
        assert alerts.get_request_status(request_id=ack.request_id).data.is_success is True
        note = alerts.add_note(
            identifier=alert_id,
            identifier_type="id",
            add_note_to_alert_payload=opsgenie_sdk.AddNoteToAlertPayload(note="rolled back"),
        )
        assert alerts.get_request_status(request_id=note.request_id).data.status == "Added note"
        closed = alerts.close_alert(
            identifier="payments-latency",
            identifier_type="alias",
            close_alert_payload=opsgenie_sdk.CloseAlertPayload(user="sdk", note="fixed"),
        )
        result = alerts.get_request_status(request_id=closed.request_id).data
        assert (result.is_success, result.status, result.alert_id) == (
            True,
            "Closed alert",
            alert_id,
        )

        listing = httpx.get(f"{server.url}/api/v1/incidents", headers=server.headers).json()
        [incident] = listing["items"]
        detail = httpx.get(
            f"{server.url}/api/v1/incidents/{incident['id']}", headers=server.headers
        ).json()
        assert detail["status"] == "resolved"
        assert detail["acknowledged_by"] == "opsgenie:payments"
        assert detail["alerts"][0]["labels"] == {"env": "prod", "payments": "true"}
        notes = [e["message"] for e in detail["timeline"] if e["kind"] == "note"]
        assert notes == ["opened by the SDK test", "on it (sdk)", "rolled back", "fixed (sdk)"]

        # An unknown request is Opsgenie's 404, which the SDK raises as an ApiException.
        with pytest.raises(opsgenie_sdk.exceptions.ApiException) as raised:
            alerts.get_request_status(request_id="0" * 36)
        assert raised.value.status == 404
    finally:
        server.stop()
