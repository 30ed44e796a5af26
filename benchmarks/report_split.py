"""The split rows' part of benchmarks/ingest.py's results: their ratios to the all-in-one
on PostgreSQL, the issue's goal, and the cost of the gRPC hop in CPU per alert."""

from __future__ import annotations

from typing import Any

SPLITS = ("split-1", "split-2")
# Every target the ratios compare with Alertmanager.
ONCALLNOVA = ("sqlite", "postgres", *SPLITS)
Key = tuple[str, int]


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def ratios(rate: dict[Key, float], per_cpu: dict[Key, float | None], batch: int) -> dict[str, Any]:
    """For one batch size: each split's alerts/s, and its alerts/s and alerts per
    CPU-second relative to the all-in-one on PostgreSQL; every target vs Alertmanager."""
    out: dict[str, Any] = {}
    postgres = rate.get(("postgres", batch))
    for split in SPLITS:
        value = rate.get((split, batch))
        out[f"{split}_alerts_per_s"] = value
        out[f"{split}_vs_postgres"] = _ratio(value, postgres)
        out[f"{split}_vs_postgres_per_cpu_s"] = _ratio(
            per_cpu.get((split, batch)), per_cpu.get(("postgres", batch))
        )
    for target in ONCALLNOVA:
        out[f"{target}_vs_alertmanager"] = _ratio(
            rate.get((target, batch)), rate.get(("alertmanager", batch))
        )
    return out


def goals(by_batch: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The split with 2 ingestion replicas stores at least as many alerts/s as the
    all-in-one on PostgreSQL (it spreads HTTP parsing over processes)."""
    return [
        goal(
            f"Split with 2 ingestion replicas, {batch}-alert requests: alerts/s >= the "
            "all-in-one on PostgreSQL",
            by_batch.get(batch, {}).get("split-2_vs_postgres"),
            1.0,
        )
        for batch in (100, 1)
    ]


def goal(text: str, value: float | None, threshold: float) -> dict[str, Any]:
    """A goal of the Targets table: met when the ratio reaches the threshold."""
    return {
        "goal": text,
        "value": value,
        "threshold": threshold,
        "met": None if value is None else value >= threshold,
    }


def _us(pct: float | None, alerts_per_s: float) -> float | None:
    """CPU microseconds per alert of something that used `pct` % of a core."""
    if pct is None or not alerts_per_s:
        return None
    return pct / 100 / alerts_per_s * 1e6


def cpu_per_alert(s: dict[str, Any]) -> dict[str, float | None]:
    """Where a row's CPU per alert went: the all-in-one process, or the ingestion
    replicas and incidents; the PostgreSQL backends; the total."""
    rate = s["alerts_per_s"]
    processes = s.get("process_cpu_pct") or {}
    ingestion = sum(v for k, v in processes.items() if k.startswith("ingestion"))
    return {
        "all_in_one": None if processes else _us(s.get("server_cpu_pct"), rate),
        "ingestion": _us(ingestion, rate) if processes else None,
        "incidents": _us(processes.get("incidents"), rate),
        "postgres": _us(s.get("postgres_backends_cpu_pct"), rate),
        "total": 1e6 / s["alerts_per_cpu_s"] if s.get("alerts_per_cpu_s") else None,
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def hop_section(results: dict[str, Any], names: dict[str, str]) -> list[str]:
    """A table of CPU per alert, split rows beside the all-in-one on PostgreSQL."""
    rows = {(s["target"], s["batch"]): s for s in results["scenarios"]}
    if not any(target in SPLITS for target, _ in rows):
        return []
    lines = [
        "## Cost of the hop: CPU per alert, split vs all-in-one (PostgreSQL)",
        "",
        "CPU microseconds per stored alert, from the rows above: each process's CPU during "
        "the measurement divided by the alerts acknowledged. 'Hop' is the split's total "
        "minus the all-in-one's at the same batch size (more CPU for the same alerts). "
        "'Alerts per commit' is the alerts acknowledged divided by the transactions the "
        "scratch database committed meanwhile (PostgreSQL's statistics, which lag by up to "
        "a second): how well the writer batched.",
        "",
        "| alerts/request | target | alerts/s | p99 ms | alerts per commit "
        "| all-in-one process µs | ingestion replicas µs | incidents µs "
        "| PostgreSQL backends µs | total µs/alert | hop µs/alert |",
        "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for batch in sorted({b for _, b in rows}):
        base = rows.get(("postgres", batch))
        base_total = cpu_per_alert(base)["total"] if base else None
        for target in ("postgres", *SPLITS):
            s = rows.get((target, batch))
            if s is None:
                continue
            cost = cpu_per_alert(s)
            hop = "-"
            if target != "postgres" and cost["total"] and base_total:
                extra = cost["total"] - base_total
                hop = f"{extra:+,.0f} ({100 * extra / base_total:+.0f}%)"
            lines.append(
                f"| {batch} | {names.get(target, target)} | {s['alerts_per_s']:,.0f} "
                f"| {s['p99_ms']:,.1f} | {_fmt(s.get('alerts_per_commit'))} "
                f"| {_fmt(cost['all_in_one'])} | {_fmt(cost['ingestion'])} "
                f"| {_fmt(cost['incidents'])} | {_fmt(cost['postgres'])} "
                f"| {_fmt(cost['total'])} | {hop} |"
            )
    return [*lines, ""]
