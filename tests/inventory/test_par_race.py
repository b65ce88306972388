"""Simultaneous replacements of one facility's par levels through a real threaded HTTP server.

Each PUT replaces the whole set; run together they must serialise: every one ends in 200
(or a clean 409 to retry), never a 500 from the unique (facility, part) key, and the
facility is left holding exactly one of the sets that were sent.
"""

from __future__ import annotations

import pytest

from supply_app.catalog.service import get_part_by_number
from supply_app.extensions import db
from supply_app.inventory import service
from tests.conftest import make_test_app
from tests.inventory.test_race import live_server
from tests.support.live import at_once, call, on_postgresql

THREADS = 16


def run_par_race(url: str) -> None:
    """THREADS clients replace the par levels at once, with two different sets."""
    with live_server(url) as (base, token, facility_id, _, tip_id):
        with make_test_app(url).app_context():
            cartridge_id = get_part_by_number(db.session, "CRX2111-10").id
            db.engine.dispose()
        sets = [
            {"levels": [{"part_id": tip_id, "min_eaches": 5, "max_eaches": 20}]},
            {
                "levels": [
                    {"part_id": cartridge_id, "min_eaches": 10, "max_eaches": 40},
                    {"part_id": tip_id, "min_eaches": 8, "max_eaches": 30},
                ]
            },
        ]
        path = f"/api/v1/facilities/{facility_id}/par-levels"
        results = at_once(
            [
                lambda levels=sets[n % 2]: call(base, token, "PUT", path, levels)
                for n in range(THREADS)
            ]
        )
    assert {status for status, _ in results} <= {200, 409}, results
    assert any(status == 200 for status, _ in results)
    check = make_test_app(url)
    with check.app_context():
        held = {
            (p.part_id, p.min_eaches, p.max_eaches)
            for p in service.par_levels(db.session, facility_id)
        }
        assert held in [
            {(lv["part_id"], lv["min_eaches"], lv["max_eaches"]) for lv in s["levels"]}
            for s in sets
        ]
        db.engine.dispose()


@pytest.mark.pg
@on_postgresql
def test_par_level_race_on_postgresql(database_factory):
    """PostgreSQL: concurrent replacements serialise on the facility row; no 500."""
    run_par_race(database_factory("parrace"))


def test_par_level_race_on_sqlite(tmp_path):
    """SQLite: BEGIN IMMEDIATE serialises the replacements; no 500."""
    run_par_race(f"sqlite:///{tmp_path}/parrace.sqlite3")
