"""The ledger itself: append-only, verify, serial lots, scanning and the interface others use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from supply_app.clock import utcnow
from supply_app.errors import Conflict, InvalidInput
from supply_app.extensions import db
from supply_app.inventory import service
from supply_app.inventory.models import LedgerIsAppendOnly, StockMovement
from tests.support.factories import make_actor, make_facility, price_part, sync_parts
from tests.support.inventory import GTIN_TIP, balance, in_days, ledger_rows, register_gtin, stock


@pytest.fixture
def parts(app):
    """The catalog, by part number."""
    return sync_parts(app)


# --------------------------------------------------------------------------- append-only


def test_movements_cannot_be_updated_or_deleted_through_the_orm(parts):
    """Changing or deleting a movement, singly or in bulk, raises before any SQL runs."""
    facility = make_facility()
    stock(facility, parts["STT2309-5"], 2, 100)
    movement = db.session.scalar(db.select(StockMovement))
    movement.eaches = 99
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(db.select(StockMovement)))
    with pytest.raises(LedgerIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(LedgerIsAppendOnly):
        db.session.execute(db.update(StockMovement).values(eaches=5))
    db.session.rollback()
    with pytest.raises(LedgerIsAppendOnly):
        db.session.execute(db.delete(StockMovement))
    db.session.rollback()
    assert ledger_rows() == 1


def test_database_refuses_raw_sql_update_of_a_movement(parts):
    """A trigger stops even hand-written SQL from rewriting history."""
    facility = make_facility()
    stock(facility, parts["STT2309-5"], 2, 100)
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE stock_movement SET eaches = 7"))
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("DELETE FROM stock_movement"))
        db.session.rollback()
    assert db.session.scalar(text("SELECT eaches FROM stock_movement")) == 2


# --------------------------------------------------------------------------- verify


def test_verify_cli_passes_clean_ledger_and_names_tampered_rows(app, parts):
    """`supply-app inventory verify` exits 0 when clean and 1 naming each differing row."""
    facility = make_facility()
    lot = stock(facility, parts["STT2309-5"], 5, 1000, lot_number="GOOD")
    bad = stock(facility, parts["CRX2111-10"], 10, 3000, lot_number="BAD")
    service.issue(db.session, facility=facility, lot=lot, eaches=2, actor=None)
    db.session.commit()
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["inventory", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "all 2 balances match" in clean.output
    # Simulate drift that only a bug or a hand edit could cause.
    db.session.execute(
        text("UPDATE stock_balance SET on_hand = on_hand + 1 WHERE lot_id = :lot"),
        {"lot": bad.id},
    )
    db.session.commit()
    drifted = runner.invoke(args=["inventory", "verify"])
    assert drifted.exit_code == 1
    assert f"lot BAD (id {bad.id}, CRX2111-10)" in drifted.output
    assert "balance 11 eaches / 30.00, ledger 10 eaches / 30.00" in drifted.output
    assert "GOOD" not in drifted.output


# --------------------------------------------------------------------------- lots


def test_serial_is_a_lot_of_one(parts):
    """A serialised handpiece is received once; a second receipt of the same serial is 409."""
    facility, other = make_facility(), make_facility()
    handpiece = parts["IST2221"]
    kwargs = dict(
        part=handpiece,
        lot_number="SN-1",
        serial="SN-1",
        expiry_date=in_days(3650),
        value_cents=950_000,
        actor=None,
        reason="opening_balance",
    )
    with pytest.raises(InvalidInput):
        service.receive(db.session, facility=facility, eaches=2, **kwargs)
    service.receive(db.session, facility=facility, eaches=1, **kwargs)
    with pytest.raises(Conflict):
        service.receive(db.session, facility=other, eaches=1, **kwargs)
    db.session.rollback()


def test_lot_numbers_are_unique_per_part_not_globally(parts):
    """The same lot number on two parts is two lots."""
    facility = make_facility()
    tip = stock(facility, parts["STT2309-5"], 5, 100, lot_number="SAME")
    cart = stock(facility, parts["CRX2111-10"], 10, 100, lot_number="SAME")
    assert tip.id != cart.id
    assert service.find_lot(db.session, part=parts["STT2309-5"], lot_number="SAME") == tip


# --------------------------------------------------------------------------- interface


def test_interface_for_ordering_and_cases(parts):
    """receive with an order-line reference, issue to a case, case cost, burn rate, FEFO."""
    facility = make_facility()
    tip = parts["STT2309-5"]
    received = service.receive(
        db.session,
        facility=facility,
        part=tip,
        lot_number="PO-LOT",
        expiry_date=in_days(90),
        eaches=10,
        value_cents=2 * 125_000,
        actor=None,
        reference=("order_line", 41),
    )
    assert (received.reason, received.reference_type, received.reference_id) == (
        "order",
        "order_line",
        41,
    )
    used = service.issue(
        db.session, facility=facility, lot=received.lot, eaches=3, actor=None, reference=("case", 7)
    )
    case_cost = -db.session.scalar(
        db.select(db.func.sum(StockMovement.value_cents)).where(
            StockMovement.reference_type == "case", StockMovement.reference_id == 7
        )
    )
    assert case_cost == 75_000 == -used.value_cents
    assert service.on_hand_by_part(db.session, facility.id) == {tip.id: 7}
    yesterday = (utcnow() - timedelta(days=1)).date()
    assert service.issued_eaches_by_part(db.session, facility, yesterday) == {tip.id: 3}
    service.reverse(db.session, movement=used, actor=None, reason="case voided")
    assert service.issued_eaches_by_part(db.session, facility, yesterday) == {}
    assert service.pick_fefo(
        db.session, facility=facility, part=tip, eaches=10, on_date=facility.today()
    ) == [(received.lot, 10)]
    with pytest.raises(service.InsufficientStock) as short:
        service.issue(db.session, facility=facility, lot=received.lot, eaches=11, actor=None)
    assert short.value.members == {
        "requested": 11,
        "available": 10,
        "lot_id": received.lot.id,
        "lot_number": received.lot.lot_number,
        "part_number": tip.part_number,
    }
    assert short.value.detail == f"{tip.part_number} lot PO-LOT: 10 eaches on hand, 11 asked for."
    assert service.verify(db.session) == []
    db.session.commit()


# --------------------------------------------------------------------------- scanning


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("]d2010950110153000317271231" + "10ABC123", ("09501101530003", "ABC123", "2027-12-31")),
        ("]C1010950110153000317271231" + "10L-7\x1d21SN9", ("09501101530003", "SN9", "2027-12-31")),
        ("(01)09501101530003(17)271200(10)XY", ("09501101530003", "XY", "2027-12-31")),
        ("\x1d01095011015300031727063010Q1", ("09501101530003", "Q1", "2027-06-30")),
        ("0109501101530003172706301077", ("09501101530003", "77", "2027-06-30")),
    ],
)
def test_scan_reads_gs1(app, parts, raw, expected):
    """GS1-128, DataMatrix, HRI, FNC1 and bare AI-01 strings read into GTIN, lot, expiry."""
    register_gtin(parts["STT2309-5"])
    viewer = make_actor(app, "viewer")
    response = viewer.post("/api/v1/scan", json={"scan": raw})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["gs1"] is True
    assert (body["gtin"], body["lot_number"], body["expiry_date"]) == expected
    assert (body["part_number"], body["units_per_package"]) == ("STT2309-5", 5)


@pytest.mark.parametrize("raw", ["10D9T", "17ABC", "0112345", "LOT.42", "(lot)", "21-77"])
def test_plain_strings_are_never_read_as_gs1(app, raw):
    """A lot number that happens to start with digits of an AI stays a plain lot number."""
    viewer = make_actor(app, "viewer")
    body = viewer.post("/api/v1/scan", json={"scan": raw}).json
    assert body["gs1"] is False
    assert body["lot_number"] == raw
    assert body["gtin"] is None


@pytest.mark.parametrize(
    "raw", ["]d2010950110153000417271231", "]C1017x", "(01)0950110153000(17)271231"]
)
def test_broken_gs1_is_422(app, raw):
    """A string that claims GS1 but is unreadable (or has a bad check digit) is refused."""
    viewer = make_actor(app, "viewer")
    response = viewer.post("/api/v1/scan", json={"scan": raw})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_receive_and_issue_by_scan(app, parts):
    """A DataMatrix scan fills part, lot and expiry on receipt and names the lot on issue."""
    tip = parts["STT2309-5"]
    register_gtin(tip)
    facility = make_facility()
    materials = make_actor(app, "materials", [facility])
    expiry = in_days(400)
    raw = f"]d201{GTIN_TIP}17{expiry:%y%m%d}10SCAN-1"
    received = materials.post(
        f"/api/v1/facilities/{facility.id}/receipts",
        json={"scan": raw, "packs": 2, "unit_cost": "250.00", "reason": "donation"},
    )
    assert received.status_code == 201, received.json
    assert (received.json["part_number"], received.json["lot_number"]) == ("STT2309-5", "SCAN-1")
    assert (received.json["eaches"], received.json["expiry_date"]) == (10, expiry.isoformat())
    conflicting = materials.post(
        f"/api/v1/facilities/{facility.id}/receipts",
        json={
            "scan": raw,
            "lot_number": "OTHER",
            "packs": 1,
            "unit_cost": "1.00",
            "reason": "donation",
        },
    )
    assert conflicting.status_code == 422
    issued = materials.post(
        f"/api/v1/facilities/{facility.id}/issues", json={"scan": raw, "eaches": 4}
    )
    assert issued.status_code == 201, issued.json
    assert issued.json["lot_id"] == received.json["lot_id"]
    lot = service.get_lot(db.session, received.json["lot_id"])
    assert balance(facility, lot) == (6, 1500 * 100)


def test_plain_lot_number_scan_issues_that_lot(app, parts):
    """Scanning the plain text "10D9T" issues lot 10D9T, not AI 10 "D9T"."""
    facility = make_facility()
    lot = stock(facility, parts["STT2309-5"], 5, 500, lot_number="10D9T")
    clinician = make_actor(app, "clinician", [facility])
    issued = clinician.post(
        f"/api/v1/facilities/{facility.id}/issues", json={"scan": "10D9T", "eaches": 1}
    )
    assert issued.status_code == 201, issued.json
    assert issued.json["lot_id"] == lot.id


def test_demo_stock_is_idempotent_and_verifies(parts):
    """Demo stock loads once per facility, raises alerts, and leaves a clean ledger."""
    from supply_app.inventory.demo import load_demo_stock

    facility = make_facility(code="DEMO-X")
    price_part(parts["STT2309-5"], 125_000)
    first = load_demo_stock(db.session, ["DEMO-X", "NO-SUCH"])
    db.session.commit()
    rows = ledger_rows()
    assert "DEMO-X" in first[0]
    assert "NO-SUCH" not in first[0]
    assert load_demo_stock(db.session, ["DEMO-X", "NO-SUCH"]) == first
    assert ledger_rows() == rows == 5
    assert service.on_hand_by_part(db.session, facility.id)[parts["STT2309-5"].id] == 20
    kinds = {a["kind"] for a in service.alerts(db.session, facility)}
    assert kinds == {"below_min", "expiring"}
    assert service.verify(db.session) == []
