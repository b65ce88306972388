"""One winner per return: simultaneous credits of one return, and a credit racing the
reversal of the same return, through a real threaded server released at one moment."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from flask import Flask

from supply_app.extensions import db
from supply_app.inventory.models import VendorReturn
from tests.conftest import make_test_app
from tests.support.factories import make_actor, sync_parts
from tests.support.inventory import stock
from tests.support.live import at_once, call, migrated_facility, on_postgresql, serving

RACERS = 8
PAIRS = 6


def seed(url: str) -> tuple[Flask, str, int, list[dict]]:
    """A facility whose admin (and token) returned PAIRS + 1 lots to the vendor;
    the returns as the API answered them."""
    app = make_test_app(url)
    with app.app_context():
        facility = migrated_facility(app, "RACE-RTV", "RTV001")
        parts = sync_parts(app)
        actor = make_actor(app, "admin", [facility])
        lots = [stock(facility, parts["STT2309-5"], 5, 5_000, f"RTV-{n}") for n in range(PAIRS + 1)]
        db.session.commit()
        returns = [
            actor.post(
                f"/api/v1/facilities/{facility.id}/vendor-returns",
                json={
                    "lot_id": lot.id,
                    "eaches": 2,
                    "rga_number": f"RGA-{lot.id}",
                    "rga_date": date.today().isoformat(),
                },
            ).json
            for lot in lots
        ]
        facility_id, token = facility.id, actor.token
        db.session.remove()
    return app, token, facility_id, returns


def credit(base: str, token: str, return_id: int, memo: str) -> tuple[int, dict]:
    """Record the vendor's credit for a return, dated today."""
    body = {"credit_memo": memo, "credited_on": date.today().isoformat()}
    return call(base, token, "POST", f"/api/v1/vendor-returns/{return_id}/credit", body)


def run_return_races(url: str) -> None:
    """Eight credits of one return: one 200, seven 409s, one memo kept. A credit racing the
    reversal of its return: exactly one wins, and a credited return is never reversed."""
    app, token, _facility_id, returns = seed(url)
    first, pairs = returns[0], returns[1:]
    with serving(app) as base:
        answers = at_once(
            [lambda n=n: credit(base, token, first["id"], f"MEMO-{n}") for n in range(RACERS)]
        )
        raced = [
            at_once(
                [
                    lambda r=r: credit(base, token, r["id"], "MEMO-PAIR"),
                    lambda r=r: call(
                        base,
                        token,
                        "POST",
                        f"/api/v1/movements/{r['movement']['id']}/reverse",
                        {"reason": "returned by mistake"},
                    ),
                ]
            )
            for r in pairs
        ]
    assert Counter(status for status, _ in answers) == {200: 1, 409: RACERS - 1}, answers
    (winner,) = [body for status, body in answers if status == 200]
    with app.app_context():
        kept = db.session.get(VendorReturn, first["id"])
        assert kept.credit_memo == winner["credit_memo"]
        for pair, outcome in zip(pairs, raced, strict=True):
            statuses = sorted(status for status, _ in outcome)
            assert statuses in ([201, 409], [200, 409]), outcome
            record = db.session.get(VendorReturn, pair["id"])
            reversed_ = 201 in statuses
            assert (record.credited_on is None) == reversed_, (outcome, record.credited_on)
        db.session.remove()


@pytest.mark.pg
@on_postgresql
def test_return_races_on_postgresql(database_factory):
    """PostgreSQL: the return's row lock decides."""
    run_return_races(database_factory("returnrace"))


def test_return_races_on_sqlite(tmp_path):
    """SQLite: write transactions are serialised; the same outcome."""
    run_return_races(f"sqlite:///{tmp_path}/returnrace.sqlite3")
