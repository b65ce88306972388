"""Many clients take the last units at once through a real threaded HTTP server.

Exactly as many issues succeed as stock allows; every other one is a 409 insufficient-stock
carrying requested/available; the balance never goes negative and still equals its ledger.
Then many clients receive the first eaches of one new lot at once: all succeed, one lot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from supply_app.auth.service import create_user, issue_token
from supply_app.catalog.service import get_part_by_number
from supply_app.extensions import db
from supply_app.inventory import service
from supply_app.inventory.models import StockBalance
from tests.conftest import make_test_app
from tests.support.inventory import in_days
from tests.support.live import at_once, call, migrated_facility, on_postgresql, serving

THREADS = 24
EACH_TAKES = 2
STOCK = 15  # 7 clients can be served; one each is left over


@contextmanager
def live_server(url: str) -> Iterator[tuple[str, str, int, int, int]]:
    """Migrate a fresh database, seed one stocked lot, serve the app on 127.0.0.1."""
    app = make_test_app(url)
    with app.app_context():
        facility = migrated_facility(app, "RACE-1", "RACE01")
        user = create_user(
            db.session,
            username="racer",
            display_name="Racer",
            role="materials",
            password="correct-horse-battery",
            facility_ids=[facility.id],
        )
        _, token = issue_token(db.session, user=user, name="race", days=1)
        lot = service.receive(
            db.session,
            facility=facility,
            part=get_part_by_number(db.session, "STT2309-5"),
            lot_number="RACE-LOT",
            expiry_date=in_days(300),
            eaches=STOCK,
            value_cents=100_001,
            actor=None,
            reason="opening_balance",
        ).lot
        db.session.commit()
        facility_id, lot_id, part_id = facility.id, lot.id, lot.part_id
    with serving(app) as base:
        yield base, token, facility_id, lot_id, part_id


def stampede(base: str, token: str, path: str, body: dict) -> list[tuple[int, dict]]:
    """THREADS clients POST the same body at the same moment; returns every outcome."""
    return at_once([lambda: call(base, token, "POST", path, body)] * THREADS)


def cents(amount: str) -> int:
    """A JSON money string as integer cents."""
    return int(Decimal(amount) * 100)


def run_races(url: str) -> None:
    """The last-units race, then a race of first receipts of one new lot."""
    with live_server(url) as (base, token, facility_id, lot_id, part_id):
        taken = stampede(
            base,
            token,
            f"/api/v1/facilities/{facility_id}/issues",
            {"lot_id": lot_id, "eaches": EACH_TAKES},
        )
        received = stampede(
            base,
            token,
            f"/api/v1/facilities/{facility_id}/receipts",
            {
                "part_id": part_id,
                "lot_number": "NEW-LOT",
                "expiry_date": in_days(100).isoformat(),
                "eaches": 1,
                "unit_cost": "10.00",
                "reason": "donation",
            },
        )
    statuses = Counter(status for status, _ in taken)
    served = STOCK // EACH_TAKES
    assert statuses == {201: served, 409: THREADS - served}, taken
    for status, body in taken:
        if status == 409:
            assert body["type"] == "/problems/insufficient-stock"
            assert body["requested"] == EACH_TAKES
            assert body["available"] == STOCK - served * EACH_TAKES
    issued_value = -sum(cents(body["value"]) for status, body in taken if status == 201)
    assert [status for status, _ in received] == [201] * THREADS, received
    assert len({body["lot_id"] for _, body in received}) == 1
    check = make_test_app(url)
    with check.app_context():
        assert service.verify(db.session) == []
        balances = dict(
            db.session.execute(db.select(StockBalance.lot_id, StockBalance.on_hand)).all()
        )
        value = db.session.scalar(
            db.select(StockBalance.value_cents).where(StockBalance.lot_id == lot_id)
        )
        assert balances == {lot_id: STOCK - served * EACH_TAKES, received[0][1]["lot_id"]: THREADS}
        assert value + issued_value == 100_001
        db.engine.dispose()


@pytest.mark.pg
@on_postgresql
def test_last_units_race_on_postgresql(database_factory):
    """PostgreSQL: row lock + conditional UPDATE serve exactly the stock there is."""
    run_races(database_factory("race"))


def test_last_units_race_on_sqlite(tmp_path):
    """SQLite: BEGIN IMMEDIATE + conditional UPDATE serve exactly the stock there is."""
    run_races(f"sqlite:///{tmp_path}/race.sqlite3")
