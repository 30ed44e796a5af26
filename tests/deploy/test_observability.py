"""Prometheus, Grafana, Loki and Promtail configuration for Compose.

Prometheus' file is checked by `promtool check config` (Debian's prometheus, installed by
scripts/test-services.sh). Grafana, Loki and Promtail are not obtainable here, so their
files are checked statically: they parse, and the names and ports they use are those of
the Compose services they talk to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oncallnova.deploy.prometheus import CREDENTIALS_FILE, SCRAPE_INTERVAL
from oncallnova.runtime.roles import ROLES, SPLIT_ROLES
from tests.deploy.conftest import DEPLOY, committed_yaml, promtool, run


def test_promtool_accepts_the_prometheus_configuration(tmp_path: Path) -> None:
    # The token file exists only inside the container: point the check at a real file
    # so promtool checks the whole configuration, files included.
    token = tmp_path / "metrics_token"
    token.write_text("token\n", encoding="utf-8")
    text = (DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8")
    assert CREDENTIALS_FILE in text
    config = tmp_path / "prometheus.yml"
    config.write_text(text.replace(CREDENTIALS_FILE, str(token)), encoding="utf-8")
    result = run(promtool(), "check", "config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_role_with_a_port_is_scraped_every_five_seconds(
    compose_model: dict[str, Any],
) -> None:
    config = committed_yaml("deploy/prometheus/prometheus.yml")
    assert SCRAPE_INTERVAL == "5s"
    assert config["global"]["scrape_interval"] == "5s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name in SPLIT_ROLES:
        port = ROLES[name].http_port
        if port is None:
            assert f"oncallnova-{name.value}" not in jobs
            continue
        job = jobs[f"oncallnova-{name.value}"]
        assert job["metrics_path"] == "/metrics"
        assert job["dns_sd_configs"] == [
            {"names": [name.value], "type": "A", "port": port, "refresh_interval": "15s"}
        ]
        assert job["authorization"]["credentials_file"] == CREDENTIALS_FILE
    prometheus = compose_model["services"]["prometheus"]
    assert [s["source"] for s in prometheus["secrets"]] == ["metrics_token"]
    assert CREDENTIALS_FILE == "/run/secrets/metrics_token"


def test_grafana_reuses_deploy_grafana_and_reaches_the_compose_services(
    compose_model: dict[str, Any],
) -> None:
    sources = committed_yaml("deploy/grafana/provisioning/datasources/datasources.yaml")
    urls = {source["uid"]: source["url"] for source in sources["datasources"]}
    assert urls == {
        "prometheus": "http://prometheus:9090",
        "loki": "http://loki:3100",
        "jaeger": "http://jaeger:16686",
    }
    services = compose_model["services"]
    assert {"prometheus", "loki", "jaeger"} <= set(services)
    prometheus = next(s for s in sources["datasources"] if s["uid"] == "prometheus")
    assert prometheus["jsonData"]["timeInterval"] == SCRAPE_INTERVAL
    providers = committed_yaml("deploy/grafana/provisioning/dashboards/dashboards.yaml")
    mounts = {v["target"] for v in services["grafana"]["volumes"]}
    assert providers["providers"][0]["options"]["path"] in mounts


def test_loki_and_promtail_agree_with_compose(compose_model: dict[str, Any]) -> None:
    loki = committed_yaml("deploy/loki/loki.yml")
    assert loki["server"]["http_listen_port"] == 3100
    assert loki["schema_config"]["configs"][0]["schema"] == "v13"
    promtail = committed_yaml("deploy/promtail/promtail.yml")
    assert promtail["clients"] == [{"url": "http://loki:3100/loki/api/v1/push"}]
    assert promtail["server"]["http_listen_port"] == 9080
    services = compose_model["services"]
    assert "-config.file=/etc/loki/loki.yml" in services["loki"]["command"]
    assert "-config.file=/etc/promtail/promtail.yml" in services["promtail"]["command"]
    # The dashboard's log panel selects service=~"oncallnova.*": Promtail names each
    # role's stream from the label every role container carries.
    # Promtail reads the containers of this Compose project only.
    (source,) = promtail["scrape_configs"][0]["docker_sd_configs"]
    project = f"com.docker.compose.project={compose_model['name']}"
    assert source["filters"] == [{"name": "label", "values": [project]}]
    relabel = promtail["scrape_configs"][0]["relabel_configs"]
    assert {
        "source_labels": ["__meta_docker_container_label_oncallnova_role"],
        "regex": "(.+)",
        "target_label": "service",
        "replacement": "oncallnova-$1",
    } in relabel
    for name in SPLIT_ROLES:
        assert services[name.value]["labels"]["oncallnova.role"] == name.value
    dashboard = (DEPLOY / "grafana" / "dashboards" / "oncallnova.json").read_text()
    assert 'service=~\\"oncallnova.*\\"' in dashboard
