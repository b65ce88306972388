"""Receiving against approved orders: partial receipts, lots, scans, and what is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from supply_app.catalog.models import PartGtin
from supply_app.extensions import db
from supply_app.inventory.models import Lot, StockBalance, StockMovement
from supply_app.ordering.models import OrderReceipt, OrderReceiptLine, PurchaseOrderLine
from tests.ordering.conftest import PRICES, count, fresh
from tests.support.factories import make_actor

EXPIRY = date.today() + timedelta(days=400)


def typed(line_id: int, packs: int, lot: str, expiry: date = EXPIRY) -> dict:
    """A typed receipt line."""
    return {
        "line_id": line_id,
        "packs": packs,
        "lot_number": lot,
        "expiry_date": expiry.isoformat(),
    }


def line_of(order: dict, part_number: str) -> int:
    """The id of the order's line for a part."""
    return next(x["id"] for x in order["lines"] if x["part_number"] == part_number)


def gtin14(body13: str) -> str:
    """A GTIN-14 with its GS1 mod-10 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body13)))
    return body13 + str((10 - total % 10) % 10)


def written() -> tuple[int, ...]:
    """Row counts of everything a receipt writes."""
    return tuple(
        count(model) for model in (OrderReceipt, OrderReceiptLine, StockMovement, StockBalance, Lot)
    )


def facility_stock(facility_id: int) -> dict[str, tuple[int, int]]:
    """(eaches, value cents) on hand per part number at a facility."""
    fresh()
    rows = db.session.execute(
        select(Lot.part_id, func.sum(StockBalance.on_hand), func.sum(StockBalance.value_cents))
        .join(Lot, Lot.id == StockBalance.lot_id)
        .where(StockBalance.facility_id == facility_id)
        .group_by(Lot.part_id)
    ).all()
    from supply_app.catalog.models import Part

    return {db.session.get(Part, p).part_number: (int(e), int(v)) for p, e, v in rows}


def test_two_partial_receipts_with_different_lots(world):
    """4 + 3 packs arrive in two deliveries; stock and value follow each line's price."""
    order = world.approved({"STT2190-5": 4, "CRX2111-10": 3})
    tips, carts = line_of(order, "STT2190-5"), line_of(order, "CRX2111-10")
    url = f"/api/v1/orders/{order['id']}/receipts"
    first = world.materials.post(
        url, json={"lines": [typed(tips, 2, "TIPA1"), typed(carts, 3, "CART9")], "note": "Box 1"}
    )
    assert first.status_code == 201, first.json
    assert first.json["order_status"] == "partially_received"
    assert first.json["received_by"]["id"] == world.materials.user.id
    assert (
        first.json["value"] == f"{(2 * PRICES['STT2190-5'] + 3 * PRICES['CRX2111-10']) / 100:.2f}"
    )
    mid = world.viewer.get(f"/api/v1/orders/{order['id']}").json
    assert {x["part_number"]: x["outstanding_packs"] for x in mid["lines"]} == {
        "STT2190-5": 2,
        "CRX2111-10": 0,
    }
    assert world.purchaser.post(f"/api/v1/orders/{order['id']}/cancel", json={}).status_code == 409
    second = world.purchaser.post(url, json={"lines": [typed(tips, 2, "TIPB2")]})
    assert second.status_code == 201, second.json
    assert second.json["order_status"] == "received"
    final = world.viewer.get(f"/api/v1/orders/{order['id']}").json
    assert final["status"] == "received"
    assert final["received_at"] is not None
    assert facility_stock(world.facility.id) == {
        "STT2190-5": (20, 4 * PRICES["STT2190-5"]),
        "CRX2111-10": (30, 3 * PRICES["CRX2111-10"]),
    }
    movements = db.session.scalars(select(StockMovement).order_by(StockMovement.id)).all()
    assert [(m.reference_type, m.reference_id, m.eaches) for m in movements] == [
        ("order_line", tips, 10),
        ("order_line", carts, 30),
        ("order_line", tips, 10),
    ]
    assert {m.lot.lot_number for m in movements} == {"TIPA1", "CART9", "TIPB2"}
    listed = world.viewer.get(url).json["items"]
    assert [len(r["lines"]) for r in listed] == [2, 1]
    assert listed[0]["lines"][0]["movement_id"] == movements[0].id
    again = world.purchaser.post(url, json={"lines": [typed(tips, 1, "TIPC3")]})
    assert again.status_code == 409
    assert again.json["current_state"] == "received"


def test_over_receipt_is_refused_and_writes_nothing(world):
    """More packs than outstanding, in one item or summed over items, is a 409."""
    order = world.approved({"STT2190-5": 3})
    tips = line_of(order, "STT2190-5")
    url = f"/api/v1/orders/{order['id']}/receipts"
    before = written()
    single = world.materials.post(url, json={"lines": [typed(tips, 4, "L1")]})
    assert single.status_code == 409
    assert single.json["type"] == "/problems/over-receipt"
    assert (single.json["requested"], single.json["outstanding"]) == (4, 3)
    summed = world.materials.post(url, json={"lines": [typed(tips, 2, "L1"), typed(tips, 2, "L2")]})
    assert summed.status_code == 409
    assert written() == before
    assert world.materials.post(url, json={"lines": [typed(tips, 2, "L1")]}).status_code == 201
    rest = world.materials.post(url, json={"lines": [typed(tips, 2, "L3")]})
    assert rest.status_code == 409
    assert rest.json["outstanding"] == 1


@pytest.mark.parametrize("stage", ["draft", "submitted", "cancelled"])
def test_receiving_needs_an_approved_order(world, stage):
    """Drafts, unapproved and cancelled orders take no receipts (409 naming the state)."""
    order = world.draft({"STT2190-5": 1})
    if stage == "submitted":
        world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    if stage == "cancelled":
        world.purchaser.post(f"/api/v1/orders/{order['id']}/cancel", json={})
    before = written()
    response = world.materials.post(
        f"/api/v1/orders/{order['id']}/receipts",
        json={"lines": [typed(line_of(order, "STT2190-5"), 1, "L1")]},
    )
    assert response.status_code == 409
    assert response.json["current_state"] == stage
    assert written() == before


def test_expired_lot_is_refused(world):
    """A lot already past its expiry cannot be received; nothing is written."""
    order = world.approved({"STT2190-5": 2})
    before = written()
    response = world.materials.post(
        f"/api/v1/orders/{order['id']}/receipts",
        json={
            "lines": [typed(line_of(order, "STT2190-5"), 1, "OLD1", date.today() - timedelta(1))]
        },
    )
    assert response.status_code == 409
    assert "expired" in response.json["detail"]
    assert written() == before
    assert count(PurchaseOrderLine) == 1
    assert world.viewer.get(f"/api/v1/orders/{order['id']}").json["lines"][0]["received_packs"] == 0


def test_a_failing_second_line_rolls_back_the_first(world):
    """One bad lot in a receipt leaves stock, lots and the order untouched."""
    order = world.approved({"STT2190-5": 2, "CRX2111-10": 2})
    before = written()
    response = world.materials.post(
        f"/api/v1/orders/{order['id']}/receipts",
        json={
            "lines": [
                typed(line_of(order, "STT2190-5"), 2, "GOOD1"),
                typed(line_of(order, "CRX2111-10"), 1, "BAD1", date.today() - timedelta(days=3)),
            ]
        },
    )
    assert response.status_code == 409
    assert written() == before
    assert world.viewer.get(f"/api/v1/orders/{order['id']}").json["status"] == "approved"


def test_lot_on_file_with_another_expiry_is_refused(world):
    """The same lot number with a different expiry contradicts the lot on file."""
    order = world.approved({"STT2190-5": 2})
    tips = line_of(order, "STT2190-5")
    url = f"/api/v1/orders/{order['id']}/receipts"
    assert world.materials.post(url, json={"lines": [typed(tips, 1, "L1")]}).status_code == 201
    before = written()
    clash = world.materials.post(
        url, json={"lines": [typed(tips, 1, "L1", EXPIRY + timedelta(days=1))]}
    )
    assert clash.status_code == 422
    assert written() == before


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"packs": 0}, "packs"),
        ({"packs": -1}, "packs"),
        ({"packs": 10**9}, "packs"),
        ({"lot_number": "x" * 41}, "lot_number"),
        ({"lot_number": ""}, "lot_number"),
        ({"expiry_date": "2027-02-30"}, "expiry_date"),
        ({"scan": "(01)00000000000000"}, "scan"),
        ({"line_id": 0}, "line_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_receipt_lines_are_422(world, item, field):
    """Each malformed receipt field is named; nothing is written."""
    order = world.approved({"STT2190-5": 2})
    before = written()
    body = {**typed(line_of(order, "STT2190-5"), 1, "L1"), **item}
    response = world.materials.post(
        f"/api/v1/orders/{order['id']}/receipts", json={"lines": [body]}
    )
    assert response.status_code == 422, response.json
    assert field in str(response.json["errors"])
    assert written() == before


def test_receipt_needs_lines_and_known_line_ids(world):
    """An empty receipt, or a line of another order, is refused."""
    order = world.approved({"STT2190-5": 2})
    other = world.approved({"CRX2111-10": 2})
    url = f"/api/v1/orders/{order['id']}/receipts"
    before = written()
    assert world.materials.post(url, json={"lines": []}).status_code == 422
    foreign = world.materials.post(
        url, json={"lines": [typed(line_of(other, "CRX2111-10"), 1, "L1")]}
    )
    assert foreign.status_code == 422
    assert "lines.0.line_id" in foreign.json["errors"]["json"]
    assert written() == before


def test_receive_by_gs1_scan(world):
    """A GS1 scan supplies GTIN, lot and expiry; a scan of another part is refused."""
    tips_gtin = gtin14("1085000012345")
    carts_gtin = gtin14("1085000067890")
    db.session.add_all(
        [
            PartGtin(part_id=world.parts["STT2190-5"].id, gtin=tips_gtin, units=5),
            PartGtin(part_id=world.parts["CRX2111-10"].id, gtin=carts_gtin, units=10),
        ]
    )
    db.session.commit()
    order = world.approved({"STT2190-5": 2})
    tips = line_of(order, "STT2190-5")
    url = f"/api/v1/orders/{order['id']}/receipts"
    expiry = EXPIRY.strftime("%y%m%d")
    before = written()
    wrong = world.materials.post(
        url,
        json={
            "lines": [{"line_id": tips, "packs": 1, "scan": f"(01){carts_gtin}(17){expiry}(10)X1"}]
        },
    )
    assert wrong.status_code == 422
    assert "CRX2111-10" in wrong.json["detail"]
    plain = world.materials.post(
        url, json={"lines": [{"line_id": tips, "packs": 1, "scan": "10D9T"}]}
    )
    assert plain.status_code == 422
    no_expiry = world.materials.post(
        url, json={"lines": [{"line_id": tips, "packs": 1, "scan": f"(01){tips_gtin}(10)X1"}]}
    )
    assert no_expiry.status_code == 422
    both = world.materials.post(
        url,
        json={"lines": [{**typed(tips, 1, "L1"), "scan": f"(01){tips_gtin}(17){expiry}(10)X1"}]},
    )
    assert both.status_code == 422
    assert written() == before
    scanned = world.materials.post(
        url,
        json={
            "lines": [{"line_id": tips, "packs": 2, "scan": f"]d201{tips_gtin}17{expiry}10LOT77"}]
        },
    )
    assert scanned.status_code == 201, scanned.json
    line = scanned.json["lines"][0]
    assert (line["lot_number"], line["expiry_date"], line["eaches"]) == (
        "LOT77",
        EXPIRY.isoformat(),
        10,
    )
    fresh()
    lot = db.session.scalar(select(Lot).where(Lot.lot_number == "LOT77"))
    assert lot.gtin == tips_gtin


def test_receiving_a_serialised_unit_keeps_its_batch(world):
    """An order receipt of a handpiece label with (10) and (21) keeps both, as a receipt does."""
    gtin = gtin14("1085000099999")
    db.session.add(PartGtin(part_id=world.parts["IST2221"].id, gtin=gtin, units=1))
    db.session.commit()
    order = world.approved({"IST2221": 1})
    expiry = EXPIRY.strftime("%y%m%d")
    label = f"(01){gtin}(17){expiry}(10)HB-12(21)HS-0007"
    received = world.materials.post(
        f"/api/v1/orders/{order['id']}/receipts",
        json={"lines": [{"line_id": line_of(order, "IST2221"), "packs": 1, "scan": label}]},
    )
    assert received.status_code == 201, received.json
    fresh()
    lot = db.session.scalar(select(Lot).where(Lot.lot_number == "HS-0007"))
    assert (lot.serial, lot.batch) == ("HS-0007", "HB-12")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("materials", True),
        ("admin", True),
        ("clinician", False),
        ("finance", False),
        ("viewer", False),
    ],
)
def test_who_may_receive(app, world, role, allowed):
    """Purchasers, materials managers and admins receive; other roles get 403."""
    order = world.approved({"STT2190-5": 1})
    actor = make_actor(app, role, [world.facility], all_facilities=role == "admin")
    response = actor.post(
        f"/api/v1/orders/{order['id']}/receipts",
        json={"lines": [typed(line_of(order, "STT2190-5"), 1, "L1")]},
    )
    assert response.status_code == (201 if allowed else 403)
    assert count(StockMovement) == (1 if allowed else 0)


def test_receipt_is_idempotent(world):
    """A retried receipt with the same key books stock once."""
    order = world.approved({"STT2190-5": 2})
    body = {"lines": [typed(line_of(order, "STT2190-5"), 1, "L1")]}
    url = f"/api/v1/orders/{order['id']}/receipts"
    first = world.materials.post(url, json=body, key="rcpt-1")
    again = world.materials.post(url, json=body, key="rcpt-1")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert count(StockMovement) == 1
    assert facility_stock(world.facility.id)["STT2190-5"] == (5, PRICES["STT2190-5"])


def test_a_wrong_lot_is_undone_on_the_order_never_behind_its_back(world):
    """A wrong lot received: reversing its movement directly is refused (the order would
    still count it); undoing it on the order takes the stock back out, makes the packs
    outstanding and reopens the order, once; the right lot is then received."""
    order = world.approved({"STT2190-5": 2})
    tips = line_of(order, "STT2190-5")
    url = f"/api/v1/orders/{order['id']}/receipts"
    wrong = world.materials.post(url, json={"lines": [typed(tips, 2, "WRONG1")]})
    assert wrong.status_code == 201, wrong.json
    assert wrong.json["order_status"] == "received"
    received = wrong.json["lines"][0]
    behind = world.materials.post(
        f"/api/v1/movements/{received['movement_id']}/reverse", json={"reason": "wrong lot"}
    )
    assert behind.status_code == 409
    assert "undo that receipt on the order" in behind.json["detail"]
    undo_url = f"/api/v1/orders/{order['id']}/receipt-lines/{received['id']}/undo"
    undone = world.materials.post(undo_url, json={"reason": "scanned the wrong lot"})
    assert undone.status_code == 201, undone.json
    assert (undone.json["kind"], undone.json["eaches"]) == ("reversal", -10)
    reopened = world.viewer.get(f"/api/v1/orders/{order['id']}").json
    assert (reopened["status"], reopened["received_at"]) == ("approved", None)
    assert reopened["lines"][0]["outstanding_packs"] == 2
    assert facility_stock(world.facility.id) == {"STT2190-5": (0, 0)}
    listed = world.viewer.get(url).json["items"]
    assert listed[0]["lines"][0]["undone"] is True
    twice = world.materials.post(undo_url, json={"reason": "again"})
    assert twice.status_code == 409
    right = world.materials.post(url, json={"lines": [typed(tips, 2, "RIGHT1")]})
    assert right.status_code == 201, right.json
    assert right.json["order_status"] == "received"
    assert facility_stock(world.facility.id)["STT2190-5"] == (10, 2 * PRICES["STT2190-5"])
    other = world.materials.post(
        f"/api/v1/orders/{order['id']}/receipt-lines/999999/undo", json={"reason": "x"}
    )
    assert other.status_code == 404
