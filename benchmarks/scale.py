"""Scale-out benchmark: alerts/s and latency through Traefik with 1, 2, 3 ingestion
replicas of a stack (`oncallnova stack up`), with the CPU each process used.

    .venv/bin/python benchmarks/scale.py                       # 1, 2, 3 replicas; 1 and 100
    .venv/bin/python benchmarks/scale.py --replicas 1,3 --batches 100 -d 10 --trial

For each replica count a fresh stack is started on a scratch PostgreSQL database
(dropped afterwards) and the machine's Redis (a key prefix of its own), with rate limits
off (a benchmark is one client); wrk (`ingest.lua`, distinct alerts) runs against the
gateway for each batch size after a warm-up. Results: `benchmarks/results/scale.json`
and `scale.md`; the part of `scale.md` between the analysis markers is kept.
`--trial` marks the run as made on a shared, loaded machine (numbers to be redone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import report
from loadgen import run_wrk, wrk_available
from targets import (
    ROOT,
    VENV_BIN,
    Processes,
    Target,
    _psql,
    drop_database,
    machine_cpu,
    pids_matching,
    postgres_version,
    process_cpu_seconds,
)

ADMIN = ("admin@bench.example", "benchmark-admin-password")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", default="1,2,3", help="ingestion replica counts")
    parser.add_argument("--batches", default="1,100", help="alerts per request")
    parser.add_argument("-d", "--duration", type=float, default=15.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("--trial", action="store_true", help="a run on a loaded machine")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    args.replica_counts = [int(n) for n in args.replicas.split(",") if n.strip()]
    args.batch_sizes = [int(n) for n in args.batches.split(",") if n.strip()]
    return args


class Stack:
    """A stack on a scratch database, started with `oncallnova stack up --detach`."""

    def __init__(self, replicas: int) -> None:
        self.replicas = replicas
        self.workdir = Path(tempfile.mkdtemp(prefix="oncallnova-bench-scale-"))
        self.db = f"oncallnova_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.state: dict[str, Any] = {}
        ports = [_free_port() for _ in range(3)]
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{self.db}",
            "REDIS_URL": REDIS_URL,
            "ONCALLNOVA_REDIS_PREFIX": f"bench-{self.db}",
            "RATE_LIMIT_REDIS_PREFIX": f"bench-{self.db}:ratelimit",
            "ONCALLNOVA_DATA_DIR": str(self.workdir / "data"),
            "ONCALLNOVA_ADMIN_EMAIL": ADMIN[0],
            "ONCALLNOVA_ADMIN_PASSWORD": ADMIN[1],
            "RATE_LIMIT_ENABLED": "false",
            "LOG_LEVEL": "warning",
            "ONCALLNOVA_GATEWAY_PORT": str(ports[0]),
            "ONCALLNOVA_GATEWAY_GRPC_PORT": str(ports[1]),
            "ONCALLNOVA_DASHBOARD_PORT": str(ports[2]),
        }
        self.url = f"http://127.0.0.1:{ports[0]}"

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "oncallnova"), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def __enter__(self) -> Stack:
        _psql(f'CREATE DATABASE "{self.db}"')
        started = time.monotonic()
        up = self.cli("stack", "up", "--detach", "--json", "--ingestion", str(self.replicas))
        if up.returncode != 0:
            self.__exit__()
            raise RuntimeError(f"stack up failed:\n{up.stdout}\n{up.stderr}")
        self.state = json.loads(up.stdout)
        self.start_seconds = round(time.monotonic() - started, 1)
        return self

    def key(self) -> str:
        import httpx

        token = httpx.post(
            f"{self.url}/api/v1/auth/token",
            data={"username": ADMIN[0], "password": ADMIN[1]},
            timeout=30,
        ).json()["access_token"]
        made = httpx.post(
            f"{self.url}/api/v1/services",
            json={"name": "bench"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        made.raise_for_status()
        return str(made.json()["integration_keys"][0]["key"])

    def processes(self) -> dict[str, int]:
        return {p["name"]: p["pid"] for p in self.state["processes"]}

    def __exit__(self, *_: object) -> None:
        try:
            self.cli("stack", "down", timeout=300)
        finally:
            drop_database(self.db)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure(
    procs: Processes, stack: Stack, key: str, batch: int, args: argparse.Namespace
) -> dict[str, Any]:
    target = Target("stack", stack.url, 0, "native", key)
    tag = uuid.uuid4().hex[:6]
    run_wrk(procs, target, batch=batch, tag=f"w{tag}", connections=args.connections,
            duration=args.warmup)  # fmt: skip
    pids = stack.processes()
    backends = pids_matching(f" {stack.db} ")
    before = {name: process_cpu_seconds(pid) for name, pid in pids.items()}
    db_before = sum(process_cpu_seconds(pid) for pid in backends)
    busy0, _ = machine_cpu()
    load = run_wrk(procs, target, batch=batch, tag=tag, connections=args.connections,
                   duration=args.duration)  # fmt: skip
    busy1, _ = machine_cpu()
    seconds = load.duration_s
    cpu = {name: (process_cpu_seconds(pid) - before[name]) / seconds for name, pid in pids.items()}
    cpu["postgresql backends"] = (
        sum(process_cpu_seconds(pid) for pid in pids_matching(f" {stack.db} ")) - db_before
    ) / seconds
    cpu["wrk (client)"] = load.client_cpu_s / seconds
    ours = sum(cpu.values())
    machine = (busy1 - busy0) / seconds
    return {
        "replicas": stack.replicas,
        "batch": batch,
        **load.as_dict(),
        "cpu_cores": {name: round(value, 3) for name, value in cpu.items()},
        "machine_busy_cores": round(machine, 2),
        "other_processes_cores": round(max(0.0, machine - ours), 2),
        "alerts_per_cpu_s": round(load.alerts_per_s / ours, 1) if ours else None,
    }


def markdown(results: dict[str, Any], analysis: str) -> str:
    meta = results["meta"]
    lines = [
        "# Scale-out through Traefik: 1, 2, 3 ingestion replicas",
        "",
        "Generated by `benchmarks/scale.py`; the analysis section is written by hand.",
        "",
    ]
    if meta["trial"]:
        lines += [
            "**Trial run on a shared, loaded machine** (other agents' test suites ran "
            "meanwhile: see the load average and the CPU other processes used). The "
            "numbers show that the benchmark works, not what the code can do; rerun it "
            "on a quiet machine.",
            "",
        ]
    lines += [
        f"- commit `{meta['git_commit']}`"
        + (" (with uncommitted changes in src/)" if meta["src_uncommitted_changes"] else ""),
        f"- {meta['started_at']}, {meta['cpus']} CPUs, load average at start "
        f"{meta['loadavg_at_start']}, PostgreSQL {meta['postgres']}, Python {meta['python']}",
        f"- wrk, {meta['connections']} connections, {meta['duration_s']} s measured after "
        f"{meta['warmup_s']} s of warm-up; every alert distinct; rate limits off",
        f"- `{meta['command']}`",
        "",
        "| ingestion replicas | alerts/request | alerts/s | requests/s | p50 ms | p99 ms "
        "| errors | alerts per CPU-second | machine busy (cores) | others (cores) |",
        "|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|",
    ]
    for row in results["runs"]:
        errors = ", ".join(f"{k} {v}" for k, v in row["errors"].items()) or "-"
        lines.append(
            f"| {row['replicas']} | {row['batch']} | {row['alerts_per_s']:,.0f} "
            f"| {row['requests_per_s']:,.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} "
            f"| {errors} | {row['alerts_per_cpu_s']} | {row['machine_busy_cores']} "
            f"| {row['other_processes_cores']} |"
        )
    lines += ["", "## CPU per process (cores used while measured)", ""]
    for row in results["runs"]:
        used = ", ".join(
            f"{name} {value:.2f}" for name, value in sorted(row["cpu_cores"].items()) if value
        )
        lines.append(f"- {row['replicas']} replica(s), {row['batch']}/request: {used}")
    lines += ["", report.START, analysis or report.PLACEHOLDER, report.END, ""]
    return "\n".join(lines)


def meta(args: argparse.Namespace) -> dict[str, Any]:
    def git(*cmd: str) -> str:
        done = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "benchmarks/scale.py", *sys.argv[1:]]),
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "src_uncommitted_changes": bool(git("status", "--porcelain", "--", "src")),
        "trial": args.trial,
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(v, 2) for v in os.getloadavg()],
        "postgres": postgres_version(),
        "python": platform.python_version(),
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not wrk_available():
        print("wrk is needed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    procs = Processes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    results: dict[str, Any] = {"meta": meta(args), "runs": []}
    try:
        for replicas in args.replica_counts:
            with Stack(replicas) as stack:
                print(f"{replicas} ingestion replica(s): stack up in {stack.start_seconds}s")
                key = stack.key()
                for batch in args.batch_sizes:
                    row = measure(procs, stack, key, batch, args)
                    results["runs"].append(row)
                    print(
                        f"  {batch}/request: {row['alerts_per_s']:,.0f} alerts/s, "
                        f"p99 {row['p99_ms']:.1f} ms, errors {row['errors'] or '-'}"
                    )
    finally:
        procs.stop_all()
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "scale.json").write_text(json.dumps(results, indent=2) + "\n")
    md = args.results / "scale.md"
    kept = report.kept_analysis(md.read_text() if md.exists() else "")
    md.write_text(markdown(results, kept))
    print(f"wrote {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
