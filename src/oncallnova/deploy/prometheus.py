"""Prometheus' configuration for Compose (`deploy/prometheus/prometheus.yml`).

One job per role that serves HTTP, every 5 s. Each job finds the role's replicas through
Docker's DNS (one A record per container of the Compose service), so `--scale` needs no
change here. `/metrics` requires `METRICS_TOKEN`, which Compose hands Prometheus as a
secret file. The engine has no port and is not scraped.
"""

from __future__ import annotations

from typing import Any

from oncallnova.deploy import gateway
from oncallnova.deploy.compose import METRICS_CREDENTIALS
from oncallnova.runtime.roles import ROLES, SPLIT_ROLES

SCRAPE_INTERVAL = "5s"
# Where Compose mounts the secret holding METRICS_TOKEN.
CREDENTIALS_FILE = f"/run/secrets/{METRICS_CREDENTIALS}"


def prometheus_config() -> dict[str, Any]:
    jobs: list[dict[str, Any]] = []
    for name in SPLIT_ROLES:
        port = ROLES[name].http_port
        if port is None:
            continue
        jobs.append(
            {
                "job_name": f"oncallnova-{name.value}",
                "metrics_path": "/metrics",
                "authorization": {"type": "Bearer", "credentials_file": CREDENTIALS_FILE},
                "dns_sd_configs": [
                    {"names": [name.value], "type": "A", "port": port, "refresh_interval": "15s"}
                ],
                "relabel_configs": [{"target_label": "role", "replacement": name.value}],
            }
        )
    jobs.append(
        {
            "job_name": "traefik",
            "static_configs": [{"targets": [f"traefik:{gateway.DASHBOARD_PORT}"]}],
        }
    )
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": "4s",
            "evaluation_interval": "15s",
        },
        "scrape_configs": jobs,
    }
