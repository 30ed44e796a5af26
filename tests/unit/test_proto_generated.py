"""The committed gRPC code is what `make proto` makes from proto/ today.

Nobody edits generated files: a change to a .proto without `make proto`, or a hand edit
under gen/, fails here and says which files differ.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "src" / "oncallnova" / "transport" / "grpc" / "gen"


def _files(gen: Path) -> dict[str, bytes]:
    return {
        p.relative_to(gen).as_posix(): p.read_bytes()
        for p in (gen / "oncallnova").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_committed_code_matches_a_fresh_generation(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh, committed = _files(tmp_path), _files(COMMITTED)
    assert sorted(fresh) == sorted(committed), "run `make proto`: the generated files differ"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"run `make proto`; these differ from a fresh generation: {stale}"
    # Every .proto has its four generated modules.
    protos = sorted(p.stem for p in (ROOT / "proto" / "oncallnova" / "v1").glob("*.proto"))
    assert protos == [
        "analytics",
        "auth",
        "catalog",
        "common",
        "heartbeats",
        "incidents",
        "ingestion",
        "notify",
        "oncall",
        "people",
        "suppression",
    ]
    for stem in protos:
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi"):
            assert f"oncallnova/v1/{stem}{suffix}" in fresh


def test_generated_modules_import_under_the_transport_package() -> None:
    from oncallnova.transport.grpc.gen.oncallnova.v1 import (
        analytics_pb2_grpc,
        auth_pb2_grpc,
        catalog_pb2_grpc,
        common_pb2,
        heartbeats_pb2_grpc,
        incidents_pb2,
        incidents_pb2_grpc,
        ingestion_pb2_grpc,
        notify_pb2_grpc,
        oncall_pb2_grpc,
        people_pb2_grpc,
        suppression_pb2_grpc,
    )

    # The wire names stay those of the public contract, whatever the Python module path.
    assert incidents_pb2.DESCRIPTOR.package == "oncallnova.v1"
    assert incidents_pb2.DESCRIPTOR.name == "oncallnova/v1/incidents.proto"
    assert incidents_pb2.Incident.__module__ == incidents_pb2.__name__
    assert incidents_pb2.Incident(severity=common_pb2.SEVERITY_HIGH).severity == 2
    assert common_pb2.Severity.Name(0) == "SEVERITY_UNSPECIFIED"
    assert incidents_pb2_grpc.add_IncidentServiceServicer_to_server
    assert ingestion_pb2_grpc.add_IngestServiceServicer_to_server
    assert oncall_pb2_grpc.add_OnCallServiceServicer_to_server
    assert catalog_pb2_grpc.add_CatalogServiceServicer_to_server
    assert people_pb2_grpc.add_PeopleServiceServicer_to_server
    assert people_pb2_grpc.add_ContactServiceServicer_to_server
    assert auth_pb2_grpc.add_AuthServiceServicer_to_server
    assert notify_pb2_grpc.add_WebhookServiceServicer_to_server
    assert analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server
    assert heartbeats_pb2_grpc.add_HeartbeatServiceServicer_to_server
    assert suppression_pb2_grpc.add_SilenceServiceServicer_to_server
    assert suppression_pb2_grpc.add_MaintenanceServiceServicer_to_server
