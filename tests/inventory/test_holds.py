"""A recalled lot is held at every door: each refuses with a 409 naming the recall and
writes nothing; waste and returns to the vendor (the dispositions) still go through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from supply_app.catalog.models import Part
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory import service
from supply_app.inventory.models import Lot, Recall, StockCount
from tests.support.cases import case_body, give_gtin, gs1_scan
from tests.support.factories import Actor, make_actor, make_facility, price_part, sync_parts
from tests.support.inventory import balance, hold, ledger_rows, stock

EXPIRY = date.today() + timedelta(days=300)


@dataclass
class Held:
    """Two facilities, a held lot at the first, a usable lot of the same part, and people."""

    home: Facility
    away: Facility
    tips: Part
    held: Lot
    usable: Lot
    recall: Recall
    materials: Actor
    clinician: Actor
    admin: Actor

    def url(self, door: str, facility: Facility | None = None) -> str:
        """The API path of a stock door at a facility (home by default)."""
        return f"/api/v1/facilities/{(facility or self.home).id}/{door}"


@pytest.fixture
def held(app) -> Held:
    """HELD-1 (10 eaches, on hold) and FREE-1 (10 eaches) of one tip at home."""
    parts = sync_parts(app)
    tips = parts["STT2190-5"]
    price_part(tips, 125_000)
    give_gtin(tips, "0081234500001", units=1)
    home, away = make_facility(), make_facility()
    held_lot = stock(home, tips, 10, 250_000, "HELD-1", expiry=EXPIRY)
    usable = stock(home, tips, 10, 250_000, "FREE-1", expiry=EXPIRY + timedelta(days=30))
    recall = hold([(tips, "HELD-1")])
    return Held(
        home=home,
        away=away,
        tips=tips,
        held=held_lot,
        usable=usable,
        recall=recall,
        materials=make_actor(app, "materials", [home, away]),
        clinician=make_actor(app, "clinician", [home]),
        admin=make_actor(app, "admin", all_facilities=True),
    )


def refused(response, world: Held) -> None:
    """A 409 lot-on-hold naming the recall and its notice."""
    assert response.status_code == 409, response.json
    body = response.json
    assert body["type"] == "/problems/lot-on-hold"
    assert body["recall_id"] == world.recall.id
    assert body["notice_number"] == "PCR-1"
    assert f"recall {world.recall.id}" in body["detail"]
    assert "HELD-1" in body["detail"]


def unchanged(world: Held, rows: int) -> None:
    """Nothing was written: same ledger length and the held lot's balance as placed."""
    db.session.commit()
    assert ledger_rows() == rows
    assert balance(world.home, world.held) == (10, 250_000)


def test_api_doors_refuse_a_held_lot(held):
    """Issue (by id and by scan), transfer, receipt, adjustment (up and down) and a count
    that differs are each a 409 naming the recall, and nothing is written."""
    rows = ledger_rows()
    scan = gs1_scan("00812345000016", "HELD-1", EXPIRY)
    attempts = [
        (held.clinician, "issues", {"lot_id": held.held.id, "eaches": 1}),
        (held.clinician, "issues", {"scan": scan, "eaches": 1}),
        (
            held.materials,
            "transfers",
            {"lot_id": held.held.id, "to_facility_id": held.away.id, "eaches": 1},
        ),
        (
            held.materials,
            "receipts",
            {
                "part_id": held.tips.id,
                "lot_number": "HELD-1",
                "expiry_date": EXPIRY.isoformat(),
                "eaches": 5,
                "unit_cost": "250.00",
                "reason": "donation",
            },
        ),
        (held.materials, "adjustments", {"lot_id": held.held.id, "eaches": 2, "reason": "found"}),
        (held.materials, "adjustments", {"lot_id": held.held.id, "eaches": -2, "reason": "lost"}),
        (held.materials, "counts", {"lot_id": held.held.id, "counted": 8}),
    ]
    for actor, door, body in attempts:
        refused(actor.post(held.url(door), json=body), held)
        unchanged(held, rows)
    assert db.session.scalar(select(func.count()).select_from(StockCount)) == 0


def test_a_count_that_agrees_is_recorded(held):
    """Counting a held lot moves nothing, so a count that matches the books is kept."""
    response = held.materials.post(held.url("counts"), json={"lot_id": held.held.id, "counted": 10})
    assert response.status_code == 201, response.json
    assert response.json["movement"] is None


def test_receipt_of_a_recalled_lot_never_seen_is_refused(held):
    """A recall may name a lot no shelf has yet: its first receipt is refused, no lot made."""
    hold([(held.tips, "NEVER-SEEN")], notice="PCR-2")
    response = held.materials.post(
        held.url("receipts"),
        json={
            "part_id": held.tips.id,
            "lot_number": "NEVER-SEEN",
            "expiry_date": EXPIRY.isoformat(),
            "eaches": 5,
            "reason": "donation",
            "unit_cost": "1.00",
        },
    )
    assert response.status_code == 409
    assert response.json["notice_number"] == "PCR-2"
    db.session.commit()
    assert service.find_lot(db.session, part=held.tips, lot_number="NEVER-SEEN") is None


def test_cases_refuse_a_named_held_lot_and_fefo_skips_it(held):
    """A case naming the held lot (by id, number or scan) is refused whole; FEFO takes the
    usable lot even though the held one expires first."""
    rows = ledger_rows()
    lines = [
        {"part_id": held.tips.id, "lot_id": held.held.id, "eaches": 1},
        {"part_id": held.tips.id, "lot_number": "HELD-1", "eaches": 1},
        {"scan": gs1_scan("00812345000016", "HELD-1", EXPIRY)},
    ]
    for index, line in enumerate(lines):
        body = case_body(held.home, f"HOLD-{index}", supplies=[line])
        body["date_of_service"] = date.today().isoformat()
        refused(held.clinician.post("/api/v1/cases", json=body), held)
        unchanged(held, rows)
    body = case_body(held.home, "FEFO-1", supplies=[{"part_id": held.tips.id, "eaches": 3}])
    body["date_of_service"] = date.today().isoformat()
    response = held.clinician.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.json
    assert {s["lot_id"] for s in response.json["supplies"]} == {held.usable.id}
    body = case_body(held.home, "FEFO-2", supplies=[{"part_id": held.tips.id, "eaches": 8}])
    body["date_of_service"] = date.today().isoformat()
    short = held.clinician.post("/api/v1/cases", json=body)
    assert short.status_code == 409
    assert short.json["available"] == 7  # held stock is not usable stock


def test_dispositions_and_reversals_still_move_a_held_lot(held):
    """Waste and a return to the vendor take held stock off the shelf; the recall shows the
    holder done; a reversal (of a case from before the hold) still goes through."""
    response = held.materials.post(
        held.url("waste"), json={"lot_id": held.held.id, "eaches": 4, "reason": "recalled"}
    )
    assert response.status_code == 201, response.json
    response = held.materials.post(
        held.url("vendor-returns"),
        json={
            "lot_id": held.held.id,
            "eaches": 6,
            "rga_number": "RGA-7788",
            "rga_date": date.today().isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    db.session.commit()
    (holder,) = service.holders(db.session, held.recall, None)
    assert (holder.on_hand, holder.wasted, holder.returned, holder.done) == (0, 4, 6, True)
    reversed_ = held.materials.post(
        f"/api/v1/movements/{response.json['movement']['id']}/reverse", json={"reason": "oops"}
    )
    assert reversed_.status_code == 201, reversed_.json
    db.session.commit()
    assert balance(held.home, held.held)[0] == 6
    assert service.verify(db.session) == []


def test_a_reversal_never_moves_held_stock_off_its_shelf(app, held):
    """Undoing the held lot's opening receipt (held stock would vanish without a disposition)
    or a transfer made before the recall (held stock would move between facilities) is a 409
    naming the recall, and nothing moves; a reversal that puts stock back is fine (above)."""
    from sqlalchemy import select as sql_select

    from supply_app.inventory.models import StockMovement

    lot = stock(held.away, held.tips, 3, 75_000, "MOVED-1", expiry=EXPIRY)
    sent = held.materials.post(
        held.url("transfers", held.away),
        json={"lot_id": lot.id, "to_facility_id": held.home.id, "eaches": 2},
    )
    assert sent.status_code == 201, sent.json
    recall = hold([(held.tips, "MOVED-1")], notice="PCR-MOVED")
    receipt = db.session.scalars(
        sql_select(StockMovement).where(
            StockMovement.lot_id == held.held.id, StockMovement.kind == "receipt"
        )
    ).first()
    rows = ledger_rows()
    for movement_id, notice in (
        (receipt.id, "PCR-1"),
        (sent.json["out"]["id"], recall.notice_number),
    ):
        response = held.materials.post(
            f"/api/v1/movements/{movement_id}/reverse", json={"reason": "typed it twice"}
        )
        assert response.status_code == 409, response.json
        assert response.json["type"] == "/problems/lot-on-hold"
        assert response.json["notice_number"] == notice
        assert ledger_rows() == rows
    assert balance(held.home, held.held) == (10, 250_000)
    assert balance(held.home, lot)[0] == 2


def test_release_lifts_the_hold_and_close_keeps_it(held):
    """After release the lot is usable again; a closed recall's lot stays held for good."""
    issue = {"lot_id": held.held.id, "eaches": 1}
    refused(held.clinician.post(held.url("issues"), json=issue), held)
    released = held.admin.post(
        f"/api/v1/recalls/{held.recall.id}/release", json={"note": "Notice withdrawn"}
    )
    assert released.status_code == 200, released.json
    assert held.clinician.post(held.url("issues"), json=issue).status_code == 201

    again = hold([(held.tips, "FREE-1")], notice="PCR-3")
    closing = held.materials.post(f"/api/v1/recalls/{again.id}/close", json={"note": "done"})
    assert closing.status_code == 409
    assert held.home.code in closing.json["detail"]
    waste = {"lot_id": held.usable.id, "eaches": 10, "reason": "recalled"}
    assert held.materials.post(held.url("waste"), json=waste).status_code == 201
    closed = held.materials.post(f"/api/v1/recalls/{again.id}/close", json={"note": "done"})
    assert closed.status_code == 200, closed.json
    assert closed.json["status"] == "closed"
    found = {"lot_id": held.usable.id, "eaches": 1, "reason": "found"}
    response = held.materials.post(held.url("adjustments"), json=found)
    assert response.status_code == 409
    assert response.json["recall_id"] == again.id


def test_order_receipt_of_a_held_lot_is_refused(app, held):
    """Receiving a recalled lot against an order is a 409 too; the order stays approved."""
    buyer, approver = (
        make_actor(app, "purchaser", [held.home]),
        make_actor(app, "purchaser", [held.home]),
    )
    order = buyer.post(
        "/api/v1/orders",
        json={
            "facility_id": held.home.id,
            "fund_code": "2F",
            "priority": "05",
            "required_delivery_date": (date.today() + timedelta(days=30)).isoformat(),
            "lines": [{"part_id": held.tips.id, "packs": 1}],
        },
    ).json
    assert buyer.post(f"/api/v1/orders/{order['id']}/submit").status_code == 200
    assert approver.post(f"/api/v1/orders/{order['id']}/approve").status_code == 200
    rows = ledger_rows()
    response = held.materials.post(
        f"/api/v1/orders/{order['id']}/receipts",
        json={
            "lines": [
                {
                    "line_id": order["lines"][0]["id"],
                    "packs": 1,
                    "lot_number": "HELD-1",
                    "expiry_date": EXPIRY.isoformat(),
                }
            ]
        },
    )
    refused(response, held)
    unchanged(held, rows)
    assert buyer.get(f"/api/v1/orders/{order['id']}").json["status"] == "approved"


def test_a_recall_holds_by_batch_and_without_regard_to_case(held):
    """A recall naming a batch holds the serialised units of that batch, and a recall typed
    in another case holds the lot (people type "free-1" for FREE-1): every door refuses,
    the recall lists the holder, and it cannot close while they hold stock."""
    scan = f"(01)00812345000016(17){EXPIRY:%y%m%d}(10)BATCH-9(21)SER-1"
    received = held.materials.post(
        held.url("receipts"),
        json={"scan": scan, "eaches": 1, "reason": "donation", "unit_cost": "10.00"},
    )
    assert received.status_code == 201, received.json
    unit_id = received.json["lot_id"]
    recall = hold([(held.tips, "batch-9"), (held.tips, "free-1")], notice="PCR-9")
    for lot_id in (unit_id, held.usable.id):
        response = held.clinician.post(held.url("issues"), json={"lot_id": lot_id, "eaches": 1})
        assert response.status_code == 409, response.json
        assert response.json["notice_number"] == "PCR-9"
    body = case_body(held.home, "BATCH-CASE", supplies=[{"scan": scan}])
    body["date_of_service"] = date.today().isoformat()
    assert held.clinician.post("/api/v1/cases", json=body).status_code == 409
    detail = held.admin.get(f"/api/v1/recalls/{recall.id}").json
    assert {h["lot_id"] for h in detail["holders"]} == {unit_id, held.usable.id}
    closing = held.admin.post(f"/api/v1/recalls/{recall.id}/close", json={"note": "done"})
    assert closing.status_code == 409, closing.json
