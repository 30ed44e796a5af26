"""deploy/docker-compose.yml, as Docker Compose v2 itself reads it (`config`), holds what
the deployment promises: the seed's 14 services plus the engine, each role started as the
CLI and the roles table say, health checks and healthy dependencies everywhere, pinned
images, named volumes, secrets from .env only, and the Traefik labels equal to the file
configuration Traefik is tested with."""

from __future__ import annotations

import re
from typing import Any

import typer.main

from oncallnova.cli import app
from oncallnova.deploy.commands import probe_args, serve_args
from oncallnova.deploy.compose import TEST_ONLY_SETTINGS, setting_names
from oncallnova.runtime.roles import ROLES, SPLIT_ROLES, RoleName
from tests.deploy.conftest import (
    COMPOSE_FILE,
    DEPLOY,
    ENV_EXAMPLE,
    ROOT,
    committed_yaml,
    docker_compose,
    env_example,
    run,
)

SEED_SERVICES = {
    "ingestion",
    "incidents",
    "oncall",
    "web",
    "metrics",
    "postgres",
    "redis",
    "traefik",
    "prometheus",
    "grafana",
    "jaeger",
    "loki",
    "promtail",
    "mailhog",
}
SECRETS = {
    "POSTGRES_PASSWORD",
    "JWT_SECRET",
    "ONCALLNOVA_INTERNAL_TOKEN",
    "METRICS_TOKEN",
    "GRAFANA_ADMIN_PASSWORD",
    "ONCALLNOVA_ADMIN_PASSWORD",
}


def parse_serve(args: list[str]) -> dict[str, Any]:
    """`oncallnova serve ARGS` parsed by the real command line (unknown option or role:
    an error)."""
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    assert args[0] == "serve"
    ctx = serve.make_context("serve", list(args[1:]))
    return dict(ctx.params)


def test_compose_v2_accepts_the_file_with_an_operators_env(tmp_path) -> None:
    from tests.deploy.conftest import filled_env_file

    env = filled_env_file(tmp_path)
    result = run(docker_compose(), "-f", str(COMPOSE_FILE), "--env-file", str(env), "config", "-q")
    assert result.returncode == 0, result.stderr


def test_a_missing_secret_stops_compose_with_a_message_naming_it() -> None:
    # .env.example as shipped: every secret empty.
    result = run(
        docker_compose(), "-f", str(COMPOSE_FILE), "--env-file", str(ENV_EXAMPLE), "config", "-q"
    )
    assert result.returncode != 0
    assert re.search(r"set [A-Z_]+ in deploy/\.env", result.stderr), result.stderr


def test_the_seed_services_plus_the_engine(compose_model: dict[str, Any]) -> None:
    services = set(compose_model["services"])
    assert services == SEED_SERVICES | {"engine"}
    assert len(SEED_SERVICES) == 14
    # Every role of the table is a service of its own.
    assert {name.value for name in SPLIT_ROLES} <= services


def test_every_role_runs_the_command_and_ports_of_the_table(compose_model: dict[str, Any]) -> None:
    services = compose_model["services"]
    for name in SPLIT_ROLES:
        service, spec = services[name.value], ROLES[name]
        assert service["command"] == serve_args(name)
        assert service["healthcheck"]["test"] == ["CMD", *probe_args(name)]
        published = {(p["target"], p.get("host_ip")) for p in service.get("ports", [])}
        if name is RoleName.ingestion or spec.http_port is None:
            # ingestion scales (`--scale ingestion=3`): no fixed host port, no fixed name.
            assert published == set()
            assert "container_name" not in service
        else:
            ports = {p for p in (spec.http_port, spec.grpc_port) if p is not None}
            assert published == {(port, "127.0.0.1") for port in ports}
        params = parse_serve(service["command"])
        assert params["role"] == name.value
        if spec.http_port is not None:
            assert params["port"] == spec.http_port
        if spec.grpc_port is not None:
            assert params["grpc_port"] == spec.grpc_port


def test_health_checks_and_healthy_dependencies_everywhere(compose_model: dict[str, Any]) -> None:
    services = compose_model["services"]
    for name, service in services.items():
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        for dependency, how in service.get("depends_on", {}).items():
            assert how["condition"] == "service_healthy", (name, dependency)
            assert "healthcheck" in services[dependency]
    for name in SPLIT_ROLES:
        assert {"postgres", "redis"} <= set(services[name.value]["depends_on"])
    assert set(services["grafana"]["depends_on"]) == {"prometheus", "loki", "jaeger"}
    assert set(services["promtail"]["depends_on"]) == {"loki"}


def test_images_are_pinned_and_one_image_serves_every_role(
    compose_model: dict[str, Any],
) -> None:
    images = set()
    for name, service in compose_model["services"].items():
        image = service["image"]
        assert not image.endswith(":latest"), name
        assert re.fullmatch(r"[\w./-]+:v?\d+(\.\d+)+(-[\w.]+)?", image), (name, image)
        if name in {role.value for role in SPLIT_ROLES}:
            images.add(image)
            assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert len(images) == 1


def test_named_volumes_keep_postgres_and_grafana(compose_model: dict[str, Any]) -> None:
    services = compose_model["services"]

    def named(service: str) -> dict[str, str]:
        volumes = services[service].get("volumes", [])
        return {v["target"]: v["source"] for v in volumes if v["type"] == "volume"}

    assert named("postgres") == {"/var/lib/postgresql/data": "postgres-data"}
    assert named("grafana")["/var/lib/grafana"] == "grafana-data"
    assert {"postgres-data", "grafana-data"} <= set(compose_model["volumes"])
    # Every file Compose mounts from the repository exists (the Docker socket aside).
    for name, service in services.items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind" and volume["source"] != "/var/run/docker.sock":
                assert (ROOT / volume["source"]).exists(), (name, volume["source"])
    grafana = {v["target"]: v["source"] for v in services["grafana"]["volumes"]}
    assert grafana["/etc/grafana/provisioning"] == str(DEPLOY / "grafana" / "provisioning")
    assert grafana["/var/lib/grafana/dashboards"] == str(DEPLOY / "grafana" / "dashboards")


def test_published_ports_are_the_seeds(compose_model: dict[str, Any]) -> None:
    def published(service: str) -> set[tuple[int, int]]:
        ports = compose_model["services"][service].get("ports", [])
        return {(int(p["published"]), p["target"]) for p in ports}

    assert published("traefik") == {(80, 80), (8888, 8888)}
    assert published("prometheus") == {(9091, 9090)}
    assert published("grafana") == {(3000, 3000)}
    assert published("jaeger") == {(16686, 16686), (4317, 4317), (4318, 4318)}
    assert published("loki") == {(3100, 3100)}
    assert published("mailhog") == {(8025, 8025), (1025, 1025)}
    # The roles' ports are the table's (test_every_role_runs_the_command_and_ports_...).


def test_roles_get_every_setting_and_nothing_else(compose_model: dict[str, Any]) -> None:
    expected = set(setting_names()) - TEST_ONLY_SETTINGS
    for name in SPLIT_ROLES:
        environment = compose_model["services"][name.value]["environment"]
        assert set(environment) == expected, name
        # Secrets come from .env, never from the file.
        for secret in ("JWT_SECRET", "ONCALLNOVA_INTERNAL_TOKEN", "METRICS_TOKEN"):
            assert environment[secret] == "0123456789abcdef0123456789abcdef"


def test_env_example_names_every_variable_and_commits_no_secret() -> None:
    example = env_example()
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert interpolated <= set(example), interpolated - set(example)
    known = interpolated | set(setting_names())
    assert set(example) <= known, set(example) - known
    assert not set(example) & TEST_ONLY_SETTINGS
    for name in SECRETS:
        assert example[name] == "", f"{name} has a value in .env.example"
    tracked = run("git", "ls-files", "deploy", cwd=ROOT).stdout.split()
    assert "deploy/.env" not in tracked


def label_tree(labels: dict[str, str]) -> dict[str, Any]:
    """Traefik's `traefik.http.*` labels as the nested mapping they stand for."""
    tree: dict[str, Any] = {}
    for key, value in labels.items():
        if not key.startswith("traefik.http."):
            continue
        *path, leaf = key.split(".")[1:]
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        assert node.get(leaf, value) == value, f"two values for {key}"
        node[leaf] = value
    return tree


def as_labels(value: Any) -> Any:
    """A file-provider mapping with its leaves written the way labels write them."""
    if isinstance(value, dict):
        return {key: as_labels(item) for key, item in value.items()}
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def test_compose_labels_equal_the_traefik_file_configuration(
    compose_model: dict[str, Any],
) -> None:
    merged: dict[str, str] = {}
    for name in SPLIT_ROLES:
        labels = compose_model["services"][name.value].get("labels", {})
        for key, value in labels.items():
            if not key.startswith("traefik."):
                continue
            assert merged.get(key, value) == value, f"containers disagree on {key}"
            merged[key] = value
    from_labels = label_tree(merged)["http"]
    from_file = committed_yaml("deploy/traefik/dynamic.yml")["http"]

    # Where the servers are is the one thing the providers say differently: Docker gives
    # the port (and scheme) of each container, the file lists addresses.
    for service_name, service in from_file["services"].items():
        role = RoleName(service_name.removesuffix("-grpc"))
        grpc = service_name.endswith("-grpc")
        port = ROLES[role].grpc_port if grpc else ROLES[role].http_port
        scheme = "h2c" if grpc else "http"
        servers = service["loadBalancer"].pop("servers")
        assert [s["url"] for s in servers] == [f"{scheme}://127.0.0.1:{port}"]
        server = from_labels["services"][service_name]["loadBalancer"].pop("server")
        assert server == ({"port": str(port), "scheme": "h2c"} if grpc else {"port": str(port)})
    # The gateway's limit lives in Traefik's memory: its Redis-backed limiter answers 500
    # to everything while Redis is away.
    assert "redis" not in from_file["middlewares"]["ratelimit"]["rateLimit"]

    assert from_labels == as_labels(from_file)
    # And both route every role of the table that serves HTTP through the gateway.
    routed = {name for name in from_file["routers"] if not name.endswith("-grpc")}
    assert routed == {name.value for name, role in ROLES.items() if role.http_prefixes}
