"""Time from alert POST to webhook receipt, over 1,000 incidents.

Starts `oncallnova serve` (SQLite by default, `--database postgres` for a scratch
PostgreSQL database), a webhook receiver on loopback, and sends alerts whose titles
differ so that each opens its own incident. For each incident the latency is the time
from the start of its POST to the arrival of its `incident.new` webhook. Results go to
`benchmarks/results/notify.json` and `notify.md`. Target: p99 under 250 ms.

    .venv/bin/python benchmarks/notify.py [--incidents 1000] [--rate 50 | --rate 0 --concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))
from targets import OnCallNova, Processes, free_port

RESULTS = Path(__file__).resolve().parent / "results"
ADMIN = {
    "ONCALLNOVA_ADMIN_EMAIL": "bench@example.com",
    "ONCALLNOVA_ADMIN_PASSWORD": "bench-password-0123456789",
}
TARGET_P99_MS = 250.0
ANALYSIS_START = "<!-- analysis:start -->"
ANALYSIS_END = "<!-- analysis:end -->"


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.arrived: dict[str, float] = {}
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="error", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    async def _hook(self, request: Request) -> Response:
        body = json.loads(await request.body())
        now = time.perf_counter()
        if body["event"]["event_type"] == "incident.new":
            self.arrived.setdefault(body["event"]["data"]["title"], now)
        return Response(status_code=204)

    def __enter__(self) -> Receiver:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


answered: dict[str, float] = {}


async def send_all(
    url: str, key: str, count: int, concurrency: int, rate: float
) -> dict[str, float]:
    """Open loop at `rate` incidents/s (arrivals do not wait for answers, as real alerts
    do not), or, with rate 0, `concurrency` clients sending back to back."""
    sent: dict[str, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def one(client: httpx.AsyncClient, n: int) -> None:
        title = f"bench incident {n}"
        sent[title] = time.perf_counter()
        response = await client.post(
            "/api/v1/alerts",
            json={"title": title, "severity": "high"},
            headers={"X-Routing-Key": key},
        )
        response.raise_for_status()
        answered[title] = time.perf_counter()

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            await one(client, queue.get_nowait())

    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        if rate <= 0:
            await asyncio.gather(*(worker(client) for _ in range(concurrency)))
            return sent
        start = time.perf_counter()
        tasks = []
        for n in range(count):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, n)))
        await asyncio.gather(*tasks)
    return sent


def run(database: str, incidents: int, concurrency: int, rate: float) -> dict[str, object]:
    procs = Processes()
    try:
        os.environ.update(ADMIN)  # the server (a child) creates this admin on first start
        with Receiver() as receiver, OnCallNova(procs, database) as target:
            form = {
                "username": ADMIN["ONCALLNOVA_ADMIN_EMAIL"],
                "password": ADMIN["ONCALLNOVA_ADMIN_PASSWORD"],
            }
            token = httpx.post(f"{target.url}/api/v1/auth/token", data=form).json()
            auth = {"Authorization": f"Bearer {token['access_token']}"}
            service = httpx.get(f"{target.url}/api/v1/services", headers=auth).json()["items"][0]
            httpx.patch(
                f"{target.url}/api/v1/services/{service['id']}",
                headers=auth,
                json={"correlation_key": ["title"]},
            ).raise_for_status()
            httpx.post(
                f"{target.url}/api/v1/webhooks",
                headers=auth,
                json={
                    "url": f"http://127.0.0.1:{receiver.port}/hook",
                    "events": ["incident.new"],
                },
            ).raise_for_status()
            started = time.perf_counter()
            sent = asyncio.run(send_all(target.url, target.key, incidents, concurrency, rate))
            deadline = time.perf_counter() + 60
            while len(receiver.arrived) < incidents and time.perf_counter() < deadline:
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            latencies = [
                (receiver.arrived[title] - at) * 1000
                for title, at in sent.items()
                if title in receiver.arrived
            ]
            posts = [(answered[t] - at) * 1000 for t, at in sent.items() if t in answered]
    finally:
        procs.stop_all()
    return {
        "database": database,
        "incidents": incidents,
        "concurrency": concurrency if rate <= 0 else None,
        "rate_per_s": rate if rate > 0 else None,
        "delivered": len(latencies),
        "seconds": round(elapsed, 2),
        "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "p90_ms": round(percentile(latencies, 90), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "post_p50_ms": round(percentile(posts, 50), 1) if posts else None,
        "post_p99_ms": round(percentile(posts, 99), 1) if posts else None,
    }


def load(row: dict[str, object]) -> str:
    if row["rate_per_s"]:
        return f"{row['rate_per_s']:g}/s open loop"
    return f"{row['concurrency']} clients"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument(
        "--rate",
        type=float,
        default=50,
        help="incidents per second, open loop (default 50); 0: closed loop",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="clients sending back to back, with --rate 0 (default 8)",
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    rows = [run(db, args.incidents, args.concurrency, args.rate) for db in databases]
    write_results(rows)


def _same_load(a: dict[str, object], b: dict[str, object]) -> bool:
    keys = ("database", "incidents", "concurrency", "rate_per_s")
    return all(a.get(k) == b.get(k) for k in keys)


def write_results(rows: list[dict[str, object]]) -> None:
    """Writes notify.json and notify.md; rows of other loads from earlier runs are kept
    (each with its own time), and so is the hand-written analysis in notify.md."""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for row in rows:
        row["measured_at"] = stamp
    old_json = RESULTS / "notify.json"
    kept: list[dict[str, object]] = []
    if old_json.exists():
        previous = json.loads(old_json.read_text()).get("rows", [])
        kept = [r for r in previous if not any(_same_load(r, new) for new in rows)]
    every = sorted(kept + rows, key=lambda r: (r["rate_per_s"] is None, str(r["database"])))
    old_json.write_text(json.dumps({"generated": stamp, "rows": every}, indent=2))
    lines = [
        "# Alert to webhook latency",
        "",
        "Written by `.venv/bin/python benchmarks/notify.py` (last run "
        f"{stamp}). Each alert opens an incident; latency runs from the start of the "
        "alert's POST to the arrival of its `incident.new` webhook at a receiver on "
        f"loopback. Target: p99 < {TARGET_P99_MS:g} ms.",
        "",
        "| database | incidents | load | delivered | p50 ms | p90 ms | p99 ms | max ms "
        "| POST p50 ms | target met | measured |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for row in every:
        met = row["p99_ms"] is not None and float(row["p99_ms"]) < TARGET_P99_MS  # type: ignore[arg-type]
        lines.append(
            f"| {row['database']} | {row['incidents']} | {load(row)} | "
            f"{row['delivered']} | {row['p50_ms']} | {row['p90_ms']} | {row['p99_ms']} | "
            f"{row['max_ms']} | {row.get('post_p50_ms', '-')} | "
            f"{'yes' if met else '**no**'} | {row.get('measured_at', '-')} |"
        )
    old_md = RESULTS / "notify.md"
    analysis = ""
    if old_md.exists():
        text = old_md.read_text()
        start, end = text.find(ANALYSIS_START), text.find(ANALYSIS_END)
        if start != -1 and end != -1:
            analysis = "\n" + text[start : end + len(ANALYSIS_END)] + "\n"
    old_md.write_text("\n".join(lines) + "\n" + analysis)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
