"""The Helm chart deploy/helm/oncallnova: linted and rendered by Helm 4 itself (PyPI's
helm-python-sdk, no cluster), every rendered manifest validated with
`kubernetes-validate --strict`, and what it deploys checked against the roles table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncallnova.deploy.commands import probe_args, serve_args
from oncallnova.deploy.compose import TEST_ONLY_SETTINGS, setting_names
from oncallnova.runtime.roles import ROLES, SPLIT_ROLES, RoleName
from tests.deploy.conftest import DEPLOY, helm_sdk, run, venv_tool

CHART = DEPLOY / "helm" / "oncallnova"
KUBERNETES = "1.30.0"
VALUES = {
    "databaseUrl": "postgresql://oncallnova:pw@db.example.internal:5432/oncallnova",
    "redisUrl": "redis://redis.example.internal:6379/0",
    "jwtSecret": "j" * 40,
    "internalToken": "i" * 24,
    "metricsToken": "m" * 24,
    "trustedProxies": "10.0.0.0/8",
    "env": {"LOG_LEVEL": "INFO", "ONCALLNOVA_ENVIRONMENT": "staging"},
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    chart = helm_sdk().Chart.load(str(CHART))
    rendered = chart.render(values, name="ocn", namespace="oncall", is_install=True)
    return [
        doc
        for path, text in sorted(rendered.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return render(VALUES)


def by_kind(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def test_helm_lint_strict_finds_nothing_wrong() -> None:
    report = helm_sdk().lint(str(CHART), VALUES, strict=True, kube_version=f"v{KUBERNETES}")
    assert report["errors"] == []
    serious = [m for m in report["messages"] if m["severity"] >= 2]
    assert serious == [], serious


def test_kubernetes_validate_strict_accepts_every_manifest(
    manifests: list[dict[str, Any]], tmp_path: Path
) -> None:
    files = []
    for index, manifest in enumerate(manifests):
        path = tmp_path / f"{index:02d}-{manifest['kind']}.yaml"
        path.write_text(yaml.safe_dump(manifest), encoding="utf-8")
        files.append(str(path))
    tool = venv_tool("kubernetes-validate")
    result = run(tool, "--strict", "--kubernetes-version", KUBERNETES, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(files)


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def test_a_deployment_per_role_as_the_table_says(manifests: list[dict[str, Any]]) -> None:
    deployments = by_kind(manifests, "Deployment")
    assert set(deployments) == {f"ocn-oncallnova-{name.value}" for name in SPLIT_ROLES}
    for name in SPLIT_ROLES:
        spec, main = ROLES[name], container(deployments[f"ocn-oncallnova-{name.value}"])
        assert main["args"] == serve_args(name)
        ports = {p["name"]: p["containerPort"] for p in main.get("ports", [])}
        expected = {"http": spec.http_port, "grpc": spec.grpc_port}
        assert ports == {k: v for k, v in expected.items() if v is not None}
        assert main["resources"]["requests"] and main["resources"]["limits"]
        ready, alive = main["readinessProbe"], main["livenessProbe"]
        if spec.http_port is not None:
            assert ready["httpGet"] == {"path": "/health", "port": "http"}
        else:
            assert ready["exec"]["command"] == probe_args(name)
        if spec.grpc_port is not None:
            assert alive["grpc"] == {"port": spec.grpc_port}
        elif spec.http_port is not None:
            assert alive["httpGet"] == {"path": "/health", "port": "http"}
        else:
            assert alive["exec"]["command"] == probe_args(name)
        assert main["securityContext"]["readOnlyRootFilesystem"] is True
        pod = deployments[f"ocn-oncallnova-{name.value}"]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True


def test_services_and_ingress_route_the_tables_prefixes(manifests: list[dict[str, Any]]) -> None:
    services = by_kind(manifests, "Service")
    for name in SPLIT_ROLES:
        spec = ROLES[name]
        ports = {
            p["name"]: p["port"]
            for p in services.get(f"ocn-oncallnova-{name.value}", {})
            .get("spec", {})
            .get("ports", [])
        }
        expected = {"http": spec.http_port, "grpc": spec.grpc_port}
        assert ports == {k: v for k, v in expected.items() if v is not None}
    (ingress,) = by_kind(manifests, "Ingress").values()
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert paths == {
        prefix: f"ocn-oncallnova-{name.value}"
        for name, role in ROLES.items()
        for prefix in role.http_prefixes
    }


def test_ingestion_autoscales_and_every_role_has_a_disruption_budget(
    manifests: list[dict[str, Any]],
) -> None:
    (hpa,) = by_kind(manifests, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ocn-oncallnova-ingestion"
    assert "replicas" not in by_kind(manifests, "Deployment")["ocn-oncallnova-ingestion"]["spec"]
    budgets = by_kind(manifests, "PodDisruptionBudget")
    assert set(budgets) == {f"ocn-oncallnova-{name.value}" for name in SPLIT_ROLES}


def test_migrations_run_as_a_hook_before_install_and_upgrade(
    manifests: list[dict[str, Any]],
) -> None:
    (job,) = by_kind(manifests, "Job").values()
    hooks = job["metadata"]["annotations"]
    assert hooks["helm.sh/hook"] == "pre-install,pre-upgrade"
    migrate = job["spec"]["template"]["spec"]["containers"][0]
    assert migrate["args"] == ["db", "upgrade"]
    (secret,) = by_kind(manifests, "Secret").values()
    # The Secret the Job reads exists before it: an earlier hook.
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        hooks["helm.sh/hook-weight"]
    )
    assert secret["stringData"]["JWT_SECRET"] == VALUES["jwtSecret"]
    assert secret["stringData"]["DATABASE_URL"] == VALUES["databaseUrl"]
    assert secret["stringData"]["REDIS_URL"] == VALUES["redisUrl"]


def environments(manifests: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for manifest in manifests:
        if manifest["kind"] in {"Deployment", "Job"}:
            for item in manifest["spec"]["template"]["spec"]["containers"]:
                yield {e["name"]: e for e in item["env"]}


def test_every_variable_is_a_setting_and_secrets_come_from_the_secret(
    manifests: list[dict[str, Any]],
) -> None:
    known = set(setting_names()) - TEST_ONLY_SETTINGS
    for env in environments(manifests):
        assert set(env) <= known, set(env) - known
        for name in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ONCALLNOVA_INTERNAL_TOKEN"):
            assert env[name]["valueFrom"]["secretKeyRef"]["key"] == name
        for role, name in ((RoleName.incidents, "INCIDENTS"), (RoleName.oncall, "ONCALL")):
            address = f"ocn-oncallnova-{role.value}:{ROLES[role].grpc_port}"
            assert env[f"{name}_GRPC_ADDR"]["value"] == address


def test_an_existing_secret_replaces_the_charts_and_a_missing_url_is_refused() -> None:
    own = render({"existingSecret": "prod-oncallnova"})
    assert by_kind(own, "Secret") == {}
    for env in environments(own):
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "prod-oncallnova"
    with pytest.raises(helm_sdk().HelmError, match="databaseUrl"):
        render({key: value for key, value in VALUES.items() if key != "databaseUrl"})


def test_values_configure_exactly_the_roles_of_the_table() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert set(values["roles"]) == {name.value for name in SPLIT_ROLES}
