"""Ratios, targets and the Markdown/console rendering of benchmarks/ingest.py's results."""

from __future__ import annotations

from typing import Any

import report_split

START = "<!-- analysis:start -->"
END = "<!-- analysis:end -->"
PLACEHOLDER = "_No analysis written yet._"
# Every target, in the order they run and are shown.
TARGETS = ("sqlite", "postgres", "split-1", "split-2", "alertmanager")
NAMES = {"sqlite": "OnCallNova, SQLite", "postgres": "OnCallNova, PostgreSQL"}
NAMES["split-1"] = "OnCallNova split, PostgreSQL, 1 ingestion replica"
NAMES["split-2"] = "OnCallNova split, PostgreSQL, 2 ingestion replicas"
NAMES["alertmanager"] = "Alertmanager"


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def summary(scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    rate = {(s["target"], s["batch"]): s["alerts_per_s"] for s in scenarios}
    per_cpu = {(s["target"], s["batch"]): s.get("alerts_per_cpu_s") for s in scenarios}
    ratios = []
    for batch in sorted({s["batch"] for s in scenarios}):
        am = rate.get(("alertmanager", batch))
        sqlite, postgres = rate.get(("sqlite", batch)), rate.get(("postgres", batch))
        ratios.append(
            {
                "batch": batch,
                "alertmanager_alerts_per_s": am,
                "sqlite_alerts_per_s": sqlite,
                "postgres_alerts_per_s": postgres,
                "sqlite_vs_alertmanager": _ratio(sqlite, am),
                "postgres_vs_alertmanager": _ratio(postgres, am),
                "postgres_vs_sqlite": _ratio(postgres, sqlite),
                "sqlite_vs_alertmanager_per_cpu_s": _ratio(
                    per_cpu.get(("sqlite", batch)), per_cpu.get(("alertmanager", batch))
                ),
                "postgres_vs_alertmanager_per_cpu_s": _ratio(
                    per_cpu.get(("postgres", batch)), per_cpu.get(("alertmanager", batch))
                ),
                **report_split.ratios(rate, per_cpu, batch),
            }
        )
    by_batch = {r["batch"]: r for r in ratios}
    goals = [
        report_split.goal(
            f"SQLite, {batch}-alert requests: >= {threshold}x Alertmanager's alerts/s",
            by_batch.get(batch, {}).get("sqlite_vs_alertmanager"),
            threshold,
        )
        for batch, threshold in ((100, 0.3), (1, 0.15))
    ]
    goals += [
        report_split.goal(
            f"PostgreSQL within 2x of SQLite, {batch}-alert requests "
            "(PostgreSQL alerts/s >= 0.5x SQLite's)",
            by_batch.get(batch, {}).get("postgres_vs_sqlite"),
            0.5,
        )
        for batch in (100, 1)
    ]
    goals += report_split.goals(by_batch)
    return {"ratios": ratios, "targets": goals}


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _errors(s: dict[str, Any]) -> str:
    errors = s.get("errors") or {}
    return ", ".join(f"{k} {v}" for k, v in errors.items()) or "0"


def scenario_line(s: dict[str, Any]) -> str:
    return (
        f"{s['alerts_per_s']:,.0f} alerts/s, {s['requests_per_s']:,.0f} req/s, "
        f"p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, errors {_errors(s)}, "
        f"server CPU {s['server_cpu_pct']}%, client CPU {s['client_cpu_pct']}%, "
        f"machine {s['machine_busy_pct']}% busy, other processes "
        f"{s.get('other_processes_cpu_pct')}% CPU"
    )


def _vs_am(s: dict[str, Any], ratios: dict[int, dict[str, Any]]) -> str:
    if s["target"] == "alertmanager":
        return "1"
    value = ratios.get(s["batch"], {}).get(f"{s['target']}_vs_alertmanager")
    return _fmt(value, 2) + "x" if value is not None else "-"


def results_table(results: dict[str, Any]) -> list[str]:
    ratios = {r["batch"]: r for r in results["summary"]["ratios"]}
    lines = [
        "| target | alerts/request | alerts/s | requests/s | p50 ms | p90 ms | p99 ms "
        "| vs Alertmanager | errors | server CPU % | PostgreSQL backends CPU % "
        "| load generator CPU % | other processes CPU % | alerts per CPU-second |",
        "|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|",
    ]
    for s in results["scenarios"]:
        lines.append(
            f"| {NAMES.get(s['target'], s['target'])} | {s['batch']} "
            f"| **{_fmt(s['alerts_per_s'])}** | {_fmt(s['requests_per_s'])} "
            f"| {_fmt(s['p50_ms'], 1)} | {_fmt(s['p90_ms'], 1)} | {_fmt(s['p99_ms'], 1)} "
            f"| {_vs_am(s, ratios)} | {_errors(s)} | {_fmt(s['server_cpu_pct'])} "
            f"| {_fmt(s.get('postgres_backends_cpu_pct'))} | {_fmt(s['client_cpu_pct'])} "
            f"| {_fmt(s.get('other_processes_cpu_pct'))}{' (noisy)' if s.get('noisy') else ''} "
            f"| {_fmt(s.get('alerts_per_cpu_s'))} |"
        )
    return lines


def targets_table(results: dict[str, Any]) -> list[str]:
    lines = ["| goal | measured | met |", "|---|--:|---|"]
    for goal in results["summary"]["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[goal["met"]]
        value = "-" if goal["value"] is None else f"{goal['value']:.2f}x"
        lines.append(f"| {goal['goal']} | {value} | {met} |")
    lines += [
        "",
        "Secondary, less sensitive to other load on the machine: alerts stored per CPU-second "
        "of the server (plus its PostgreSQL backends), relative to Alertmanager's alerts "
        "per CPU-second: "
        + "; ".join(
            f"{r['batch']}-alert requests: SQLite "
            f"{_fmt(r['sqlite_vs_alertmanager_per_cpu_s'], 2)}x, PostgreSQL "
            f"{_fmt(r['postgres_vs_alertmanager_per_cpu_s'], 2)}x"
            for r in results["summary"]["ratios"]
        )
        + ". Alertmanager can use both cores, the OnCallNova process about one (one event "
        "loop), so this is not the throughput ratio the targets are about.",
    ]
    return lines


def checks(results: dict[str, Any]) -> list[str]:
    lines = []
    for s in results["scenarios"]:
        name = f"{NAMES.get(s['target'], s['target'])}, {s['batch']}/request"
        if "check" in s:
            c = s["check"]
            stored = c.get("stored") or {}
            log = ", ".join(f"{k}: {v}" for k, v in (c.get("server_log") or {}).items())
            lines.append(
                f"- {name}: {'ok' if c['ok'] else '**FAILED**'}; acknowledged (202) "
                f"{c['acknowledged_alerts']:,} alerts, stored {stored.get('alerts', 0):,} rows "
                f"with {stored.get('distinct_fingerprints', 0):,} distinct fingerprints and "
                f"{stored.get('sum_count', 0) - stored.get('alerts', 0):,} repeats "
                f"(deduplicated), {stored.get('incidents', 0)} incidents; server exit code "
                f"{_exit_codes(c.get('server_exit_code'))}; server log: {log or 'clean'}"
            )
        if "alertmanager_after_run" in s:
            m = s["alertmanager_after_run"]
            lines.append(
                f"- {name}: Alertmanager counted {m.get('received', 0):,.0f} alerts received; "
                f"at the end of the run {m.get('unprocessed', 0):,.0f} were still unprocessed "
                f"and {m.get('active', 0):,.0f} active (it acknowledges before processing)"
            )
    return lines


def _exit_codes(codes: Any) -> str:
    """One exit code (older rows), or each process's."""
    if isinstance(codes, dict):
        if len(codes) == 1:
            return str(next(iter(codes.values())))
        return ", ".join(f"{label} {code}" for label, code in codes.items())
    return str(codes)


def profile_section(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for p in results.get("profiles", []):
        py, native = p.get("python", {}), p.get("native", {})
        lines += [
            "",
            f"### {NAMES.get(p['target'], p['target'])}, {p['batch']} alert(s) per request",
            "",
            f"Throughput while profiled: {_fmt(py.get('alerts_per_s_while_profiling'))} "
            f"alerts/s (Python-frames profile, 100 Hz, non-blocking), "
            f"{_fmt(native.get('alerts_per_s_while_profiling'))} alerts/s (native-frames "
            f"profile, {native.get('rate_hz', '-')} Hz, pauses the process per sample). "
            f"Cores busy in the server process(es): {py.get('cores_busy', '-')} "
            f"({_threads(py)}).",
            "",
            "| where | share (Python profile) | CPU µs/alert | share (native profile) |",
            "|---|--:|--:|--:|",
        ]
        native_rows = {r["category"]: r for r in native.get("breakdown", [])}
        seen = set()
        for row in py.get("breakdown", []):
            seen.add(row["category"])
            other = native_rows.get(row["category"], {})
            lines.append(
                f"| {row['category']} | {row['share_pct']}% | {_fmt(row['cpu_us_per_alert'], 1)} "
                f"| {_fmt(other.get('share_pct'), 1)}{'%' if other else ''} |"
            )
        for category, row in native_rows.items():
            if category not in seen:
                lines.append(f"| {category} | - | - | {row['share_pct']}% |")
        for label, prof in (("Python", py), ("native", native)):
            stacks = prof.get("top_stacks") or []
            if stacks:
                lines += ["", f"<details><summary>Heaviest stacks, {label} profile</summary>", ""]
                lines += ["```"] + [f"{count:5d}  {stack}" for count, stack in stacks] + ["```"]
                lines += ["</details>"]
    return lines


def _threads(profile: dict[str, Any]) -> str:
    busy = profile.get("threads_busy") or {}
    return ", ".join(f"{k} {v}" for k, v in busy.items()) or "-"


def _sources(results: dict[str, Any]) -> list[str]:
    """Which command produced which rows, when rows were merged from several runs."""
    runs: dict[str, list[str]] = {}
    for item in results["scenarios"] + results.get("profiles", []):
        label = f"`{item.get('command', '?')}` ({item.get('code', '?')})"
        kind = "profile " if "python" in item or "native" in item else ""
        runs.setdefault(label, []).append(f"{kind}{item['key']} at {item['finished_at']}")
    if len(runs) <= 1:
        return []
    lines = ["Rows come from several runs:", ""]
    lines += [f"- {label}: {', '.join(keys)}" for label, keys in runs.items()]
    return [*lines, ""]


def kept_analysis(text: str) -> str:
    if START in text and END in text:
        return text.split(START, 1)[1].split(END, 1)[0].strip()
    return PLACEHOLDER


def markdown(results: dict[str, Any], analysis: str) -> str:
    meta = results.get("meta", {})
    lines = [
        "# Ingestion benchmark: OnCallNova vs Prometheus Alertmanager",
        "",
        f"Generated by `{meta.get('command', 'benchmarks/ingest.py')}` "
        f"(started {meta.get('started_at')}, took {meta.get('elapsed_s', '-')} s); server code: "
        f"{meta.get('code', 'working tree')} at commit `{meta.get('git_commit')}`"
        + (" with uncommitted changes under src/" if meta.get("src_uncommitted_changes") else "")
        + f"; {meta.get('cpus')} cores, load average {meta.get('loadavg_at_start')} at start; "
        f"Python {meta.get('python')}, SQLite {meta.get('sqlite')}, "
        f"PostgreSQL {meta.get('postgres') or '-'}, "
        f"{meta.get('alertmanager') or 'Alertmanager -'}.",
        "",
        f"Load: `{meta.get('generator')}` (see benchmarks/README.md), "
        f"{meta.get('connections')} keep-alive connections, {meta.get('warmup_s')} s warm-up "
        f"then {meta.get('duration_s')} s measured per row, a fresh server per row, every "
        "alert distinct. OnCallNova answers 202 after the commit; Alertmanager answers 200 "
        "once the alerts are queued in memory. Latency is per request. The split rows are "
        "one `incidents` process behind 1 or 2 `ingestion` processes (`oncallnova serve "
        "--role ...`), the connections spread evenly over the ingestion replicas by one wrk "
        "(a thread per replica); their 'server CPU' is every OnCallNova process's, summed.",
        "",
        "## Results",
        "",
        *_sources(results),
        *results_table(results),
        "",
        "## Targets",
        "",
        *targets_table(results),
        "",
        *report_split.hop_section(results, NAMES),
        "## Checks",
        "",
        *checks(results),
        "",
        "## Where OnCallNova's time goes (py-spy)",
        "",
        "Each profile runs on a fresh server after the same warm-up. Samples of threads "
        "that are waiting (poll, queue, locks, the GIL) are left out; 'CPU µs/alert' is "
        "the category's CPU time divided by the alerts stored while profiling. Without "
        "native frames py-spy cannot always tell the event loop's C code from its idle "
        "poll, so 'event loop' in the Python profile is an upper bound; and the SQLite "
        "thread's C work is one category (the native profile splits statements from "
        "commits and shows the garbage collector). The split's processes are profiled at "
        "the same time, one py-spy each, and their rows are named after the role (replicas "
        "added up); in their Python profiles 'event loop' also holds gRPC's Cython/C code "
        "(cygrpc), which has no Python frames: the native profile attributes it to gRPC.",
        *profile_section(results),
        "",
        "## Analysis",
        "",
        START,
        analysis,
        END,
        "",
    ]
    return "\n".join(lines)


def console_table(results: dict[str, Any]) -> str:
    ratios = {r["batch"]: r for r in results["summary"]["ratios"]}
    rows = [("target", "batch", "alerts/s", "p50 ms", "p99 ms", "vs AM", "errors")]
    for s in results["scenarios"]:
        rows.append(
            (
                s["target"],
                str(s["batch"]),
                f"{s['alerts_per_s']:,.0f}",
                f"{s['p50_ms']:.1f}",
                f"{s['p99_ms']:.1f}",
                _vs_am(s, ratios),
                _errors(s),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    for goal in results["summary"]["targets"]:
        value = "-" if goal["value"] is None else f"{goal['value']:.2f}x"
        met = {True: "met", False: "MISSED", None: "not measured"}[goal["met"]]
        out.append(f"{goal['goal']}: {value} ({met})")
    return "\n".join(out)
