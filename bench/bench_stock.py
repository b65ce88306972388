"""Benchmark: the facility balance endpoint with 1,000 and with 1,000,000 ledger movements.

    .venv/bin/python bench/bench_stock.py [--postgres URL] [--small N] [--large N]
                                          [--runs N] [--json PATH] [--keep]

Without --postgres it uses a fresh SQLite file in a temporary directory; with it, a fresh
database on that server (dropped afterwards unless --keep). It migrates the schema, creates
FACILITIES facilities each holding the same LOTS lots, then seeds the ledger with bulk SQL
(executemany on SQLite, COPY on PostgreSQL): receipts and issues whose values follow the
moving-average rule, with the balance rows written from the same running totals, so the
seeded data passes `inventory verify` (checked at both sizes). It times:

- floor: the hand-written SQL the endpoint needs (page of balance rows + count);
- http:  GET /api/v1/facilities/{id}/stock?per_page=100 through the Flask test client;

first with --small movements, then after growing the ledger to --large. The number of
balance rows is the same at both sizes: the point is that history does not slow stock on
hand. Prints a table and JSON (with the large/small ratio; target <= 2.0); never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from supply_app import create_app
from supply_app.auth.service import create_user, issue_token
from supply_app.catalog.models import Part
from supply_app.catalog.service import load_catalog_file, sync_catalog
from supply_app.extensions import db
from supply_app.facilities.service import create_facility
from supply_app.inventory.models import Lot
from supply_app.inventory.service import share_of_value, verify

FACILITIES = 10
LOTS = 50
CHUNK = 50_000
COLUMNS = (
    "facility_id",
    "lot_id",
    "kind",
    "eaches",
    "value_cents",
    "reason",
    "reference_type",
    "reference_id",
    "created_at",
)

FLOOR_SQL = """
SELECT b.id, b.facility_id, b.lot_id, b.on_hand, b.value_cents, b.updated_at,
       l.lot_number, l.serial, l.expiry_date, l.part_id, p.part_number, p.units_per_pack
FROM stock_balance b
JOIN lot l ON l.id = b.lot_id
JOIN part p ON p.id = l.part_id
WHERE b.facility_id = :facility AND b.on_hand > 0
ORDER BY l.part_id, l.expiry_date, l.id
LIMIT 100
"""
FLOOR_COUNT_SQL = """
SELECT count(*) FROM stock_balance b JOIN lot l ON l.id = b.lot_id
WHERE b.facility_id = :facility AND b.on_hand > 0
"""


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the table and JSON."""
    print(message, file=sys.stderr, flush=True)


def make_database(postgres: str | None) -> str:
    """A fresh database URL: a new PostgreSQL database, or a SQLite file in a temp dir."""
    if not postgres:
        return f"sqlite:///{tempfile.mkdtemp(prefix='bench_stock_')}/bench.sqlite3"
    name = f"bench_stock_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = create_engine(
        make_url(postgres).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(postgres).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database made by make_database (SQLite files are left in /tmp)."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def seed_world(app: Any) -> tuple[list[int], list[int], str]:
    """Catalog, facilities, lots and an admin token; returns (facility ids, lot ids, token)."""
    sync_catalog(db.session, load_catalog_file(app.config["CATALOG_PATH"]))
    parts = list(db.session.scalars(db.select(Part).order_by(Part.id)))
    facility_ids = []
    for n in range(FACILITIES):
        facility = create_facility(
            db.session,
            data={
                "code": f"BENCH-{n}",
                "name": f"Bench facility {n}",
                "site_of_service": "HOPD",
                "dodaac": f"BEN{n:03d}",
                "ship_to_address": "1 Bench Road",
            },
            actor=None,
        )
        facility_ids.append(facility.id)
    lot_ids = []
    for n in range(LOTS):
        lot = Lot(
            part_id=parts[n % len(parts)].id,
            lot_number=f"BL-{n:04d}",
            expiry_date=date.today() + timedelta(days=90 + 7 * n),
        )
        db.session.add(lot)
        db.session.flush()
        lot_ids.append(lot.id)
    user = create_user(
        db.session,
        username="bench",
        display_name="Bench",
        role="admin",
        password="bench-password-1",
        all_facilities=True,
    )
    _, token = issue_token(db.session, user=user, name="bench", days=1)
    db.session.commit()
    return facility_ids, lot_ids, token


class Ledger:
    """Generates a realistic receipt/issue history with exact moving-average values."""

    def __init__(self, facility_ids: list[int], lot_ids: list[int]) -> None:
        self.keys = [(f, lot) for f in facility_ids for lot in lot_ids]
        self.state = {key: [0, 0] for key in self.keys}
        self.rng = random.Random(20261127)
        self.clock = datetime(2024, 1, 1, tzinfo=UTC)
        self.case = 0
        self.opened = 0

    def rows(self, count: int):
        """Yield count movement rows (tuples in COLUMNS order), updating running balances."""
        for _ in range(count):
            # Every balance gets its opening receipt first, so both sizes list the same rows
            # (stock never runs out afterwards: an issue leaves at least one each).
            if self.opened < len(self.keys):
                key = self.keys[self.opened]
                self.opened += 1
            else:
                key = self.keys[self.rng.randrange(len(self.keys))]
            on_hand, value = self.state[key]
            self.clock += timedelta(seconds=30)
            if on_hand < 4 or self.rng.random() < 0.1:
                eaches = self.rng.randint(5, 50)
                cents = eaches * self.rng.randint(20_000, 30_000)
                self.state[key] = [on_hand + eaches, value + cents]
                yield (*key, "receipt", eaches, cents, "opening_balance", None, None, self.clock)
            else:
                eaches = self.rng.randint(1, min(3, on_hand))
                cents = share_of_value(on_hand, value, eaches)
                self.state[key] = [on_hand - eaches, value - cents]
                self.case += 1
                yield (*key, "issue", -eaches, -cents, None, "case", self.case, self.clock)


def insert_movements(url: str, ledger: Ledger, count: int) -> None:
    """Bulk-insert count generated movements, with progress."""
    engine = create_engine(url)
    done = 0
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        while done < count:
            batch = list(ledger.rows(min(CHUNK, count - done)))
            if url.startswith("postgresql"):
                with raw.cursor() as cursor:
                    columns = ", ".join(COLUMNS)
                    with cursor.copy(f"COPY stock_movement ({columns}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
            else:
                stamp = [(*row[:-1], row[-1].replace(tzinfo=None).isoformat(" ")) for row in batch]
                marks = ", ".join("?" * len(COLUMNS))
                raw.executemany(
                    f"INSERT INTO stock_movement ({', '.join(COLUMNS)}) VALUES ({marks})", stamp
                )
            done += len(batch)
            log(f"  seeded {done:,}/{count:,} movements")
    engine.dispose()


def write_balances(ledger: Ledger) -> None:
    """Set every balance row to the generator's running totals (insert or update)."""
    now = datetime.now(UTC)
    for (facility_id, lot_id), (on_hand, value) in ledger.state.items():
        params = {"f": facility_id, "l": lot_id, "h": on_hand, "v": value, "t": now}
        updated = db.session.execute(
            text(
                "UPDATE stock_balance SET on_hand = :h, value_cents = :v, updated_at = :t "
                "WHERE facility_id = :f AND lot_id = :l"
            ),
            params,
        )
        if updated.rowcount == 0:
            db.session.execute(
                text(
                    "INSERT INTO stock_balance (facility_id, lot_id, on_hand, value_cents, "
                    "updated_at) VALUES (:f, :l, :h, :v, :t)"
                ),
                params,
            )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE stock_movement"))
            conn.execute(text("VACUUM ANALYZE stock_balance"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def time_it(fn, runs: int) -> dict[str, float]:
    """Median, p95 and min milliseconds of fn over runs (after warm-up)."""
    for _ in range(5):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
        "min_ms": round(samples[0], 3),
    }


def measure(app: Any, facility_id: int, token: str, runs: int) -> dict[str, Any]:
    """Time the endpoint and the raw-SQL floor; check they return the same rows."""
    client = app.test_client()
    path = f"/api/v1/facilities/{facility_id}/stock?per_page=100"
    headers = {"Authorization": f"Bearer {token}"}

    def http() -> Any:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.json
        return response.json

    def floor() -> list[Any]:
        with db.engine.connect() as conn:
            rows = conn.execute(text(FLOOR_SQL), {"facility": facility_id}).all()
            conn.execute(text(FLOOR_COUNT_SQL), {"facility": facility_id}).scalar()
        return rows

    api_ids = [row["id"] for row in http()["items"]]
    floor_ids = [row.id for row in floor()]
    if api_ids != floor_ids:
        raise SystemExit("endpoint and floor disagree; the benchmark would be meaningless")
    problems = verify(db.session)
    db.session.rollback()
    if problems:
        raise SystemExit(f"seeded ledger does not verify: {problems[:3]}")
    movements = db.session.scalar(text("SELECT count(*) FROM stock_movement"))
    db.session.rollback()
    return {
        "movements": movements,
        "balance_rows_returned": len(api_ids),
        "http": time_it(http, runs),
        "floor": time_it(floor, runs),
    }


def main() -> None:
    """Seed, time at both sizes, print the table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server URL (else SQLite)")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", metavar="PATH", help="also write the JSON result here")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    url = make_database(args.postgres)
    log(f"database: {make_url(url).render_as_string(hide_password=True)}")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "LOG_LEVEL": "WARNING"})
    results: dict[str, Any] = {"dialect": make_url(url).get_backend_name()}
    try:
        with app.app_context():
            flask_migrate.upgrade()
            facility_ids, lot_ids, token = seed_world(app)
            ledger = Ledger(facility_ids, lot_ids)
            for label, total in (("small", args.small), ("large", args.large)):
                have = db.session.scalar(text("SELECT count(*) FROM stock_movement"))
                db.session.rollback()
                log(f"{label}: growing the ledger from {have:,} to {total:,} movements")
                insert_movements(url, ledger, total - have)
                write_balances(ledger)
                results[label] = measure(app, facility_ids[0], token, args.runs)
            db.engine.dispose()
    finally:
        if not args.keep:
            drop_database(url)
    small, large = results["small"], results["large"]
    results["ratio_http_large_over_small"] = round(
        large["http"]["median_ms"] / small["http"]["median_ms"], 3
    )
    results["ratio_floor_large_over_small"] = round(
        large["floor"]["median_ms"] / small["floor"]["median_ms"], 3
    )
    results["http_over_floor_large"] = round(
        large["http"]["median_ms"] / large["floor"]["median_ms"], 2
    )
    results["target"] = "large/small http median <= 2.0"
    print(f"{'ledger size':>12} | {'http median':>12} | {'http p95':>9} | {'floor median':>12}")
    for label in ("small", "large"):
        r = results[label]
        print(
            f"{r['movements']:>12,} | {r['http']['median_ms']:>9.3f} ms | "
            f"{r['http']['p95_ms']:>6.3f} ms | {r['floor']['median_ms']:>9.3f} ms"
        )
    print(f"ratio large/small (http): {results['ratio_http_large_over_small']}")
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
