"""Load generators: wrk with `ingest.lua` (default) or an asyncio + httpx client.

Both are closed loops: `connections` keep-alive HTTP/1.1 connections, each sending its
next request as soon as the previous answer arrives, for `duration` seconds. Only answers
that arrive before the end count (as wrk does); every alert in every request is distinct.
Both produce the same bodies, so they can be swapped for the same target. A target with
several front ends (the split's ingestion replicas) gets its connections spread evenly
over them, by one generator whose latency figures cover all of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from targets import Processes, Target

LUA = Path(__file__).resolve().parent / "ingest.lua"
SEVERITIES = (b"critical", b"high", b"medium", b"low")
AM_SEVERITIES = (b"critical", b"warning", b"warning", b"info")
NATIVE = (
    b'{"title":"bench alert %s-%d-%d","severity":"%s","source":"bench",'
    b'"labels":{"instance":"host-%d","job":"bench"},"dedup_key":"%s-%d-%d"}'
)
AM = (
    b'{"labels":{"alertname":"BenchAlert","instance":"%s-%d-%d","job":"bench",'
    b'"severity":"%s"},"annotations":{"summary":"bench alert %s-%d-%d"},"startsAt":"%s"}'
)


@dataclass
class LoadResult:
    generator: str
    batch: int
    connections: int
    duration_s: float
    requests: int  # answered with 2xx before the end
    errors: dict[str, int] = field(default_factory=dict)
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def alerts(self) -> int:
        return self.requests * self.batch

    @property
    def alerts_per_s(self) -> float:
        return self.alerts / self.duration_s if self.duration_s else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["alerts"] = self.alerts
        out["alerts_per_s"] = round(self.alerts_per_s, 1)
        out["requests_per_s"] = round(self.requests_per_s, 1)
        return out


def starts_at() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_threads(wanted: int, front_ends: int) -> int:
    """wrk connects each thread to one address, so the threads are a multiple of the
    front ends (each front end gets the same number of threads and connections)."""
    return max(1, -(-wanted // front_ends)) * front_ends


def run_wrk(
    procs: Processes,
    target: Target,
    *,
    batch: int,
    tag: str,
    connections: int,
    duration: float,
    threads: int = 1,
    timeout: float = 30.0,
) -> LoadResult:
    threads = wrk_threads(threads, len(target.urls))
    if connections % threads:
        raise RuntimeError(f"{connections} connections cannot be spread over {threads} threads")
    # ingest.lua points thread n at front end n modulo their number.
    ports = ",".join(url.rsplit(":", 1)[1] for url in target.urls)
    cmd = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={round(timeout)}s",
        "-s",
        str(LUA),
        target.url,
        "--",
        target.mode,
        str(batch),
        tag,
        target.key,
        starts_at(),
    ]
    proc = procs.start(cmd, stdout=subprocess.PIPE, env={**os.environ, "INGEST_PORTS": ports})
    try:
        assert proc.stdout is not None
        output = proc.stdout.read().decode(errors="replace")
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        procs.forget(proc)
        if proc.returncode is None:
            procs.stop(proc, grace=2)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{output}")
    summary = json.loads(output.strip().splitlines()[-1])
    errors = {
        name: summary[f"{name}_errors"]
        for name in ("connect", "read", "write", "status")
        if summary[f"{name}_errors"]
    }
    if summary["timeouts"]:
        errors["timeout"] = summary["timeouts"]
    return LoadResult(
        generator="wrk",
        batch=batch,
        connections=connections,
        duration_s=summary["duration_us"] / 1e6,
        requests=summary["requests"] - summary["status_errors"],
        errors=errors,
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        max_ms=summary["max_us"] / 1000,
        mean_ms=summary["mean_us"] / 1000,
        client_cpu_s=usage.ru_utime + usage.ru_stime,
    )


def body_maker(target: Target, batch: int, tag: str, worker: int) -> Any:
    """A function n -> the body of request n of one worker, as ingest.lua builds it."""
    tag_b, when = tag.encode(), starts_at().encode()
    count = 0

    def alert() -> bytes:
        nonlocal count
        count += 1
        s = count % 4
        if target.mode == "native":
            return NATIVE % (tag_b, worker, count, SEVERITIES[s], count % 500, tag_b, worker, count)
        return AM % (tag_b, worker, count, AM_SEVERITIES[s], tag_b, worker, count, when)

    def body() -> bytes:
        if target.mode == "native" and batch == 1:
            return alert()
        return b"[" + b",".join([alert() for _ in range(batch)]) + b"]"

    return body


def run_httpx(
    target: Target,
    *,
    batch: int,
    tag: str,
    connections: int,
    duration: float,
    timeout: float = 30.0,
) -> LoadResult:
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        runner = asyncio.run
    before = resource.getrusage(resource.RUSAGE_SELF)
    result: LoadResult = runner(
        _httpx_load(
            target,
            batch=batch,
            tag=tag,
            connections=connections,
            duration=duration,
            request_timeout=timeout,
        )
    )
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.client_cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


async def _httpx_load(
    target: Target,
    *,
    batch: int,
    tag: str,
    connections: int,
    duration: float,
    request_timeout: float,
) -> LoadResult:
    import httpx

    path = "/api/v1/alerts" if target.mode == "native" else "/api/v2/alerts"
    headers = {"Content-Type": "application/json"}
    if target.mode == "native":
        headers["X-Routing-Key"] = target.key
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    clock = time.perf_counter
    # One client (and pool) per connection: a single pool shared by 64 workers collapses
    # (httpcore scans and locks the pool on every request: ~80 req/s at 64 connections).
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(
            base_url=target.urls[n % len(target.urls)],
            limits=limits,
            timeout=request_timeout,
            trust_env=False,
        )
        for n in range(connections)
    ]
    deadline = clock() + duration

    async def worker(number: int) -> None:
        body = body_maker(target, batch, tag, number)
        client = clients[number]
        while clock() < deadline:
            content = body()
            sent = clock()
            try:
                response = await client.post(path, content=content, headers=headers)
            except httpx.TimeoutException:
                errors["timeout"] += 1
                continue
            except httpx.HTTPError:
                errors["read"] += 1
                continue
            done = clock()
            if done > deadline:
                return
            if 200 <= response.status_code < 300:
                latencies.append(done - sent)
            else:
                errors["status"] += 1

    try:
        start = clock()
        tasks = [asyncio.create_task(worker(n)) for n in range(connections)]
        await asyncio.sleep(max(0.0, deadline - clock()))
        elapsed = clock() - start
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for client in clients:
            await client.aclose()
    latencies.sort()
    return LoadResult(
        generator="httpx",
        batch=batch,
        connections=connections,
        duration_s=elapsed,
        requests=len(latencies),
        errors=dict(errors),
        p50_ms=_pct(latencies, 50) * 1000,
        p90_ms=_pct(latencies, 90) * 1000,
        p99_ms=_pct(latencies, 99) * 1000,
        max_ms=(latencies[-1] if latencies else 0) * 1000,
        mean_ms=(sum(latencies) / len(latencies) if latencies else 0) * 1000,
    )


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    rank = max(0, min(len(values) - 1, round(pct / 100 * len(values)) - 1))
    return values[rank]
