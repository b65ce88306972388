#!/usr/bin/env python3
"""Every benchmark in one command, each measured against its floor (hand-written SQL).

    .venv/bin/python bench/run.py [--postgres URL] [--quick] [--json PATH] [--only NAME ...]

Runs, each on its own fresh PostgreSQL database (created and dropped by the benchmark):

- cases_http  bench/bench_cases_http.py  recording cases through gunicorn (8 clients) vs an
              endpoint writing the same rows with plain SQL: throughput, p50/p99 latency;
- margin      bench/bench_cases.py       the case-margin report grouped by facility × month
              over 1,000,000 cases vs one hand-written SQL aggregate;
- stock       bench/bench_stock.py       stock on hand with 1,000 vs 1,000,000 ledger
              movements vs the hand-written balance query;
- export      bench/bench_export.py      the per-case margin export over 1,000,000 cases
              through `gunicorn -c gunicorn.conf.py`: CSV vs a hand-written
              `COPY (SELECT …) TO STDOUT WITH CSV` of the same text (first byte, first
              row, worker peak RSS), and XLSX of a tenth of the cases and of all of them.

Each benchmark's own progress is shown as it seeds and times. At the end one table compares
every measure with its floor, and the combined JSON goes to --json (default
bench/results/latest.json). --quick shrinks the data (100,000 cases and movements) for a
shorter run. Nothing here asserts on time; the exit status is non-zero only when
a benchmark fails its own correctness checks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DEFAULT_PG = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# name -> (script, full-size arguments, --quick arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "cases_http": (
        "bench_cases_http.py",
        ["--clients", "8", "--per-client", "40"],
        ["--clients", "8", "--per-client", "15"],
    ),
    "margin": (
        "bench_cases.py",
        ["--cases", "1000000", "--runs", "7"],
        ["--cases", "100000", "--runs", "5"],
    ),
    "stock": (
        "bench_stock.py",
        ["--small", "1000", "--large", "1000000", "--runs", "200"],
        ["--small", "1000", "--large", "100000", "--runs", "60"],
    ),
    "export": (
        "bench_export.py",
        ["--cases", "1000000", "--runs", "3"],
        ["--cases", "100000", "--runs", "3"],
    ),
}


def run_one(name: str, postgres: str, quick: bool) -> tuple[int, dict[str, Any] | None, float]:
    """Run one benchmark script with its output streaming through; return its JSON."""
    script, full, small = BENCHMARKS[name]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{name}.json"
        command = [
            sys.executable,
            str(BENCH / script),
            "--postgres",
            postgres,
            *(small if quick else full),
            "--json",
            str(out),
        ]
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        code = subprocess.call(command, cwd=BENCH.parent)
        elapsed = time.monotonic() - started
        result = json.loads(out.read_text()) if out.exists() else None
    return code, result, elapsed


def ratio(value: float, floor: float) -> float | None:
    """value / floor, rounded; None without a floor."""
    return round(value / floor, 2) if floor else None


def rows_for(name: str, r: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows (measure, app, floor, ratio, target) for one benchmark's JSON."""
    if name == "cases_http":
        app, floor = r["app"], r["floor"]
        clients = f"{r['clients']} clients, gunicorn {r['workers']} workers"
        return [
            {
                "measure": f"record case, HTTP ({clients}): cases/s",
                "app": app["per_second"],
                "floor": floor["per_second"],
                "ratio": r["throughput_ratio"],
                "target": f">= {r['target_ratio']} (median of {r['rounds']} rounds' app/floor)",
            },
            {
                "measure": "record case latency p50 (ms)",
                "app": app["p50_ms"],
                "floor": floor["p50_ms"],
                "ratio": ratio(app["p50_ms"], floor["p50_ms"]),
                "target": "",
            },
            {
                "measure": "record case latency p99 (ms)",
                "app": app["p99_ms"],
                "floor": floor["p99_ms"],
                "ratio": ratio(app["p99_ms"], floor["p99_ms"]),
                "target": f"oversold units in race: {r['oversold_units']}",
            },
        ]
    if name == "margin":
        return [
            {
                "measure": f"margin report facility×month, {r['cases']:,} cases (ms)",
                "app": r["http_ms"],
                "floor": r["floor_ms"],
                "ratio": r["http_ratio"],
                "target": f"<= {r['target_ratio']} (HTTP/floor)",
            }
        ]
    if name == "export":
        return export_rows(r)
    small, large = r["small"], r["large"]
    return [
        {
            "measure": f"stock on hand, {large['movements']:,} movements (ms)",
            "app": large["http"]["median_ms"],
            "floor": large["floor"]["median_ms"],
            "ratio": ratio(large["http"]["median_ms"], large["floor"]["median_ms"]),
            "target": "",
        },
        {
            "measure": f"stock on hand, {large['movements']:,} vs {small['movements']:,} (ms)",
            "app": large["http"]["median_ms"],
            "floor": small["http"]["median_ms"],
            "ratio": r["ratio_http_large_over_small"],
            "target": "<= 2.0 (large/small ledger)",
        },
    ]


def export_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows for the export benchmark: CSV against COPY, then XLSX against the CSV."""
    c, x = r["csv"], r["xlsx"]
    rows, tenth = f"{r['rows']:,}", f"{r['tenth_rows']:,}"
    return [
        {
            "measure": f"CSV export per case, {rows} rows (ms)",
            "app": c["app_ms"],
            "floor": c["floor_ms"],
            "ratio": c["ratio"],
            "target": f"<= {r['target_ratio']} (HTTP/COPY); checks: {r['checks']}",
        },
        {
            "measure": "CSV export first byte / COPY first row (ms)",
            "app": c["first_byte_ms"],
            "floor": c["floor_first_row_ms"],
            "ratio": None,
            "target": f"first byte < 1000; first data row {c['first_row_ms']:,.0f} ms",
        },
        {
            "measure": "CSV export worker RSS: peak / before (MB)",
            "app": c["worker_peak_rss_mb"],
            "floor": c["worker_rss_mb"],
            "ratio": ratio(c["worker_peak_rss_mb"], c["worker_rss_mb"]),
            "target": "bounded (flat while streaming)",
        },
        {
            "measure": f"XLSX export, {tenth} rows, vs its CSV (ms)",
            "app": x["tenth_ms"],
            "floor": c["tenth_ms"],
            "ratio": ratio(x["tenth_ms"], c["tenth_ms"]),
            "target": f"peak RSS {x['tenth_peak_rss_mb']} MB; {x['tenth_bytes'] / 1e6:,.1f} MB",
        },
        {
            "measure": f"XLSX export, {rows} rows, vs its CSV (ms)",
            "app": x["all_ms"],
            "floor": c["app_ms"],
            "ratio": ratio(x["all_ms"], c["app_ms"]),
            "target": f"peak RSS {x['all_peak_rss_mb']} MB; {x['all_bytes'] / 1e6:,.1f} MB file",
        },
    ]


def print_table(rows: list[dict[str, Any]]) -> None:
    """The combined table, one line per measure."""
    width = max(len(row["measure"]) for row in rows)
    header = f"{'measure':<{width}} | {'app':>9} | {'floor':>9} | {'ratio':>6} | target"
    print("\n" + header)
    print("-" * len(header))
    for row in rows:
        shown = "—" if row["ratio"] is None else f"{row['ratio']:.2f}"
        print(
            f"{row['measure']:<{width}} | {row['app']:>9} | {row['floor']:>9} | "
            f"{shown:>6} | {row['target']}"
        )


def main() -> int:
    """Run the chosen benchmarks, then print the combined table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_PG, metavar="URL")
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 1,000,000")
    parser.add_argument("--json", default=str(BENCH / "results" / "latest.json"), metavar="PATH")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=list(BENCHMARKS))
    args = parser.parse_args()

    combined: dict[str, Any] = {"quick": args.quick, "benchmarks": {}, "failed": []}
    rows: list[dict[str, Any]] = []
    for name in args.only:
        code, result, elapsed = run_one(name, args.postgres, args.quick)
        combined["benchmarks"][name] = {
            "exit": code,
            "seconds": round(elapsed, 1),
            **(result or {}),
        }
        if code != 0 or result is None:
            combined["failed"].append(name)
            continue
        rows.extend(rows_for(name, result))
    combined["table"] = rows
    if rows:
        print_table(rows)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(combined, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    if combined["failed"]:
        print(f"FAILED: {', '.join(combined['failed'])}")
    return 1 if combined["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
