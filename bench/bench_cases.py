"""Benchmark: the per-case margin report over 1,000,000 cases against a raw-SQL floor.

    .venv/bin/python bench/bench_cases.py [--postgres URL] [--cases N] [--runs N] [--json PATH]

Creates its own database on the PostgreSQL server (dropped afterwards unless --keep),
migrates it, seeds N cases with bulk SQL (two procedures and two issue movements each; 1%
voided with reversing movements; 2% priced under an older schedule version), then times:

- floor:   one hand-written SQL statement giving the same figures grouped by facility ×
           month (snapshot sums per group joined to the ledger's cost per group, net of
           reversals) - the fastest plain SQL we know for this answer;
- service: reporting.service.margin_page(group_by=facility,month), the endpoint's query;
- http:    GET /api/v1/reports/case-margin?group_by=facility,month through the Flask app.

Both answers are checked equal before timing. Prints a table and JSON; never asserts time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import flask_migrate
from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supply_app import create_app
from supply_app.extensions import db
from tests.support.databases import create_database, drop_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FACILITIES = 20
CHUNK = 100_000
TIP_CENTS, CART_CENTS = 25_000, 3_000
#: A $7,200 handpiece over 5 years of 200 cases: $7.20 a case.
EQUIPMENT_CENTS = 720

FLOOR_SQL = """
WITH snapshots AS (
    SELECT facility_id, to_char(date_of_service, 'YYYY-MM') AS month, count(*) AS cases,
           sum(facility_cents) AS facility_cents,
           sum(professional_cents) AS professional_cents,
           sum(device_cents) AS device_cents,
           sum(reimbursement_cents) AS reimbursement_cents,
           sum(CASE WHEN billed THEN 1 ELSE 0 END) AS billed_cases,
           sum(collection_cents) AS collection_cents,
           sum(equipment_cents) AS equipment_cents,
           sum(CASE WHEN device_priced THEN 0 ELSE 1 END) AS device_unpriced_cases,
           sum(CASE WHEN reimbursement_complete THEN 0 ELSE 1 END) AS benchmark_unpriced_cases,
           sum(CASE WHEN schedule_year = 2026 AND schedule_version = :version
                    AND payer_revision = 1 THEN 0 ELSE 1 END) AS stale_cases
    FROM procedure_case
    WHERE status = 'recorded'
    GROUP BY 1, 2
), costs AS (
    SELECT c.facility_id, to_char(c.date_of_service, 'YYYY-MM') AS month,
           -sum(m.value_cents + coalesce(r.value_cents, 0)) AS supply_cost,
           -sum(CASE WHEN c.billed THEN m.value_cents + coalesce(r.value_cents, 0) ELSE 0 END)
               AS billed_supply_cost
    FROM procedure_case c
    JOIN stock_movement m
      ON m.reference_type = 'case' AND m.reference_id = c.id AND m.reverses_id IS NULL
    LEFT JOIN stock_movement r ON r.reverses_id = m.id
    WHERE c.status = 'recorded'
    GROUP BY 1, 2
)
SELECT s.*, coalesce(k.supply_cost, 0) AS supply_cost,
       coalesce(k.billed_supply_cost, 0) AS billed_supply_cost, f.code AS facility_code
FROM snapshots s
LEFT JOIN costs k ON k.facility_id = s.facility_id AND k.month = s.month
JOIN facility f ON f.id = s.facility_id
ORDER BY s.facility_id, s.month
"""


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the table and JSON."""
    print(message, file=sys.stderr, flush=True)


def on_database(args: argparse.Namespace, purpose: str, run: Any) -> int:
    """run(url, args) on the database --reuse names, or on a fresh one dropped afterwards
    unless --keep."""
    if getattr(args, "reuse", None):
        return run(args.reuse, args)
    url = create_database(args.postgres, purpose)
    log(f"database {make_url(url).database}")
    try:
        return run(url, args)
    finally:
        if not args.keep:
            drop_database(url)


def bench_admin(name: str) -> tuple[Any, str]:
    """A new admin holding every facility (committed), and its API token."""
    from supply_app.auth.service import create_user, issue_token

    admin = create_user(
        db.session,
        username=f"{name}-{uuid.uuid4().hex[:8]}",
        display_name="Bench",
        role="admin",
        password="bench-password-1",
        facility_ids=[],
        all_facilities=True,
    )
    token = issue_token(db.session, user=admin, name="bench", days=1)[1]
    db.session.commit()
    return admin, token


def templates() -> dict[str, dict[str, int | str]]:
    """Real priced snapshots per site (64640 × 2, plus C9809 where it pays)."""
    from supply_app.cases.pricing import case_claim, code_mix
    from supply_app.coding import price_claim, to_cents

    out = {}
    for site in ("HOPD", "ASC", "office"):
        procedures = [{"code": "64640", "nerves": ["afcn", "lfcn"]}]
        if site != "office":
            procedures.append({"code": "C9809"})
        claim = case_claim(
            site=site,
            cf_track="non_qualifying",
            date_of_service=date(2026, 3, 2),
            laterality="RT",
            procedures=procedures,
        )
        overrides = {(2026, "C9809", site): Decimal("250.00")} if site != "office" else None
        priced = price_claim(claim, overrides=overrides)
        out[site] = {
            "facility": to_cents(priced.facility_total),
            "professional": to_cents(priced.professional_total),
            "device": to_cents(priced.device_total),
            "total": to_cents(priced.total),
            "mix": code_mix(priced),
            "version": priced.schedule_version,
        }
    return out


def seed(n_cases: int) -> None:
    """Facilities, lots, an override, then cases, procedures and movements in bulk SQL."""
    from supply_app.cases.fees import set_override
    from supply_app.catalog.service import load_catalog_file, sync_catalog
    from supply_app.facilities.service import create_facility
    from supply_app.payers.service import create_payer

    session = db.session
    sync_catalog(session, load_catalog_file(current_app.config["CATALOG_PATH"]))
    sites = ("HOPD", "ASC", "office")
    for i in range(1, FACILITIES + 1):
        create_facility(
            session,
            data={
                "code": f"BENCH-{i:02d}",
                "name": f"Bench facility {i}",
                "site_of_service": sites[i % 3],
                "dodaac": f"B{i:05d}",
                "ship_to_address": "Bench",
                "time_zone": "UTC",
            },
            actor=None,
        )
    not_billed = create_payer(
        session, data={"name": "Active duty (bench)", "basis": "not_billed"}, actor=None
    ).id
    for site in ("HOPD", "ASC"):
        set_override(
            session, year=2026, code="C9809", site=site, amount_cents=25_000, note=None, actor=None
        )
    session.execute(
        text(
            "INSERT INTO lot (part_id, lot_number, expiry_date, created_at) "
            "SELECT p.id, 'BL-' || p.part_number, DATE '2028-12-31', now() FROM part p "
            "WHERE p.part_number IN ('STT2190-5', 'CRX2111-10')"
        )
    )
    session.commit()
    tpl = templates()
    tip_lot, cart_lot = (
        session.execute(
            text("SELECT l.id FROM lot l JOIN part p ON p.id = l.part_id WHERE p.part_number = :n"),
            {"n": n},
        ).scalar_one()
        for n in ("STT2190-5", "CRX2111-10")
    )
    started = time.perf_counter()
    for start in range(1, n_cases + 1, CHUNK):
        end = min(start + CHUNK - 1, n_cases)
        params = {"start": start, "end": end, "tip": tip_lot, "cart": cart_lot}
        case_params = {"start": start, "end": end, "not_billed": not_billed}
        session.execute(text(_cases_sql(tpl)), case_params)
        session.execute(text(PROCEDURES_SQL), params)
        session.execute(text(MOVEMENTS_SQL), {**params, "tip_v": TIP_CENTS, "cart_v": CART_CENTS})
        session.execute(text(REVERSALS_SQL), params)
        session.commit()
        rate = end / (time.perf_counter() - started)
        log(f"  seeded {end:>9,} / {n_cases:,} cases ({rate:,.0f} cases/s)")
    session.execute(
        text("SELECT setval('procedure_case_id_seq', (SELECT max(id) FROM procedure_case))")
    )
    session.execute(
        text("SELECT setval('stock_movement_id_seq', (SELECT max(id) FROM stock_movement))")
    )
    session.execute(
        text("SELECT setval('case_procedure_id_seq', (SELECT max(id) FROM case_procedure))")
    )
    session.commit()
    log("  analyze ...")
    session.execute(text("ANALYZE"))
    session.commit()


def _cases_sql(tpl: dict[str, dict[str, Any]]) -> str:
    def pick(key: str, quote: bool = False) -> str:
        q = (lambda v: f"'{v}'") if quote else str
        return (
            f"CASE f.site_of_service WHEN 'HOPD' THEN {q(tpl['HOPD'][key])} "
            f"WHEN 'ASC' THEN {q(tpl['ASC'][key])} ELSE {q(tpl['office'][key])} END"
        )

    # Versions must match what the app computes with the seeded override, so ask it.
    from supply_app.cases.fees import current_schedule

    version = current_schedule(db.session, 2026).version
    return f"""
    INSERT INTO procedure_case (id, facility_id, reference, date_of_service, laterality,
        site_of_service, cf_track, code_mix, status, schedule_year, schedule_version,
        facility_cents, professional_cents, device_cents, device_priced, reimbursement_complete,
        reimbursement_cents, warnings, pricing, priced_at, created_at, voided_at, void_reason,
        payer_id, payer_revision, billed, collection_cents, collection_complete, collection,
        equipment_cents)
    SELECT g, f.id, 'B' || g, DATE '2026-01-01' + (g % 330), 'RT', f.site_of_service,
        'non_qualifying', {pick("mix", True)},
        CASE WHEN g % 100 = 0 THEN 'voided' ELSE 'recorded' END, 2026,
        CASE WHEN g % 50 = 1 THEN 'CY2026.0-older' ELSE '{version}' END,
        {pick("facility")}, {pick("professional")}, {pick("device")}, true, true,
        {pick("total")},
        '[]', '{{}}', now(), now(),
        CASE WHEN g % 100 = 0 THEN now() END, CASE WHEN g % 100 = 0 THEN 'bench void' END,
        -- every tenth case an active-duty patient: not billed, supply and equipment cost only
        CASE WHEN g % 10 = 3 THEN :not_billed ELSE f.default_payer_id END, 1, g % 10 <> 3,
        CASE WHEN g % 10 = 3 THEN 0 ELSE {pick("total")} END, true, '{{}}', {EQUIPMENT_CENTS}
    FROM generate_series(CAST(:start AS integer), CAST(:end AS integer)) AS g
    JOIN facility f ON f.id = 1 + g % {FACILITIES}
    """


PROCEDURES_SQL = """
INSERT INTO case_procedure (id, case_id, position, code, laterality, units, nerves, modifiers)
SELECT 2 * g - 1, g, 0, '64640', 'RT', 2, CAST('["lfcn", "afcn"]' AS json), CAST('["RT"]' AS json)
FROM generate_series(CAST(:start AS integer), CAST(:end AS integer)) AS g
UNION ALL
SELECT 2 * g, g, 1, 'C9809', NULL, 1, CAST('[]' AS json), CAST('[]' AS json)
FROM generate_series(CAST(:start AS integer), CAST(:end AS integer)) AS g
"""
MOVEMENTS_SQL = """
INSERT INTO stock_movement (id, facility_id, lot_id, kind, eaches, value_cents,
    reference_type, reference_id, created_at)
SELECT 2 * g - 1, 1 + g % 20, :tip, 'issue', -1, -:tip_v, 'case', g, now()
FROM generate_series(CAST(:start AS integer), CAST(:end AS integer)) AS g
UNION ALL
SELECT 2 * g, 1 + g % 20, :cart, 'issue', -1, -:cart_v, 'case', g, now()
FROM generate_series(CAST(:start AS integer), CAST(:end AS integer)) AS g
"""
# Voided cases (every 100th) have both issues reversed; ids above every issue id.
REVERSALS_SQL = """
INSERT INTO stock_movement (id, facility_id, lot_id, kind, eaches, value_cents,
    reference_type, reference_id, reverses_id, reason, created_at)
SELECT 100000000 + m.id, m.facility_id, m.lot_id, 'reversal', 1, -m.value_cents,
    'movement', m.id, m.id, 'issue', now()
FROM stock_movement m
WHERE m.reference_type = 'case' AND m.reference_id BETWEEN :start AND :end
  AND m.reference_id % 100 = 0
"""


def timed(fns: dict[str, Any], runs: int) -> dict[str, float]:
    """Median wall time in ms of each function over runs, interleaved after one warm-up.

    Interleaving (floor, service, http, floor, ...) spreads any background load evenly
    over the three instead of penalising whichever ran during a busy spell.
    """
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for _ in range(runs):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    """Seed, check, time and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", metavar="URL", default=None, help="time against a database kept by --keep"
    )
    return on_database(parser.parse_args(), "bench_cases", run)


def run(url: str, args: argparse.Namespace) -> int:
    """The benchmark against a fresh database at url."""
    from supply_app.cases.fees import current_versions
    from supply_app.reporting.service import margin_page

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
    )
    with app.app_context():
        if not args.reuse:
            log("migrating ...")
            flask_migrate.upgrade()
            log(f"seeding {args.cases:,} cases ...")
            seed(args.cases)
        args.cases = db.session.execute(text("SELECT count(*) FROM procedure_case")).scalar()
        admin, token = bench_admin("bench-admin")
        query = {"group_by": ["facility", "month"]}

        version = current_versions(db.session).schedules[2026]

        def floor() -> list[Any]:
            rows = db.session.execute(text(FLOOR_SQL), {"version": version}).all()
            db.session.rollback()
            return rows

        def service(page: int = 1) -> dict[str, Any]:
            result = margin_page(db.session, admin, query, page, 100)
            db.session.rollback()
            return result

        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}

        def http() -> Any:
            response = client.get(
                "/api/v1/reports/case-margin?group_by=facility,month&per_page=100", headers=headers
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            return response.json

        log("checking the report against the floor ...")
        first = service()
        check(floor(), [first] + [service(p) for p in range(2, first["meta"]["pages"] + 1)])
        log(f"timing ({args.runs} runs each, median) ...")
        medians = timed({"floor": floor, "service": service, "http": http}, args.runs)
        floor_ms, service_ms, http_ms = medians["floor"], medians["service"], medians["http"]
    results = {
        "benchmark": "case_margin_facility_month",
        "cases": args.cases,
        "movements": args.cases * 2 + 2 * (args.cases // 100),
        "runs": args.runs,
        "floor_ms": round(floor_ms, 1),
        "service_ms": round(service_ms, 1),
        "http_ms": round(http_ms, 1),
        "service_ratio": round(service_ms / floor_ms, 3),
        "http_ratio": round(http_ms / floor_ms, 3),
        "target_ratio": 1.5,
    }
    print_table(results)
    print(json.dumps(results, indent=2))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def check(floor_rows: list[Any], pages: list[dict[str, Any]]) -> None:
    """The app's report and the floor agree on every figure of every group."""
    names = (
        ("cases", "cases"),
        ("supply_cost", "supply_cost"),
        ("facility_cents", "facility_reimbursement"),
        ("professional_cents", "professional_reimbursement"),
        ("device_cents", "device_reimbursement"),
        ("reimbursement_cents", "medicare_benchmark"),
        ("billed_cases", "billed_cases"),
        ("billed_supply_cost", "billed_supply_cost"),
        ("collection_cents", "expected_collection"),
        ("equipment_cents", "equipment_cost"),
        ("device_unpriced_cases", "device_unpriced_cases"),
        ("benchmark_unpriced_cases", "benchmark_unpriced_cases"),
        ("stale_cases", "stale_price_cases"),
    )
    want = {
        (r.facility_id, r.month): tuple(int(getattr(r, ours)) for ours, _ in names)
        for r in floor_rows
    }
    got = {
        (r["facility_id"], r["month"]): tuple(int(r[theirs]) for _, theirs in names)
        for page in pages
        for r in page["items"]
    }
    if want != got:
        diff = sorted(set(want.items()) ^ set(got.items()), key=repr)[:6]
        raise SystemExit(f"report and floor disagree, e.g. {diff}")
    stale = sum(v[-1] for v in got.values())
    log(
        f"  {len(got)} groups agree on all {len(names)} figures; "
        f"{sum(v[0] for v in got.values()):,} non-void cases, {stale:,} to reprice"
    )


def print_table(r: dict[str, Any]) -> None:
    """The human-readable summary."""
    print(f"\nMargin report, facility x month, {r['cases']:,} cases / {r['movements']:,} movements")
    print(f"{'query':<40}{'median ms':>12}{'ratio':>10}")
    print(f"{'floor (hand-written SQL aggregate)':<40}{r['floor_ms']:>12.1f}{1.0:>10.2f}")
    print(f"{'service (margin_page)':<40}{r['service_ms']:>12.1f}{r['service_ratio']:>10.2f}")
    print(f"{'HTTP GET /reports/case-margin':<40}{r['http_ms']:>12.1f}{r['http_ratio']:>10.2f}")
    print(f"target: within {r['target_ratio']}x of the floor\n")


if __name__ == "__main__":
    sys.exit(main())
