"""One winner per state change: simultaneous voids, and a void racing a bulk reprice.

Voids go through a real threaded HTTP server, released at the same moment. The reprice race
is staged on PostgreSQL with two sessions: a void holds its case while a reprice reaches it,
then commits; the reprice must see the void, not price over it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import text

from supply_app.auth.models import User
from supply_app.cases import fees
from supply_app.cases.models import ProcedureCase
from supply_app.cases.repricing import reprice_cases
from supply_app.cases.service import record_case, void_case
from supply_app.extensions import db
from tests.conftest import make_test_app
from tests.support.cases import case_body, receive_packs
from tests.support.factories import make_actor, make_facility, price_part, sync_parts
from tests.support.live import at_once, call, on_postgresql, serving

VOIDERS = 8


def seed(url: str) -> tuple[Flask, str, dict[str, int]]:
    """A migrated app with an HOPD, a clinician (and token), one bare case and one with tips."""
    app = make_test_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        parts = sync_parts(app)
        price_part(parts["STT2190-5"], 125_000)
        facility = make_facility("HOPD")
        actor = make_actor(app, "clinician", [facility])
        clinician, token = actor.user, actor.token
        tips = receive_packs(facility, parts["STT2190-5"], "TIP-RACE", 1)
        bare = record_case(db.session, user=clinician, data=_case(facility, "BARE"))
        supplied = record_case(
            db.session,
            user=clinician,
            data=_case(facility, "TIPS", supplies=[{"part_id": tips.part_id, "eaches": 2}]),
        )
        db.session.commit()
        ids = {
            "bare": bare.id,
            "supplied": supplied.id,
            "facility": facility.id,
            "lot": tips.id,
            "clinician": clinician.id,
        }
        db.session.remove()
    return app, token, ids


def _case(facility, reference: str, **overrides: Any) -> dict[str, Any]:
    """A case body as the service takes it (dates as dates)."""
    body = case_body(facility, reference, **overrides)
    return {**body, "date_of_service": date.fromisoformat(body["date_of_service"])}


def void_all_at_once(base: str, token: str, case_id: int) -> list[tuple[int, Any]]:
    """VOIDERS clients void one case at the same moment, each with its own reason."""
    return at_once(
        [
            lambda n=n: call(
                base, token, "POST", f"/api/v1/cases/{case_id}/void", {"reason": f"reason {n}"}
            )
            for n in range(VOIDERS)
        ]
    )


def run_void_race(url: str) -> None:
    """One 200 and the rest 409 naming the state; the winner's reason kept; stock back once."""
    app, token, ids = seed(url)
    with serving(app) as base:
        outcomes = {name: void_all_at_once(base, token, ids[name]) for name in ("bare", "supplied")}
        stock = call(base, token, "GET", f"/api/v1/facilities/{ids['facility']}/stock")
    for name, answers in outcomes.items():
        assert Counter(status for status, _ in answers) == {200: 1, 409: VOIDERS - 1}, answers
        (winner,) = [body for status, body in answers if status == 200]
        for status, body in answers:
            if status == 409:
                assert body["case_status"] == "voided", body
                assert "voided" in body["detail"]
        with app.app_context():
            case = db.session.get(ProcedureCase, ids[name])
            assert (case.status, case.void_reason) == ("voided", winner["void_reason"])
            db.session.remove()
    (row,) = [r for r in stock[1]["items"] if r["lot_id"] == ids["lot"]]
    assert row["on_hand"] == 5  # the two tips came back once, not once per void


@pytest.mark.pg
@on_postgresql
def test_simultaneous_voids_on_postgresql(database_factory):
    """PostgreSQL: the case row lock decides; every loser is a 409."""
    run_void_race(database_factory("voidrace"))


def test_simultaneous_voids_on_sqlite(tmp_path):
    """SQLite: BEGIN IMMEDIATE serialises the voids; the same outcome."""
    run_void_race(f"sqlite:///{tmp_path}/voidrace.sqlite3")


def _wait_for_a_lock_wait(app: Flask) -> None:
    """Return once some session of this database is waiting for a row lock."""
    with app.app_context():
        for _ in range(200):
            waiting = db.session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
            db.session.rollback()
            if waiting:
                db.session.remove()
                return
            time.sleep(0.05)
    pytest.fail("the reprice never waited for the voided case")


@pytest.mark.pg
@on_postgresql
def test_case_voided_during_a_reprice_is_not_repriced(database_factory):
    """A void that commits while a reprice waits for its case leaves the case unrepriced."""
    app, _token, ids = seed(database_factory("repricerace"))
    with app.app_context():
        fees.set_override(
            db.session,
            year=2026,
            code="C9809",
            site="HOPD",
            amount_cents=25_000,
            note=None,
            actor=None,
        )
        db.session.commit()
        before = db.session.get(ProcedureCase, ids["bare"]).schedule_version
        db.session.remove()
    held, release = threading.Event(), threading.Event()
    reports = []

    def void_and_hold() -> None:
        with app.app_context():
            actor = db.session.get(User, ids["clinician"])
            void_case(
                db.session,
                case=db.session.get(ProcedureCase, ids["bare"]),
                actor=actor,
                reason="during reprice",
            )
            held.set()
            release.wait(30)
            db.session.commit()
            db.session.remove()

    def reprice() -> None:
        with app.app_context():
            reports.append(reprice_cases(db.session, user=None, year=2026))
            db.session.commit()
            db.session.remove()

    voider = threading.Thread(target=void_and_hold)
    voider.start()
    assert held.wait(30)
    repricer = threading.Thread(target=reprice)
    repricer.start()
    _wait_for_a_lock_wait(app)
    release.set()
    voider.join()
    repricer.join()
    (report,) = reports
    with app.app_context():
        voided = db.session.get(ProcedureCase, ids["bare"])
        supplied = db.session.get(ProcedureCase, ids["supplied"])
        assert voided.status == "voided"
        assert voided.schedule_version == before, "a voided case was repriced"
        assert supplied.schedule_version != before
        assert (report.examined, report.repriced) == (1, 1)
        db.session.remove()
        db.engine.dispose()
