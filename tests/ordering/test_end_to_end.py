"""Issue 5 "checked by": suggestion → draft → submit → approve → two receipts → export."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from tests.ordering.conftest import PRICES


def test_suggestion_to_received_order_through_the_api(world):
    """Stock and value at the facility match the order exactly; the CSV parses back."""
    fid = world.facility.id
    parts = world.parts
    par = world.materials.client.put(
        f"/api/v1/facilities/{fid}/par-levels",
        json={
            "levels": [
                {"part_id": parts["STT2190-5"].id, "min_eaches": 10, "max_eaches": 40},
                {"part_id": parts["CRX2111-10"].id, "min_eaches": 20, "max_eaches": 55},
            ]
        },
        headers=world.materials.headers(),
    )
    assert par.status_code == 200, par.json

    # 1. Suggestions: empty shelf, so fill to max in whole packs (8 × 5 tips, 6 × 10 carts).
    suggested = world.purchaser.get(f"/api/v1/facilities/{fid}/reorder-suggestions").json
    assert {s["part_number"]: s["packs"] for s in suggested["items"]} == {
        "CRX2111-10": 6,
        "STT2190-5": 8,
    }
    header = {k: v for k, v in world.header().items() if k != "facility_id"}
    draft = world.purchaser.post(
        f"/api/v1/facilities/{fid}/reorder-suggestions/order", json=header, key="sugg-1"
    )
    assert draft.status_code == 201, draft.json
    oid = draft.json["id"]

    # 2. Submit, then approval by a second purchaser.
    submitted = world.purchaser.post(f"/api/v1/orders/{oid}/submit", key="submit-1")
    assert submitted.status_code == 200, submitted.json
    assert world.purchaser.post(f"/api/v1/orders/{oid}/approve").status_code == 403
    approved = world.purchaser2.post(f"/api/v1/orders/{oid}/approve")
    assert approved.status_code == 200
    order = approved.json
    lines = {x["part_number"]: x for x in order["lines"]}
    expected_total = 8 * PRICES["STT2190-5"] + 6 * PRICES["CRX2111-10"]
    assert Decimal(order["total"]) * 100 == expected_total

    # 3. Two partial receipts with different lots.
    expiry_a = date.today() + timedelta(days=300)
    expiry_b = date.today() + timedelta(days=500)
    receipts = f"/api/v1/orders/{oid}/receipts"
    first = world.materials.post(
        receipts,
        json={
            "lines": [
                {
                    "line_id": lines["STT2190-5"]["id"],
                    "packs": 5,
                    "lot_number": "TIP-A",
                    "expiry_date": expiry_a.isoformat(),
                },
                {
                    "line_id": lines["CRX2111-10"]["id"],
                    "packs": 2,
                    "lot_number": "CRX-A",
                    "expiry_date": expiry_a.isoformat(),
                },
            ]
        },
    )
    assert first.status_code == 201, first.json
    assert first.json["order_status"] == "partially_received"
    second = world.materials.post(
        receipts,
        json={
            "lines": [
                {
                    "line_id": lines["STT2190-5"]["id"],
                    "packs": 3,
                    "lot_number": "TIP-B",
                    "expiry_date": expiry_b.isoformat(),
                },
                {
                    "line_id": lines["CRX2111-10"]["id"],
                    "packs": 4,
                    "lot_number": "CRX-B",
                    "expiry_date": expiry_b.isoformat(),
                },
            ]
        },
    )
    assert second.status_code == 201, second.json
    assert second.json["order_status"] == "received"

    # 4. Stock and value at the facility equal the order, lot by lot and in total.
    stock = world.viewer.get(f"/api/v1/facilities/{fid}/stock").json["items"]
    by_lot = {(r["part_number"], r["lot_number"]): (r["on_hand"], r["value"]) for r in stock}
    tip, cart = PRICES["STT2190-5"], PRICES["CRX2111-10"]

    def money(cents: int) -> str:
        return f"{cents // 100}.{cents % 100:02d}"

    assert by_lot == {
        ("STT2190-5", "TIP-A"): (25, money(5 * tip)),
        ("STT2190-5", "TIP-B"): (15, money(3 * tip)),
        ("CRX2111-10", "CRX-A"): (20, money(2 * cart)),
        ("CRX2111-10", "CRX-B"): (40, money(4 * cart)),
    }
    assert sum(Decimal(r["value"]) for r in stock) == Decimal(order["total"])
    assert sum(r["on_hand"] for r in stock) == sum(x["eaches"] for x in order["lines"])
    after = world.viewer.get(f"/api/v1/facilities/{fid}/reorder-suggestions").json
    assert all(s["packs"] == 0 and s["on_order"] == 0 for s in after["items"])

    # 5. The ECAT CSV parses back to the same lines and total.
    exported = world.purchaser.get(f"/api/v1/orders/{oid}/ecat.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {r["part_number"]: int(r["quantity"]) for r in rows} == {"STT2190-5": 8, "CRX2111-10": 6}
    assert {r["document_number"] for r in rows} == {order["document_number"]}
    assert {r["ship_to_dodaac"] for r in rows} == {"W81XWH"}
    assert {(r["fund_code"], r["priority"]) for r in rows} == {("2F", "05")}
    for row in rows:
        line = lines[row["part_number"]]
        assert row["unit_price"] == line["unit_price"]
        assert row["extended_price"] == line["extended_price"]
    assert sum(Decimal(r["extended_price"]) for r in rows) == Decimal(order["total"])
