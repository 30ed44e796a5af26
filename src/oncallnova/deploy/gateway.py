"""Traefik's configuration for the split roles, from the roles table.

One description (`routing`) holds the routers, the services' load-balancing and health
checks and the rate limit. Two providers are written from it and from nothing else:
- the file provider's dynamic configuration (`file_config`), with the servers given as
  addresses, as `oncallnova stack up` and the committed `deploy/traefik/dynamic.yml` need;
- the Docker provider's labels (`docker_labels`), where Traefik finds the servers itself
  (every healthy container of a Compose service, so `--scale` adds them).
The two differ only in where the servers come from, which a test checks.

HTTP requests go to the role whose path prefix matches (longest first; `web` takes the
rest), round-robin over its replicas, each limited per client address to the same rate
and burst as OnCallNova's own limiter. gRPC between roles goes through its own entry
point over h2c, so each call (not each connection) is balanced over the replicas of the
role serving it. A request that finds a replica gone (connection refused) is tried on
the next one; one that reached a replica is never sent twice (Traefik does not retry a
POST once it was sent), so an alert is never stored twice by the gateway.

The gateway's limit is kept in Traefik's memory, not in Redis: Traefik's Redis-backed
limiter answers every request with a 500 while Redis is unreachable (traefik/traefik
issue 12043), which would turn a Redis outage into a full outage. OnCallNova's own
limiter behind it is shared by every replica through Redis and lets requests through
while Redis is away; with one gateway, as here, its memory is the whole budget anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oncallnova.runtime.roles import ROLES, RoleName
from oncallnova.settings import Settings
from oncallnova.transport.grpc.interceptors import ROLE_KEY

HTTP_ENTRYPOINT = "web"
GRPC_ENTRYPOINT = "grpc"
HEALTH_PATH = "/grpc.health.v1.Health/"
# Traefik's own entry point: the dashboard and API, `ping` and its metrics.
DASHBOARD_ENTRYPOINT = "traefik"
DASHBOARD_PORT = 8888
# Where roles reach each other's gRPC services through the gateway.
GRPC_PORT = 50050
RATE_LIMIT = "ratelimit"
RETRY = "retry"
HEALTH_CHECK = {"interval": "5s", "timeout": "2s"}
# A replica that refuses the connection (gone, restarting) is skipped for the next one.
RETRY_POLICY = {"attempts": 3, "initialInterval": "100ms"}


@dataclass(frozen=True)
class Limits:
    """The per-client rate limit at the gateway: requests per second and burst, or none."""

    per_second: int | None = int(Settings.model_fields["rate_limit_per_second"].default)
    burst: int = int(Settings.model_fields["rate_limit_burst"].default)

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limit OnCallNova's own limiter applies (RATE_LIMIT_*), also at the door."""
        if not settings.rate_limit_enabled:
            return cls(None)
        return cls(max(1, round(settings.rate_limit_per_second)), settings.rate_limit_burst)


def grpc_package() -> str:
    """The protobuf package of the gRPC services, as compiled (`oncallnova.v1`)."""
    from oncallnova.transport.grpc.gen.oncallnova.v1 import common_pb2

    return str(common_pb2.DESCRIPTOR.package)


def gateway_roles() -> list[RoleName]:
    """Roles that receive HTTP requests through the gateway."""
    return [name for name, role in ROLES.items() if role.http_prefixes]


def grpc_roles() -> list[RoleName]:
    """Roles whose gRPC services other roles call through the gateway."""
    return [name for name, role in ROLES.items() if role.grpc_services]


def grpc_name(role: RoleName) -> str:
    return f"{role.value}-grpc"


def _rule(prefixes: Sequence[str]) -> str:
    return " || ".join(f"PathPrefix(`{prefix}`)" for prefix in prefixes)


def routing(limits: Limits | None = None) -> dict[str, Any]:
    """Routers, services (without their servers) and middlewares, provider-neutral."""
    limits = limits or Limits()
    middlewares: dict[str, Any] = {RETRY: {"retry": dict(RETRY_POLICY)}}
    if limits.per_second is not None:
        middlewares[RATE_LIMIT] = {
            "rateLimit": {"average": limits.per_second, "burst": limits.burst, "period": "1s"}
        }
    # Limited first: a retry is not a new request.
    http_middlewares = [name for name in (RATE_LIMIT, RETRY) if name in middlewares]
    routers: dict[str, Any] = {}
    services: dict[str, Any] = {}
    for name in gateway_roles():
        router: dict[str, Any] = {
            "rule": _rule(ROLES[name].http_prefixes),
            "entryPoints": [HTTP_ENTRYPOINT],
            "service": name.value,
            "middlewares": list(http_middlewares),
        }
        if ROLES[name].http_prefixes == ("/",):
            router["priority"] = 1  # the catch-all: every longer prefix wins over it
        routers[name.value] = router
        services[name.value] = {
            "loadBalancer": {
                "strategy": "wrr",
                "healthCheck": {"path": "/health", **HEALTH_CHECK},
            }
        }
    package = grpc_package()
    for name in grpc_roles():
        # Every role serves the standard health service at the same path: a probe names
        # the role it asks about in a header.
        health = f"(PathPrefix(`{HEALTH_PATH}`) && Header(`{ROLE_KEY}`, `{name.value}`))"
        routers[grpc_name(name)] = {
            "rule": _rule([f"/{package}.{service}/" for service in ROLES[name].grpc_services])
            + f" || {health}",
            "entryPoints": [GRPC_ENTRYPOINT],
            "service": grpc_name(name),
            "middlewares": [RETRY],
        }
        services[grpc_name(name)] = {
            "loadBalancer": {"strategy": "wrr", "healthCheck": {"mode": "grpc", **HEALTH_CHECK}}
        }
    return {"http": {"routers": routers, "services": services, "middlewares": middlewares}}


def file_config(
    http_servers: Mapping[RoleName, Sequence[str]],
    grpc_servers: Mapping[RoleName, Sequence[str]],
    *,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """The file provider's dynamic configuration, with each role's replicas given as
    `host:port` addresses (HTTP, and gRPC for the roles other roles call)."""
    config = routing(limits)
    services = config["http"]["services"]
    for name in gateway_roles():
        services[name.value]["loadBalancer"]["servers"] = [
            {"url": f"http://{address}"} for address in http_servers[name]
        ]
    for name in grpc_roles():
        services[grpc_name(name)]["loadBalancer"]["servers"] = [
            {"url": f"h2c://{address}"} for address in grpc_servers[name]
        ]
    return config


def flatten(prefix: str, value: Any) -> dict[str, str]:
    """Traefik's label form: dotted keys, lists of scalars joined by commas."""
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(flatten(f"{prefix}.{key}", item))
        return out
    if isinstance(value, list | tuple):
        return {prefix: ",".join(str(item) for item in value)}
    return {prefix: str(value)}


def docker_labels(role: RoleName, *, limits: Limits | None = None) -> dict[str, str]:
    """The labels of `role`'s containers: its routers and services from `routing`, the
    port (and h2c scheme) Traefik reaches each container on instead of a server list, and
    the shared middlewares (each container carries the same, which Traefik merges)."""
    config = routing(limits)["http"]
    names = [name for name in (role.value, grpc_name(role)) if name in config["routers"]]
    if not names:
        return {}
    spec = ROLES[role]
    labels = {"traefik.enable": "true"}
    for name in names:
        labels.update(flatten(f"traefik.http.routers.{name}", config["routers"][name]))
        service = config["services"][name]
        grpc = name == grpc_name(role)
        server = {"port": spec.grpc_port, "scheme": "h2c"} if grpc else {"port": spec.http_port}
        service["loadBalancer"]["server"] = server
        labels.update(flatten(f"traefik.http.services.{name}", service))
    labels.update(flatten("traefik.http.middlewares", config["middlewares"]))
    return labels


def static_config(
    *,
    http_port: int,
    grpc_port: int = GRPC_PORT,
    dashboard_port: int = DASHBOARD_PORT,
    providers: Mapping[str, Any],
    host: str = "",
) -> dict[str, Any]:
    """Traefik's static configuration: the three entry points (`host` empty: every
    interface), the dashboard, `ping` for health checks, Prometheus metrics. Request
    headers that alias another one (`X_Forwarded_For`) are dropped at the door: Python
    servers may read them as the header Traefik sets."""
    return {
        "entryPoints": {
            name: {"address": f"{host}:{port}", "http": {"aliasHeadersStrategy": "delete"}}
            for name, port in (
                (HTTP_ENTRYPOINT, http_port),
                (GRPC_ENTRYPOINT, grpc_port),
                (DASHBOARD_ENTRYPOINT, dashboard_port),
            )
        },
        "api": {"dashboard": True, "insecure": True},
        "ping": {"entryPoint": DASHBOARD_ENTRYPOINT},
        "metrics": {"prometheus": {"entryPoint": DASHBOARD_ENTRYPOINT}},
        "log": {"level": "INFO", "format": "json"},
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "providers": dict(providers),
    }


def file_provider(path: str) -> dict[str, Any]:
    return {"file": {"filename": path, "watch": True}}
