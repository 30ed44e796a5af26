"""Prometheus Alertmanager, the peer `ingest.py` compares OnCallNova's ingestion with:
the Debian package's binary on a free loopback port, installed with apt-get if missing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from targets import Instance, Processes, Target, free_port, http_get, shielded, wait_ready

ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"


class Alertmanager(Instance):
    """Prometheus Alertmanager on a free loopback port, a null receiver, no clustering."""

    CONFIG = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'

    def __init__(self, procs: Processes) -> None:
        self.procs = procs
        self.workdir = Path(tempfile.mkdtemp(prefix="oncallnova-bench-am-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def _start(self) -> Target:
        config = self.workdir / "alertmanager.yml"
        config.write_text(self.CONFIG)
        port = free_port()
        log = self.workdir / "alertmanager.log"
        self.proc = self.procs.start(
            [
                ALERTMANAGER_BIN,
                f"--config.file={config}",
                f"--storage.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            log=log,
        )
        self.url = f"http://127.0.0.1:{port}"
        wait_ready(f"{self.url}/-/ready", self.proc, log)
        return Target(
            name="alertmanager",
            url=self.url,
            pid=self.proc.pid,
            mode="alertmanager",
            workdir=self.workdir,
        )

    def metrics(self) -> dict[str, float]:
        """Alerts received and the gauges of active and not yet processed alerts."""
        _, body = http_get(f"{self.url}/metrics", timeout=30)
        wanted = {
            'alertmanager_alerts_received_total{status="firing",version="v2"}': "received",
            'alertmanager_alerts{state="active"}': "active",
            'alertmanager_alerts{state="unprocessed"}': "unprocessed",
            'alertmanager_alerts_invalid_total{version="v2"}': "invalid",
        }
        out = {}
        for line in body.decode().splitlines():
            name, _, value = line.rpartition(" ")
            if name in wanted:
                out[wanted[name]] = float(value)
        return out

    def _cleanup(self) -> None:
        with shielded():
            try:
                if self.proc is not None:
                    self.procs.stop(self.proc, grace=15)
            finally:
                shutil.rmtree(self.workdir, ignore_errors=True)


def alertmanager_version() -> str:
    out = subprocess.run(
        [ALERTMANAGER_BIN, "--version"], capture_output=True, text=True, check=False
    )
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def ensure_alertmanager() -> None:
    """Install the Debian package if the binary is missing (needs root and network)."""
    if Path(ALERTMANAGER_BIN).exists():
        return
    print("installing prometheus-alertmanager (apt-get)", file=sys.stderr)
    subprocess.run(["apt-get", "update"], check=True)
    subprocess.run(["apt-get", "install", "-y", "prometheus-alertmanager"], check=True)
