"""A payer's fee table replaced while cases are recorded and repriced (PostgreSQL).

Each table the test loads pays its own facility amount for 64640 at the HOPD, so a case's
collection tells which table priced it. Whatever interleaving the server chose, every case
must end priced by exactly the table of the revision it names (a revision that existed),
its stale flag must be true exactly when that revision is not the payer's current one, and
no two replacements may share a revision or leave their rows mixed.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import flask_migrate
import pytest
from flask import Flask, request
from sqlalchemy import select

from supply_app.cases.models import ProcedureCase
from supply_app.extensions import db
from supply_app.payers import service as payer_service
from supply_app.payers.models import PayerFee
from tests.conftest import make_test_app
from tests.support.factories import make_actor, make_facility
from tests.support.live import at_once, call, on_postgresql, serving
from tests.support.payers import HEADER

RECORDERS = 12
REPLACERS = 4
REPRICERS = 2
PROFESSIONAL = Decimal("101.50")


def table(facility_amount: Decimal) -> str:
    """A TRICARE-style table paying facility_amount for 64640 at the HOPD."""
    return (
        HEADER
        + f"64640,HOPD,facility,,{facility_amount},2026-01-01,\n"
        + f"64640,HOPD,professional,,{PROFESSIONAL},2026-01-01,\n"
    )


def seed(url: str) -> tuple[Flask, dict[str, Any]]:
    """A migrated app: an HOPD, a clinician, finance, and a fee-table payer (revision 1)."""
    app = make_test_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        facility = make_facility("HOPD", cf_track="qualifying_apm")
        clinician = make_actor(app, "clinician", [facility])
        finance = make_actor(app, "finance", all_facilities=True)
        seeded = {
            "facility": facility.id,
            "clinician": clinician.token,
            "finance": finance.token,
        }
        db.session.remove()
    return app, seeded


def _case(seeded: dict[str, Any], payer_id: int, n: int) -> dict[str, Any]:
    # One nerve: the collection is the table's facility amount + 101.50.
    return {
        "facility_id": seeded["facility"],
        "reference": f"RACE-{n}",
        "date_of_service": "2026-03-02",
        "laterality": "RT",
        "procedures": [{"code": "64640", "nerves": ["afcn"]}],
        "payer_id": payer_id,
    }


def run_race(app: Flask, seeded: dict[str, Any]) -> None:
    """Record, replace and reprice at once; then check every case against its revision."""
    amounts: dict[int, Decimal] = {}
    with serving(app) as base:
        finance, clinician = seeded["finance"], seeded["clinician"]
        status, payer = call(
            base, finance, "POST", "/api/v1/payers", {"name": "TRICARE", "basis": "fee_table"}
        )
        assert status == 201, payer
        payer_id = payer["id"]
        status, loaded = call(
            base,
            finance,
            "PUT",
            f"/api/v1/payers/{payer_id}/fees",
            {"csv": table(Decimal("800.00"))},
        )
        assert status == 200, loaded
        for n in range(RECORDERS):  # some cases before the race, to be repriced during it
            assert (
                call(base, clinician, "POST", "/api/v1/cases", _case(seeded, payer_id, 1000 + n))[0]
                == 201
            )
        replacements = [Decimal("810.00") + n for n in range(REPLACERS)]
        calls = [
            lambda n=n: (
                "record",
                call(base, clinician, "POST", "/api/v1/cases", _case(seeded, payer_id, n)),
            )
            for n in range(RECORDERS)
        ]
        calls += [
            lambda a=a: (
                "replace",
                a,
                call(base, finance, "PUT", f"/api/v1/payers/{payer_id}/fees", {"csv": table(a)}),
            )
            for a in replacements
        ]
        calls += [
            lambda: ("reprice", call(base, finance, "POST", "/api/v1/cases/reprice", {}))
            for _ in range(REPRICERS)
        ]  # fmt: skip
        outcomes = at_once(calls)
        # Every call succeeded: a replacement waits its turn, it is never a 500 or a 409.
        for outcome in outcomes:
            assert outcome[-1][0] in (200, 201), outcome
        # Each replacement got a revision of its own: 2 for the first table, then 3..6.
        amounts[2] = Decimal("800.00")
        for outcome in outcomes:
            if outcome[0] == "replace":
                amount, (_, body) = outcome[1], outcome[2]
                assert body["revision"] not in amounts, (body["revision"], amounts)
                amounts[body["revision"]] = amount
                assert [Decimal(r["amount"]) for r in body["items"]] == [amount, PROFESSIONAL]
        assert sorted(amounts) == list(range(2, 3 + REPLACERS))
        final = max(amounts)
        assert_consistent(app, base, seeded, payer_id, amounts, final)
        status, report = call(base, finance, "POST", "/api/v1/cases/reprice", {})
        assert status == 200, report
        assert report["failed"] == [], report
        assert_consistent(app, base, seeded, payer_id, amounts, final, all_current=True)


def assert_consistent(app, base, seeded, payer_id, amounts, final, all_current=False) -> None:
    """Each case priced by the table of the revision it names; stale flags exact."""
    finance = seeded["finance"]
    status, payer = call(base, finance, "GET", f"/api/v1/payers/{payer_id}")
    assert (status, payer["revision"]) == (200, final)
    status, fees = call(base, finance, "GET", f"/api/v1/payers/{payer_id}/fees")
    assert [Decimal(r["amount"]) for r in fees["items"]] == [amounts[final], PROFESSIONAL]
    status, listed = call(base, finance, "GET", "/api/v1/cases?per_page=100")
    assert status == 200, listed
    assert listed["meta"]["total"] == 2 * RECORDERS, listed["meta"]
    status, report = call(base, finance, "GET", "/api/v1/reports/case-margin?per_page=100")
    stale_in_report = {row["case_id"]: row["stale_price"] for row in report["items"]}
    with app.app_context():
        stamped = dict(
            db.session.execute(select(ProcedureCase.id, ProcedureCase.payer_revision)).all()
        )
        assert (
            db.session.scalar(select(PayerFee.id).where(PayerFee.payer_id == payer_id).offset(2))
            is None
        )
        db.session.remove()
    stale_cases = 0
    for row in listed["items"]:
        revision = stamped[row["id"]]
        assert revision in amounts, (row["reference"], revision)
        want = amounts[revision] + PROFESSIONAL
        assert Decimal(row["expected_collection"]) == want, (row["reference"], revision, row)
        stale = revision != final
        stale_cases += stale
        assert row["stale_price"] is stale, (row["reference"], revision, final)
        assert stale_in_report[row["id"]] is stale
        if all_current:
            assert not stale
    assert report["totals"]["stale_price_cases"] == stale_cases


@pytest.mark.pg
@on_postgresql
def test_a_fee_table_replaced_while_cases_are_recorded_and_repriced(database_factory):
    """Recorders, replacers and repricers released at once, then a final reprice."""
    app, seeded = seed(database_factory("payerrace"))
    run_race(app, seeded)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.pg
@on_postgresql
def test_a_table_replaced_between_reading_the_payer_and_its_rows(database_factory, monkeypatch):
    """Staged: a recording reads the payer, a replacement commits, then the recording prices
    (it once read the table only then, and named the old revision over the new table). The
    case must name the revision whose table priced it."""
    app, seeded = seed(database_factory("payerstage"))
    reached, release = threading.Event(), threading.Event()
    original, armed = payer_service.terms, [True]

    def slow_terms(payer, wage_index):
        # The first case recorded waits here: after it read the payer, before it prices.
        if armed and request.path == "/api/v1/cases":
            armed.clear()
            reached.set()
            release.wait(10)
        return original(payer, wage_index)

    monkeypatch.setattr("supply_app.cases.pricing.terms", slow_terms)
    with serving(app) as base:
        finance, clinician = seeded["finance"], seeded["clinician"]
        payer = call(
            base, finance, "POST", "/api/v1/payers", {"name": "TRICARE", "basis": "fee_table"}
        )[1]
        payer_id = payer["id"]
        call(
            base,
            finance,
            "PUT",
            f"/api/v1/payers/{payer_id}/fees",
            {"csv": table(Decimal("800.00"))},
        )
        recorded = []
        recorder = threading.Thread(
            target=lambda: recorded.append(
                call(base, clinician, "POST", "/api/v1/cases", _case(seeded, payer_id, 1))
            ),
        )
        recorder.start()
        assert reached.wait(10)
        replaced = []
        replacer = threading.Thread(
            target=lambda: replaced.append(
                call(
                    base,
                    finance,
                    "PUT",
                    f"/api/v1/payers/{payer_id}/fees",
                    {"csv": table(Decimal("900.00"))},
                )
            )
        )
        replacer.start()
        replacer.join(2)  # it commits now, or waits for the recording (either is sound)
        release.set()
        recorder.join()
        replacer.join()
        assert recorded[0][0] == 201, recorded
        assert replaced[0][0] == 200, replaced
        amounts = {2: Decimal("800.00"), 3: Decimal("900.00")}
        with app.app_context():
            revision = db.session.scalar(select(ProcedureCase.payer_revision))
            db.session.remove()
        case = recorded[0][1]
        assert Decimal(case["expected_collection"]) == amounts[revision] + PROFESSIONAL, (
            revision,
            case["expected_collection"],
        )
    with app.app_context():
        db.engine.dispose()


@pytest.mark.pg
@on_postgresql
def test_a_payer_made_a_default_while_it_is_deactivated(database_factory):
    """An admin makes a payer a facility's default as another deactivates it, ten times:
    each time exactly one wins (the other gets 422 or 409 saying why), and a facility never
    ends up defaulting to a deactivated payer."""
    app = make_test_app(database_factory("payerdefault"))
    with app.app_context():
        flask_migrate.upgrade()
        facility = make_facility("HOPD")
        admin = make_actor(app, "admin", all_facilities=True)
        payer = payer_service.create_payer(
            db.session, data={"name": "Race payer", "basis": "not_billed"}, actor=None
        )
        db.session.commit()
        ids = {"facility": facility.id, "payer": payer.id, "medicare": facility.default_payer_id}
        token = admin.token
        db.session.remove()
    with serving(app) as base:
        for _ in range(10):
            back = {"default_payer_id": ids["medicare"]}
            assert (
                call(base, token, "PATCH", f"/api/v1/facilities/{ids['facility']}", back)[0] == 200
            )
            assert (
                call(base, token, "PATCH", f"/api/v1/payers/{ids['payer']}", {"active": True})[0]
                == 200
            )
            answers = at_once(
                [
                    lambda: call(
                        base,
                        token,
                        "PATCH",
                        f"/api/v1/facilities/{ids['facility']}",
                        {"default_payer_id": ids["payer"]},
                    ),
                    lambda: call(
                        base, token, "PATCH", f"/api/v1/payers/{ids['payer']}", {"active": False}
                    ),
                ]
            )
            assert sorted(status for status, _ in answers) in ([200, 409], [200, 422]), answers
            _, facility_now = call(base, token, "GET", f"/api/v1/facilities/{ids['facility']}")
            _, payer_now = call(base, token, "GET", f"/api/v1/payers/{ids['payer']}")
            assert not (
                facility_now["default_payer_id"] == ids["payer"] and not payer_now["active"]
            )
