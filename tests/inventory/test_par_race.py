"""Simultaneous replacements of one facility's par levels through a real threaded HTTP server.

Each PUT replaces the whole set; run together they must serialise: every one ends in 200
(or a clean 409 to retry), never a 500 from the unique (facility, part) key, and the
facility is left holding exactly one of the sets that were sent.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request

import pytest

from supply_app.catalog.service import get_part_by_number
from supply_app.extensions import db
from supply_app.inventory import service
from tests.conftest import make_test_app
from tests.inventory.test_race import live_server

THREADS = 16


def put(base: str, token: str, path: str, body: dict) -> tuple[int, dict]:
    """PUT JSON and return (status, parsed body) for success and error alike."""
    request = urllib.request.Request(  # noqa: S310 - http to our loopback server
        base + path,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


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
        barrier = threading.Barrier(THREADS)
        results: list[tuple[int, dict]] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            barrier.wait()
            outcome = put(base, token, f"/api/v1/facilities/{facility_id}/par-levels", sets[n % 2])
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
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
@pytest.mark.skipif(
    not os.environ.get("SUPPLY_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the suite is running on SQLite; this race runs when it runs on PostgreSQL",
)
def test_par_level_race_on_postgresql(database_factory):
    """PostgreSQL: concurrent replacements serialise on the facility row; no 500."""
    run_par_race(database_factory("parrace"))


def test_par_level_race_on_sqlite(tmp_path):
    """SQLite: BEGIN IMMEDIATE serialises the replacements; no 500."""
    run_par_race(f"sqlite:///{tmp_path}/parrace.sqlite3")
