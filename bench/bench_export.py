"""Benchmark: the margin export (CSV, XLSX) through the production gunicorn command vs COPY.

    .venv/bin/python bench/bench_export.py [--postgres URL] [--cases N] [--runs N] [--json PATH]
                                           [--keep] [--reuse URL]

Creates its own database (named for this checkout; dropped afterwards unless --keep), seeds
N cases with bench_cases' bulk SQL (two issue movements each, 1% voided and reversed, 2%
priced under an older schedule), then serves the app as the README's production section
does: `gunicorn -c gunicorn.conf.py wsgi:app` with SUPPLY_ENV_NAME=production, bound to a
free loopback port. It times, against PostgreSQL:

- floor: `COPY (SELECT …) TO STDOUT WITH CSV`, hand-written: the same rows in the same
  order with the same figures as the same text, read to the end by psycopg, under the
  export's own session settings (no JIT, no parallel workers, 64MB work_mem);
- CSV:   GET /api/v1/reports/case-margin/export?format=csv (every case): first byte, first
  data row, last byte. Floor and app alternate, --runs times each; medians are quoted;
- XLSX:  the same as XLSX for about a tenth of the cases (a date range) and for all;
  the CSV of that tenth is timed beside it.

Checks (exit 1 if any fails): the app's data rows are byte for byte the floor's; the file
passes check_csv; its row count and TOTAL figures equal a hand-written SQL count and sums;
X-Export-Rows says the same; each XLSX is a whole zip with header + rows + TOTAL row whose
figures equal the same sums. Memory: the peak RSS (VmHWM) of the gunicorn workers, on a
fresh server for CSV and another for XLSX. Never asserts on time.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_cases import DEFAULT_URL, bench_admin, log, on_database, seed  # noqa: E402

from supply_app import create_app  # noqa: E402
from supply_app.extensions import db  # noqa: E402
from supply_app.money import format_cents  # noqa: E402
from supply_app.reporting.columns import columns_for  # noqa: E402
from supply_app.reporting.export import POSTGRES_SETTINGS, check_csv  # noqa: E402
from tests.support.load import Gunicorn, running  # noqa: E402

# The tenth: the seed spreads cases over 330 days from 2026-01-01.
TENTH = {"date_from": "2026-01-01", "date_to": "2026-02-02"}
GUARD = (
    "CASE WHEN left({0}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || {0} ELSE {0} END"
)
MONEY = "CAST(({0}) * 0.01 AS text)"
FLAG = "CASE WHEN {0} THEN 'true' ELSE 'false' END"
# percent_of(part, whole) in hundredths, half away from zero, NULL when whole is 0.
PERCENT = (
    "CASE WHEN {1} <> 0 THEN CAST("
    "CASE WHEN ({0} < 0) <> ({1} < 0) AND {0} <> 0 THEN -1 ELSE 1 END"
    " * ((abs({0}) * 20000 + abs({1})) / (2 * abs({1}))) * 0.01 AS text) END"
)
FLOOR_SQL = f"""
WITH costs AS (
    SELECT m.reference_id AS case_id, -sum(m.value_cents + coalesce(r.value_cents, 0)) AS cost
    FROM stock_movement m LEFT JOIN stock_movement r ON r.reverses_id = m.id
    WHERE m.reference_type = 'case' AND m.reverses_id IS NULL
    GROUP BY m.reference_id
), cases AS (
    SELECT c.*, f.code AS facility_code, p.name AS payer_name,
           CAST(coalesce(k.cost, 0) AS bigint) AS cost,
           CASE WHEN c.billed THEN CAST(coalesce(k.cost, 0) AS bigint) ELSE 0 END AS billed_cost,
           CASE WHEN c.billed THEN c.equipment_cents ELSE 0 END AS billed_equipment,
           CASE WHEN c.billed THEN c.collection_cents - CAST(coalesce(k.cost, 0) AS bigint)
           END AS margin,
           NOT (c.schedule_year = 2026 AND c.schedule_version = %(version)s
                AND c.payer_revision = p.revision) AS stale
    FROM procedure_case c
    JOIN facility f ON f.id = c.facility_id
    JOIN payer p ON p.id = c.payer_id
    LEFT JOIN costs k ON k.case_id = c.id
    WHERE c.status = 'recorded' {{where}}
)
SELECT id, {GUARD.format("reference")}, to_char(date_of_service, 'YYYY-MM-DD'), facility_id,
    {GUARD.format("facility_code")}, {GUARD.format("site_of_service")},
    {GUARD.format("code_mix")}, {GUARD.format("schedule_version")}, payer_id,
    {GUARD.format("payer_name")}, {GUARD.format("handpiece_serial")},
    1, CASE WHEN billed THEN 1 ELSE 0 END,
    {MONEY.format("cost")}, {MONEY.format("billed_cost")},
    {MONEY.format("equipment_cents")}, {MONEY.format("billed_equipment")},
    {MONEY.format("collection_cents")}, {MONEY.format("facility_cents")},
    {MONEY.format("professional_cents")}, {MONEY.format("device_cents")},
    {MONEY.format("reimbursement_cents")}, {MONEY.format("margin")},
    {PERCENT.format("margin", "collection_cents")},
    {MONEY.format("margin - billed_equipment")},
    {MONEY.format("cost - billed_cost + equipment_cents - billed_equipment")},
    {FLAG.format("reimbursement_complete")},
    CASE WHEN reimbursement_complete THEN 0 ELSE 1 END, {FLAG.format("NOT device_priced")},
    CASE WHEN device_priced THEN 0 ELSE 1 END,
    {FLAG.format("collection_complete")}, CASE WHEN collection_complete THEN 0 ELSE 1 END,
    {FLAG.format("stale")}, CASE WHEN stale THEN 1 ELSE 0 END
FROM cases
ORDER BY date_of_service, id
"""
TOTALS_SQL = """
SELECT count(*), sum(facility_cents), sum(professional_cents), sum(device_cents),
       sum(reimbursement_cents),
       (SELECT -sum(m.value_cents + coalesce(r.value_cents, 0))
        FROM procedure_case c
        JOIN stock_movement m ON m.reference_type = 'case' AND m.reference_id = c.id
                              AND m.reverses_id IS NULL
        LEFT JOIN stock_movement r ON r.reverses_id = m.id
        WHERE c.status = 'recorded' {where})
FROM procedure_case c WHERE c.status = 'recorded' {where}
"""
TOTAL_NAMES = (
    "cases",
    "facility_reimbursement",
    "professional_reimbursement",
    "device_reimbursement",
    "medicare_benchmark",
    "supply_cost",
)


def where(tenth: bool) -> str:
    """The date filter of the tenth, in SQL."""
    if not tenth:
        return ""
    return f"AND c.date_of_service BETWEEN '{TENTH['date_from']}' AND '{TENTH['date_to']}'"


def driver_url(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def floor(url: str, version: str) -> tuple[float, float, bytes]:
    """Time the hand-written COPY of every case; (ms, ms to its first row, md5 of it all)."""
    digest = hashlib.md5(usedforsecurity=False)
    sql = f"COPY ({FLOOR_SQL.format(where='')}) TO STDOUT WITH CSV"
    first_row = None
    with psycopg.connect(driver_url(url), autocommit=True) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            for setting in POSTGRES_SETTINGS:
                conn.execute(setting)
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(sql, {"version": version}) as copy:
                for data in copy:
                    first_row = first_row or time.perf_counter()
                    digest.update(data)
            ended = time.perf_counter()
    return (ended - started) * 1000, ((first_row or ended) - started) * 1000, digest.digest()


def fetch(server: Gunicorn, token: str, query: str, keep: bool) -> dict[str, Any]:
    """GET an export; times to first byte, first data row and last byte, and the body."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
    started = time.perf_counter()
    connection.request(
        "GET",
        f"/api/v1/reports/case-margin/export?{query}",
        headers={"Authorization": f"Bearer {token}"},
    )
    response = connection.getresponse()
    if response.status != 200:
        raise SystemExit(f"export answered {response.status}: {response.read()[:500]!r}")
    first_byte = first_row = None
    size, newlines, body = 0, 0, bytearray()
    digest = hashlib.md5(usedforsecurity=False)
    while data := response.read1(1 << 20):
        now = time.perf_counter()
        first_byte = first_byte or now
        newlines += data.count(b"\n")
        if first_row is None and newlines >= 2:
            first_row = now
        size += len(data)
        digest.update(data)
        if keep:
            body += data
    ended = time.perf_counter()
    connection.close()
    return {
        "ms": round((ended - started) * 1000, 1),
        "first_byte_ms": round((first_byte - started) * 1000, 1),
        "first_row_ms": round(((first_row or ended) - started) * 1000, 1),
        "bytes": size,
        "rows_header": int(response.headers["X-Export-Rows"]),
        "body": bytes(body),
    }


def peak_rss_mb(server: Gunicorn) -> tuple[float, float]:
    """(current, peak) resident memory of the busiest worker, in MB."""
    best = (0.0, 0.0)
    for pid in server.worker_pids():
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
        rss, hwm = (int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
        best = max(best, (rss, hwm), key=lambda pair: pair[1])
    return round(best[0], 1), round(best[1], 1)


def sql_totals(url: str, tenth: bool) -> dict[str, str]:
    """The hand-written count and sums the TOTAL row must show, as the export writes them."""
    with psycopg.connect(driver_url(url)) as conn:
        row = conn.execute(TOTALS_SQL.format(where=where(tenth))).fetchone()
    count, *cents = row
    return {
        "cases": str(count),
        **{
            name: format_cents(int(value or 0))
            for name, value in zip(TOTAL_NAMES[1:], cents, strict=True)
        },
    }


def check_csv_export(text: str, want: dict[str, str], rows_header: int) -> list[str]:
    """Problems with a CSV export against the SQL figures (an empty list when whole)."""
    problems = []
    if reason := check_csv(text):
        problems.append(f"check_csv: {reason}")
    lines = text.splitlines()
    total = dict(zip(lines[0].split(","), lines[-1].split(","), strict=True))
    if len(lines) - 2 != int(want["cases"]) or rows_header != int(want["cases"]):
        problems.append(f"rows {len(lines) - 2}, X-Export-Rows {rows_header}, SQL {want['cases']}")
    for name, value in want.items():
        if total[name] != value:
            problems.append(f"TOTAL {name} {total[name]} != SQL {value}")
    return problems


def column_letter(index: int) -> str:
    """A spreadsheet's letters for a 0-based column: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_xlsx_export(body: bytes, want: dict[str, str]) -> list[str]:
    """Problems with an XLSX export: a whole zip, every row, a TOTAL row with the SQL sums."""
    archive = zipfile.ZipFile(io.BytesIO(body))
    if bad := archive.testzip():
        return [f"corrupt member {bad}"]
    rows, tail = 0, b""
    with archive.open("xl/worksheets/sheet1.xml") as sheet:
        while chunk := sheet.read(1 << 22):
            rows += chunk.count(b"<row ")
            tail = (tail + chunk)[-8000:]
    last = tail[tail.rindex(b"<row ") :].decode()
    cell = r'<c r="([A-Z]+)\d+"[^>]*>(?:<v>([^<]*)</v>|<is><t>[^<]*</t></is>)'
    cells = dict(re.findall(cell, last))
    names = [column.name for column in columns_for(["case"])]
    columns = {name: column_letter(names.index(name)) for name in TOTAL_NAMES}
    problems = []
    if rows != int(want["cases"]) + 2:
        problems.append(f"sheet rows {rows} != SQL {want['cases']} + header + TOTAL")
    if "TOTAL" not in last:
        problems.append("no TOTAL row")
    for name, letter in columns.items():
        if cells.get(letter) != want[name]:
            problems.append(f"XLSX TOTAL {name} {cells.get(letter)} != SQL {want[name]}")
    return problems


def main() -> int:
    """Seed (or reuse), serve with the production command, time, check and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="URL", default=None, help="a database kept by --keep")
    return on_database(parser.parse_args(), "bench_export", run)


def run(url: str, args: argparse.Namespace) -> int:
    """The benchmark against the database at url."""
    from sqlalchemy import text

    from supply_app.cases.fees import current_versions

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
    )
    with app.app_context():
        if not args.reuse:
            import flask_migrate

            log("migrating ...")
            flask_migrate.upgrade()
            log(f"seeding {args.cases:,} cases ...")
            seed(args.cases)
        cases = db.session.execute(text("SELECT count(*) FROM procedure_case")).scalar()
        token = bench_admin("bench-export")[1]
        version = current_versions(db.session).schedules[2026]
        db.engine.dispose()

    logs = Path(tempfile.mkdtemp(prefix="bench-export-"))
    secret = secrets.token_urlsafe(48)
    production: dict[str, Any] = {
        "environment": {"SUPPLY_ENV_NAME": "production", "SUPPLY_SECRET_KEY": secret},
        "options": ["--config", str(ROOT / "gunicorn.conf.py")],
    }
    want_all, want_tenth = sql_totals(url, False), sql_totals(url, True)
    problems: list[str] = []
    tenth_query = f"date_from={TENTH['date_from']}&date_to={TENTH['date_to']}"

    log(f"CSV: {args.runs} alternating runs of COPY and the export, {want_all['cases']} rows")
    csv_server = Gunicorn(url, log=logs / "csv.log", **production)
    with running(csv_server):
        csv_baseline = peak_rss_mb(csv_server)[0]
        floors, floor_firsts, apps = [], [], []
        for n in range(args.runs):
            floor_ms, floor_first_ms, floor_md5 = floor(url, version)
            floors.append(floor_ms)
            floor_firsts.append(floor_first_ms)
            last = n == args.runs - 1
            got = fetch(csv_server, token, "format=csv", keep=last)
            apps.append(got)
            firsts = f"first byte {got['first_byte_ms']:,.0f}, first row {got['first_row_ms']:,.0f}"
            log(f"  run {n + 1}: floor {floor_ms:,.0f} ms, app {got['ms']:,.0f} ms ({firsts} ms)")
        body = apps[-1].pop("body")
        header_end, total_start = body.index(b"\n") + 1, body.rindex(b"\n", 0, len(body) - 1) + 1
        if hashlib.md5(body[header_end:total_start], usedforsecurity=False).digest() != floor_md5:
            problems.append("the export's rows are not byte for byte the COPY floor's")
        log("  checking the file against SQL ...")
        problems += check_csv_export(body.decode(), want_all, apps[-1]["rows_header"])
        total_row = body[total_start:].decode().rstrip("\n")
        del body
        tenth_csv = [
            fetch(csv_server, token, f"format=csv&{tenth_query}", keep=False)
            for _ in range(args.runs)
        ]
        csv_rss = peak_rss_mb(csv_server)[1]

    log("XLSX: a tenth of the cases, then all of them")
    xlsx_server = Gunicorn(url, log=logs / "xlsx.log", **production)
    with running(xlsx_server):
        xlsx_baseline = peak_rss_mb(xlsx_server)[0]
        tenth_xlsx = []
        for _ in range(args.runs):
            got = fetch(xlsx_server, token, f"format=xlsx&{tenth_query}", keep=True)
            tenth_xlsx.append(got)
            problems += check_xlsx_export(tenth_xlsx[-1].pop("body"), want_tenth)
        xlsx_tenth_rss = peak_rss_mb(xlsx_server)[1]
        whole = fetch(xlsx_server, token, "format=xlsx", keep=True)
        problems += check_xlsx_export(whole.pop("body"), want_all)
        xlsx_rss = peak_rss_mb(xlsx_server)[1]
        log(f"  XLSX all: {whole['ms']:,.0f} ms, {whole['bytes'] / 1e6:,.1f} MB")

    def median(samples: list[dict[str, Any]], key: str = "ms") -> float:
        return round(statistics.median(s[key] for s in samples), 1)

    floor_ms, app_ms = round(statistics.median(floors), 1), median(apps)
    results = {
        "benchmark": "case_margin_export",
        "cases": cases,
        "rows": int(want_all["cases"]),
        "tenth_rows": int(want_tenth["cases"]),
        "runs": args.runs,
        "date": date.today().isoformat(),
        "csv": {
            "floor_ms": floor_ms,
            "floor_first_row_ms": round(statistics.median(floor_firsts), 1),
            "app_ms": app_ms,
            "ratio": round(app_ms / floor_ms, 2),
            "first_byte_ms": median(apps, "first_byte_ms"),
            "first_row_ms": median(apps, "first_row_ms"),
            "bytes": apps[-1]["bytes"],
            "worker_rss_mb": csv_baseline,
            "worker_peak_rss_mb": csv_rss,
            "runs_ms": [s["ms"] for s in apps],
            "floor_runs_ms": [round(f, 1) for f in floors],
            "tenth_ms": median(tenth_csv),
        },
        "xlsx": {
            "tenth_ms": median(tenth_xlsx),
            "tenth_first_byte_ms": median(tenth_xlsx, "first_byte_ms"),
            "tenth_bytes": tenth_xlsx[-1]["bytes"],
            "tenth_peak_rss_mb": xlsx_tenth_rss,
            "all_ms": whole["ms"],
            "all_first_byte_ms": whole["first_byte_ms"],
            "all_bytes": whole["bytes"],
            "worker_rss_mb": xlsx_baseline,
            "all_peak_rss_mb": xlsx_rss,
        },
        "sql_totals": want_all,
        "total_row": total_row,
        "target_ratio": 3.0,
        "checks": problems or "all passed",
    }
    print_table(results)
    print(json.dumps(results, indent=2))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2) + "\n")
    for problem in problems:
        log(f"FAILED: {problem}")
    return 1 if problems else 0


def print_table(r: dict[str, Any]) -> None:
    """The human-readable summary."""
    c, x = r["csv"], r["xlsx"]
    print(f"\nMargin export per case, {r['rows']:,} rows (a tenth: {r['tenth_rows']:,}), through")
    print("gunicorn -c gunicorn.conf.py wsgi:app")
    print(f"{'measure':<44}{'ms':>10}{'ratio':>8}{'peak RSS MB':>13}")
    print(f"{'floor: COPY (SELECT …) TO STDOUT WITH CSV':<44}{c['floor_ms']:>10,.0f}{1.0:>8.2f}")
    rss = c["worker_peak_rss_mb"]
    print(f"{'CSV export over HTTP':<44}{c['app_ms']:>10,.0f}{c['ratio']:>8.2f}{rss:>13}")
    first = f"{c['first_byte_ms']:,.0f} / {c['first_row_ms']:,.0f}"
    print(f"{'  first byte / first data row':<44}{first:>10}")
    print(f"{'  COPY floor: first data row':<44}{c['floor_first_row_ms']:>10,.0f}")
    print(f"{'CSV export, a tenth':<44}{c['tenth_ms']:>10,.0f}")
    rows = (
        ("XLSX export, a tenth (ratio to its CSV)", x["tenth_ms"], c["tenth_ms"], "tenth_peak"),
        ("XLSX export, all (ratio to its CSV)", x["all_ms"], c["app_ms"], "all_peak"),
    )
    for label, ms, csv_ms, peak in rows:
        print(f"{label:<44}{ms:>10,.0f}{ms / csv_ms:>8.2f}{x[peak + '_rss_mb']:>13}")
    before = f"{c['worker_rss_mb']} MB (CSV server), {x['worker_rss_mb']} MB (XLSX server)"
    print(f"worker RSS before the exports: {before}")
    print(f"target: CSV within {r['target_ratio']}x of the floor; checks: {r['checks']}\n")


if __name__ == "__main__":
    sys.exit(main())
