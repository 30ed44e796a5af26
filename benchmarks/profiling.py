"""Where the server's CPU goes: py-spy samples grouped into a few categories.

`py-spy record --format raw --threads [--native]` writes one line per distinct stack:
`thread (TID): NAME;frame;frame;... COUNT`, root first. Each sample goes to the first
category (MAIN_RULES, or SQLITE_RULES for aiosqlite's threads) that one of its frames
matches. Samples of threads blocked in a wait (event loop poll, queue get, GIL or lock
wait) are counted apart, not as CPU. With `--native`, C frames show what the SQLite
thread is doing (statement step, commit) and where Python spends time in C (the GC).

A target of several processes (the split roles) gets one py-spy per process at the same
time; their samples are added up with each category and thread named after its role.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from targets import ROOT, Processes

Frames = list[str]

# Blocked, not burning CPU: reported apart, never in the CPU breakdown.
_IDLE_LEAF = re.compile(
    r"epoll_(p)?wait|uv__io_poll|_queue_SimpleQueue_get|sem_(clock|timed)?wait|futex|"
    r"pthread_cond_(timed)?wait|select \(|poll \(|nanosleep|accept4?|"
    r"Condition\.wait|Event\.wait|SimpleQueue\.get|lock\.acquire"
)
# CPython 3.11 waits for the GIL on a condition variable with a timeout (take_gil).
_GIL_WAIT = re.compile(r"take_gil|PyEval_RestoreThread|PyEval_AcquireThread|pthread_cond_timedwait")


def _any(*needles: str) -> Callable[[Frames], bool]:
    return lambda frames: any(n in f for f in frames for n in needles)


def _py(*needles: str) -> Callable[[Frames], bool]:
    """Matches Python frames only (those with a `file.py:line` location)."""
    return lambda frames: any(n in f and ".py:" in f for f in frames for n in needles)


def _either(*tests: Callable[[Frames], bool]) -> Callable[[Frames], bool]:
    return lambda frames: any(test(frames) for test in tests)


EVENT_LOOP = "event loop (uvloop, asyncio)"
GRPC = "gRPC + protobuf (calls, message conversion)"

# (category, predicate), first match wins. Main-thread order matters: HTTP and event-loop
# frames are ancestors of nearly everything, so they come last.
MAIN_RULES: list[tuple[str, Callable[[Frames], bool]]] = [
    ("garbage collector (gc, native only)", _any("gc_collect")),
    ("logging / tracebacks", _py("logging/", "traceback.py", "linecache.py")),
    (
        "validation (pydantic, request body)",
        _py("native_alerts (", "parse (oncallnova", "validate_json", "to_alerts ("),
    ),
    (
        "results + response JSON (pydantic)",
        _py("accepted (", "_result (oncallnova", "model_dump_json", "IngestResponse"),
    ),
    (
        "hashing (fingerprint, correlation key, lock ids)",
        _py("fingerprint (oncallnova", "correlation_key (", "correlation_values", "lock_id ("),
    ),
    # Idempotency keys of batches handed over by gRPC (the split): claimed, then their
    # results saved, in the writer's transaction.
    ("batch ids (record, replay results)", _py("alerts/batches.py")),
    ("commit / transaction end (SQLAlchemy, driver)", _py("commit", "AsyncSessionTransaction")),
    ("SQL: SQLAlchemy (compile, parameters, rows)", _py("sqlalchemy/")),
    ("DB driver in the event loop (asyncpg, aiosqlite)", _py("asyncpg/", "aiosqlite/")),
    ("ingest + correlation logic (Python)", _py("oncallnova/alerts/", "oncallnova/incidents/")),
    ("integration key lookup", _py("route_for")),
    # The split roles' hop: stubs, servicers, channel and call objects, message building
    # and parsing. Before HTTP: the ingestion role's client call runs inside its handler.
    (GRPC, _either(_py("grpc/", "google/protobuf/", "_pb2"), _any("cygrpc", "grpc_", "protobuf"))),
    (
        "HTTP + framework (uvicorn, Starlette, FastAPI)",
        _either(
            _py("uvicorn/", "h11/", "starlette/", "fastapi/", "oncallnova/transport/"),
            _any("httptools"),
        ),
    ),
    (EVENT_LOOP, _any("uvloop", "loop.c", "core.c", "asyncio/", "_asynciomodule")),
]
# The aiosqlite threads run SQLite's C code (the GIL is released meanwhile).
SQLITE_RULES: list[tuple[str, Callable[[Frames], bool]]] = [
    ("garbage collector (gc, native only)", _any("gc_collect")),
    ("SQLite: commit (C, aiosqlite thread)", _any("pysqlite_connection_commit")),
    (
        "SQLite: statements (C, aiosqlite thread)",
        _any("_pysqlite_query_execute", "pysqlite_cursor_", "pysqlite_connection_execute"),
    ),
    (
        "SQLite: statements + commit (C, aiosqlite thread)",
        lambda frames: frames[-1].startswith("_connection_worker_thread ("),
    ),
    ("aiosqlite thread (Python hand-off)", _py("aiosqlite/", "threading.py")),
]
OTHER = "other (incl. truncated stacks)"
# grpc.aio's thread that polls the completion queue (C code, the GIL released).
POLLER = "gRPC poller thread"
IDLE = "idle (waiting: poll, queue, locks)"
GIL = "waiting for the GIL"


@dataclass
class Profile:
    duration_s: float
    rate: int
    samples: Counter[str]  # category -> CPU samples
    waits: Counter[str]  # idle / GIL samples
    threads: Counter[str]  # thread group -> CPU samples

    def cpu_seconds(self, category: str | None = None) -> float:
        count = sum(self.samples.values()) if category is None else self.samples[category]
        return count / self.rate

    def as_dict(self, alerts_per_s: float) -> dict[str, object]:
        total = sum(self.samples.values()) or 1
        alerts = alerts_per_s * self.duration_s
        rows = []
        for category, count in self.samples.most_common():
            rows.append(
                {
                    "category": category,
                    "share_pct": round(100 * count / total, 1),
                    "cpu_us_per_alert": round(count / self.rate / alerts * 1e6, 1)
                    if alerts
                    else None,
                }
            )
        span = self.duration_s * self.rate
        return {
            "duration_s": self.duration_s,
            "rate_hz": self.rate,
            "cpu_samples": total,
            "cores_busy": round(total / span, 2) if span else None,
            "threads_busy": {k: round(v / span, 2) for k, v in self.threads.most_common()},
            "waits_per_thread_s": {k: round(v / self.rate, 1) for k, v in self.waits.items()},
            "breakdown": rows,
        }


def pyspy_path() -> str | None:
    local = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def pyspy_command(pid: int, out: Path, duration: int, rate: int, native: bool) -> list[str]:
    binary = pyspy_path()
    if binary is None:
        raise RuntimeError(
            "py-spy not found: .tools/bin/uv pip install --python .venv/bin/python py-spy"
        )
    cmd = [
        binary,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(duration),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--threads",
        "--output",
        str(out),
    ]
    if native:
        cmd.append("--native")
    else:
        cmd.append("--nonblocking")
    return cmd


def classify(group: str, frames: Frames) -> str:
    # Drop the process's root frames (cli, uvicorn.Server.run, asyncio.run): the HTTP rule
    # would match `uvicorn/server.py` in every stack otherwise.
    roots = [n for n, f in enumerate(frames) if "asyncio/runners.py" in f]
    if roots:
        frames = frames[roots[-1] + 1 :]
        if not frames:
            return EVENT_LOOP
    if group == POLLER:
        return GRPC
    rules = SQLITE_RULES if group.startswith("aiosqlite") else MAIN_RULES
    for name, predicate in rules:
        if predicate(frames):
            return name
    return OTHER


def is_wait(frames: Frames) -> str | None:
    tail = frames[-4:]
    if any(_GIL_WAIT.search(f) for f in tail):
        return GIL
    if any(_IDLE_LEAF.search(f) for f in tail):
        return IDLE
    return None


def thread_group(first: str) -> str:
    if "MainThread" in first:
        return "main (event loop)"
    if "_connection_worker_thread" in first:
        return "aiosqlite connection threads"
    if "_poll_wrapper" in first:
        return POLLER
    return "other threads"


def parse(path: Path, duration_s: float, rate: int) -> Profile:
    samples: Counter[str] = Counter()
    waits: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        group = thread_group(frames[0])
        wait = is_wait(frames)
        if wait is not None:
            waits[f"{group}: {wait}"] += count
            continue
        threads[group] += count
        samples[classify(group, frames[1:])] += count
    return Profile(duration_s, rate, samples, waits, threads)


def role_of(label: str) -> str:
    """`ingestion-2` -> `ingestion`: the replicas of a role are added up."""
    name, _, number = label.rpartition("-")
    return name if name and number.isdigit() else label


def merge(profiles: dict[str, Profile]) -> Profile:
    """One profile of several processes (label -> profile), categories and threads named
    after each process's role; a single process's profile is returned as it is."""
    first = next(iter(profiles.values()))
    if len(profiles) == 1:
        return first
    samples: Counter[str] = Counter()
    waits: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for label, profile in profiles.items():
        role = role_of(label)
        for into, counts in ((samples, profile.samples), (waits, profile.waits)):
            for key, count in counts.items():
                into[f"{role}: {key}"] += count
        for key, count in profile.threads.items():
            threads[f"{role} {key}"] += count
    return Profile(first.duration_s, first.rate, samples, waits, threads)


def record(
    procs: Processes,
    processes: dict[str, int],
    stem: Path,
    seconds: int,
    rate: int,
    native: bool,
    load: Callable[[], float],
) -> dict[str, object]:
    """Attaches py-spy to every process of a target (label -> pid) for `seconds` while
    `load()` runs the load and returns the alerts/s it got; the profiles, merged, as
    stored in ingest.json. Raw profiles: STEM.txt, or STEM-LABEL.txt per process."""
    one = len(processes) == 1
    raws = {label: Path(f"{stem}.txt" if one else f"{stem}-{label}.txt") for label in processes}
    spies: list[subprocess.Popen[bytes]] = []
    for label, pid in processes.items():
        raws[label].unlink(missing_ok=True)
        command = pyspy_command(pid, raws[label], seconds, rate, native)
        spies.append(procs.start(command, log=raws[label].with_suffix(".log")))
    time.sleep(0.5)
    alerts_per_s = load()
    for spy in spies:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            procs.stop(spy, grace=5)
        procs.forget(spy)
    missing = [raw for raw in raws.values() if not raw.exists()]
    if missing:
        return {"error": f"py-spy wrote nothing; see {missing[0].with_suffix('.log')}"}
    return summarise(raws, seconds, rate, alerts_per_s)


def summarise(
    raws: dict[str, Path], seconds: float, rate: int, alerts_per_s: float
) -> dict[str, object]:
    """The raw profiles of a target's processes (label -> file), merged and classified."""
    one = len(raws) == 1
    merged = merge({label: parse(raw, seconds, rate) for label, raw in raws.items()})
    stacks: list[tuple[int, str]] = []
    for label, raw in raws.items():
        prefix = "" if one else f"[{label}] "
        stacks += [(count, prefix + stack) for count, stack in top_stacks(raw, 15)]
    stacks.sort(key=lambda item: -item[0])
    return {
        "alerts_per_s_while_profiling": round(alerts_per_s, 1),
        **merged.as_dict(alerts_per_s),
        "top_stacks": stacks[: 15 if one else 25],
        "raw": ", ".join(str(raw.relative_to(ROOT)) for raw in raws.values()),
        "raw_digest": digest(list(raws.values())),
    }


def digest(paths: list[Path]) -> str:
    """Names the raw files' content: a later run overwrites them."""
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def reclassify(stored: dict[str, Any]) -> dict[str, Any]:
    """A profile of ingest.json classified again from its raw files, with the rules as
    they are now (when the rules change, the measurements need not be made again);
    unchanged when a raw file is gone or is no longer the one it was made from (a later
    run, e.g. with `--results` elsewhere, wrote over it)."""
    paths = [ROOT / raw for raw in str(stored.get("raw", "")).split(", ") if raw]
    if not paths or not all(path.exists() for path in paths):
        return stored
    if stored.get("raw_digest") != digest(paths):
        return stored
    # STEM.txt for one process, STEM-LABEL.txt each otherwise (see `record`).
    kind = "native" if "-native" in paths[0].name else "python"
    raws = {
        (path.stem.split(f"-{kind}-", 1)[1] if len(paths) > 1 else "server"): path for path in paths
    }
    rate = int(stored["rate_hz"])
    return summarise(raws, stored["duration_s"], rate, stored["alerts_per_s_while_profiling"])


def top_stacks(path: Path, limit: int = 25) -> list[tuple[int, str]]:
    """The heaviest CPU stacks, shortened to their last Python frames, for the report."""
    heavy: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        frames = stack.split(";")
        if is_wait(frames) is not None:
            continue
        python = [f for f in frames[1:] if ".py:" in f and "site-packages" not in f]
        leaf_c = frames[-1] if ".py:" not in frames[-1] else ""
        label = " > ".join(_short(f) for f in python[-3:])
        if leaf_c:
            label += f" > [{_short(leaf_c)}]"
        heavy[label] += int(count_text)
    return [(count, label) for label, count in heavy.most_common(limit)]


def _short(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    return f"{name} ({where.split('/')[-1]})" if where else name
