"""Demo cases: recorded once through the service after the demo stock, then left alone."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from supply_app.cases.demo import load_demo_cases
from supply_app.cases.models import CaseSupply, ProcedureCase
from supply_app.demo import DEMO_FACILITIES, load_demo
from supply_app.extensions import db
from supply_app.inventory.demo import load_demo_stock
from supply_app.inventory.models import Lot


def test_demo_cases_are_idempotent(app):
    """With demo stock the five cases are recorded and consume stock, each under its payer;
    a rerun adds nothing."""
    load_demo(db.session)
    load_demo_stock(db.session, [spec["code"] for spec in DEMO_FACILITIES])
    lines = load_demo_cases(db.session)
    db.session.commit()
    assert any("recorded" in line for line in lines), lines
    cases = db.session.scalars(select(ProcedureCase).order_by(ProcedureCase.reference)).all()
    assert [c.reference for c in cases] == [
        "DEMO-A-001",
        "DEMO-H-001",
        "DEMO-H-002",
        "DEMO-H-003",
        "DEMO-O-001",
    ]
    assert all(c.supplies for c in cases)
    payers = {c.reference: (c.payer.name, c.billed) for c in cases}
    assert payers["DEMO-H-002"] == ("Active duty (not billed)", False)
    assert payers["DEMO-A-001"] == ("Commercial, 120% of Medicare", True)  # the ASC's default
    assert payers["DEMO-H-001"] == ("Medicare national", True)
    assert {c.equipment_cents for c in cases} == {720}  # $7,200 over 5 years of 200 cases
    assert load_demo_cases(db.session) == ["Demo cases: already recorded."]
    load_demo(db.session)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ProcedureCase)) == 5


def test_demo_cases_follow_the_demo_stock(app):
    """load_demo records the cases when it loaded stock, else skips them writing nothing."""
    lines = load_demo(db.session)
    db.session.commit()
    recorded = db.session.scalar(select(func.count()).select_from(ProcedureCase))
    supplies = db.session.scalar(select(func.count()).select_from(CaseSupply))
    if any(line.startswith("Demo cases skipped") for line in lines):
        assert (recorded, supplies) == (0, 0)
    else:
        assert any(line.startswith("Demo cases recorded") for line in lines), lines
        assert recorded == 5
        assert supplies >= 10


def test_demo_loads_when_its_facilities_are_on_different_days(app, clock):
    """At 05:30 UTC it is already the next day in Virginia but not in California: the same
    demo lot at each facility keeps one expiry, so the demo still loads whole."""
    clock.at(datetime(2026, 11, 29, 5, 30, tzinfo=UTC))
    lines = load_demo(db.session)
    db.session.commit()
    assert any(line.startswith("Demo cases recorded") for line in lines), lines
    expiries = db.session.execute(
        select(Lot.lot_number, func.count(func.distinct(Lot.expiry_date))).group_by(Lot.lot_number)
    ).all()
    assert all(count == 1 for _, count in expiries)
