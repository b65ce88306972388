"""`supply-app cases reprice`."""

from __future__ import annotations

from sqlalchemy import select

from supply_app.cases import fees
from supply_app.cases.models import ProcedureCase
from supply_app.cases.repricing import reprice_cases
from supply_app.extensions import db
from tests.support.cases import case_body
from tests.support.factories import make_actor, make_facility


def test_cli_reprice_reports_counts(app):
    """After an override the CLI reprices stale cases and says how many changed."""
    facility = make_facility("ASC")
    clinician = make_actor(app, "clinician", [facility])
    with_device = case_body(
        facility, "C-1", procedures=[{"code": "64640", "nerves": ["afcn"]}, {"code": "C9809"}]
    )
    first = clinician.post("/api/v1/cases", json=with_device).json
    clinician.post("/api/v1/cases", json=case_body(facility, "C-2"))
    fees.set_override(
        db.session, year=2026, code="C9809", site="ASC", amount_cents=17_500, note=None, actor=None
    )
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["cases", "reprice", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "2 case(s) repriced, 1 with changed amounts" in result.output
    db.session.expire_all()
    case = db.session.get(ProcedureCase, first["id"])
    assert case.device_cents == 17_500
    assert case.schedule_version == fees.current_schedule(db.session, 2026).version

    again = app.test_cli_runner().invoke(args=["cases", "reprice"])
    assert "0 case(s) repriced" in again.output
    bad = app.test_cli_runner().invoke(args=["cases", "reprice", "--year", "1999"])
    assert bad.exit_code != 0


def test_reprice_in_batches_reports_progress(app, monkeypatch):
    """Long runs go batch by batch, reporting progress after each, and finish every case."""
    facility = make_facility("HOPD")
    clinician = make_actor(app, "clinician", [facility])
    for n in range(3):
        body = case_body(
            facility,
            f"B-{n}",
            procedures=[{"code": "64640", "nerves": ["afcn"]}, {"code": "C9809"}],
        )
        assert clinician.post("/api/v1/cases", json=body).status_code == 201
    fees.set_override(
        db.session, year=2026, code="C9809", site="HOPD", amount_cents=9_900, note=None, actor=None
    )
    monkeypatch.setattr("supply_app.cases.repricing.REPRICE_BATCH", 2)
    seen = []
    report = reprice_cases(
        db.session, user=None, progress=lambda done, total: seen.append((done, total))
    )
    db.session.commit()
    assert seen == [(2, 3), (3, 3)]
    assert (report.repriced, report.changed, report.failed) == (3, 3, [])
    db.session.expire_all()
    assert {c.device_cents for c in db.session.scalars(select(ProcedureCase))} == {9_900}
