"""Benchmark: the facility balance endpoint with 1,000 and with 1,000,000 ledger movements.

    .venv/bin/python bench/bench_stock.py [--postgres URL] [--small N] [--large N]
                                          [--runs N] [--json PATH] [--keep]

Without --postgres it uses fresh SQLite files in a temporary directory; with it, fresh
databases on that server (dropped afterwards unless --keep). It migrates the schema, creates
FACILITIES facilities each holding the same LOTS lots, then seeds the ledger with bulk SQL
(executemany on SQLite, COPY on PostgreSQL): receipts and issues whose values follow the
moving-average rule, with the balance rows written from the same running totals, so the
seeded data passes `inventory verify` (checked at both sizes). It times:

- floor: the hand-written SQL the endpoint needs (page of balance rows + count);
- http:  GET /api/v1/facilities/{id}/stock?per_page=100 through the Flask test client;

on two databases seeded alike except for ledger size (--small and --large movements),
alternating between them call by call so that load from anything else on the machine hits
both sizes alike. The number of balance rows is the same at both sizes: the point is that
history does not slow stock on hand. Prints a table and JSON (with the large/small ratio;
target <= 2.0); never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cases import create_database

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
    return create_database(postgres, "stock")


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
                "time_zone": "UTC",
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


def summary(samples: list[float]) -> dict[str, float]:
    """Median, p95 and min of millisecond samples."""
    samples = sorted(samples)
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[max(0, int(len(samples) * 0.95) - 1)], 3),
        "min_ms": round(samples[0], 3),
    }


class Target:
    """One freshly seeded database and the two timed calls against it."""

    def __init__(self, label: str, postgres: str | None, movements: int) -> None:
        self.label = label
        self.url = make_database(postgres)
        self.wanted = movements
        self.app = create_app(
            {"SQLALCHEMY_DATABASE_URI": self.url, "TESTING": True, "LOG_LEVEL": "WARNING"}
        )
        self.engine = create_engine(self.url)
        self.facts: dict[str, Any] = {}

    def build(self) -> None:
        """Migrate, seed the world and the ledger, write balances, and verify them."""
        log(f"{self.label}: {make_url(self.url).render_as_string(hide_password=True)}")
        with self.app.app_context():
            flask_migrate.upgrade()
            facility_ids, lot_ids, self.token = seed_world(self.app)
            ledger = Ledger(facility_ids, lot_ids)
            insert_movements(self.url, ledger, self.wanted)
            write_balances(ledger)
            problems = verify(db.session)
            self.facts["movements"] = db.session.scalar(text("SELECT count(*) FROM stock_movement"))
            db.session.rollback()
            if problems:
                raise SystemExit(f"{self.label}: seeded ledger does not verify: {problems[:3]}")
        self.facility_id = facility_ids[0]
        self.client = self.app.test_client()
        api_ids = [row["id"] for row in self.http()["items"]]
        if api_ids != [row.id for row in self.floor()]:
            raise SystemExit("endpoint and floor disagree; the benchmark would be meaningless")
        self.facts["balance_rows_returned"] = len(api_ids)

    def http(self) -> Any:
        """GET the balance endpoint through the Flask test client."""
        response = self.client.get(
            f"/api/v1/facilities/{self.facility_id}/stock?per_page=100",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        if response.status_code != 200:
            raise SystemExit(f"endpoint failed: {response.status_code} {response.json}")
        return response.json

    def floor(self) -> list[Any]:
        """The same page and count in hand-written SQL."""
        with self.engine.connect() as conn:
            rows = conn.execute(text(FLOOR_SQL), {"facility": self.facility_id}).all()
            conn.execute(text(FLOOR_COUNT_SQL), {"facility": self.facility_id}).scalar()
        return rows

    def close(self, keep: bool) -> None:
        """Release connections and drop the database unless asked to keep it."""
        self.engine.dispose()
        with self.app.app_context():
            db.engine.dispose()
        if not keep:
            drop_database(self.url)


def time_interleaved(targets: list[Target], runs: int) -> dict[str, dict[str, Any]]:
    """Alternate the targets call by call, so machine noise hits both sizes alike."""
    samples = {t.label: {"http": [], "floor": []} for t in targets}
    for target in targets:
        for _ in range(5):
            target.http()
            target.floor()
    for i in range(runs):
        for target in targets if i % 2 == 0 else reversed(targets):
            for kind in ("http", "floor"):
                call = getattr(target, kind)
                start = time.perf_counter()
                call()
                samples[target.label][kind].append((time.perf_counter() - start) * 1000)
    return {
        t.label: {**t.facts, **{k: summary(v) for k, v in samples[t.label].items()}}
        for t in targets
    }


def main() -> None:
    """Seed both sizes, time them interleaved, print the table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL server URL (else SQLite)")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", metavar="PATH", help="also write the JSON result here")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    args = parser.parse_args()
    targets = [
        Target("small", args.postgres, args.small),
        Target("large", args.postgres, args.large),
    ]
    try:
        for target in targets:
            target.build()
        log(f"timing {args.runs} interleaved rounds")
        results: dict[str, Any] = {
            "dialect": make_url(targets[0].url).get_backend_name(),
            **time_interleaved(targets, args.runs),
        }
    finally:
        for target in targets:
            target.close(args.keep)
    small, large = results["small"], results["large"]
    for kind in ("http", "floor"):
        results[f"ratio_{kind}_large_over_small"] = round(
            large[kind]["median_ms"] / small[kind]["median_ms"], 3
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
