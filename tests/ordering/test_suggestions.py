"""Reorder suggestions: par min/max, stock, open orders, burn rate and lead time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.ordering.models import PurchaseOrder
from supply_app.ordering.suggestions import reorder_suggestions
from tests.ordering.conftest import count, fresh
from tests.support.factories import make_actor, make_facility


def stock(world, part_number: str, eaches: int, lot: str, expiry: date | None = None):
    """Receive eaches of a part outside an order; returns the lot."""
    movement = inventory.receive(
        db.session,
        facility=world.facility,
        part=world.parts[part_number],
        lot_number=lot,
        expiry_date=expiry or date.today() + timedelta(days=365),
        eaches=eaches,
        value_cents=eaches * 100,
        actor=None,
        reason="opening_balance",
    )
    db.session.commit()
    return movement.lot


def par(world, levels: dict[str, tuple[int, int]]) -> None:
    """Set the facility's par levels {part_number: (min, max)}."""
    inventory.set_par_levels(
        db.session,
        facility=world.facility,
        levels=[
            {"part_id": world.parts[n].id, "min_eaches": low, "max_eaches": high}
            for n, (low, high) in levels.items()
        ],
        actor=None,
    )
    db.session.commit()


@pytest.fixture
def shelf(world):
    """Tips below min with burn and an open order; cartridges above min; 309 tips empty."""
    par(world, {"STT2190-5": (20, 60), "CRX2111-10": (10, 30), "STT2309-5": (5, 10)})
    tips = stock(world, "STT2190-5", 30, "T1")
    inventory.issue(db.session, facility=world.facility, lot=tips, eaches=18, actor=None)
    db.session.commit()
    stock(world, "CRX2111-10", 40, "C1")
    world.approved({"STT2190-5": 1})
    return world


def test_suggestions_explain_their_figures(shelf):
    """12 on hand + 5 on order - ceil(18×14/90)=3 → 14 < 20, so fill 46 to 60: 10 packs."""
    response = shelf.viewer.get(f"/api/v1/facilities/{shelf.facility.id}/reorder-suggestions")
    assert response.status_code == 200
    items = {s["part_number"]: s for s in response.json["items"]}
    assert list(items) == ["CRX2111-10", "STT2190-5", "STT2309-5"]
    tips = items["STT2190-5"]
    assert {k: tips[k] for k in tips if k not in ("description", "reason", "part_id")} == {
        "part_number": "STT2190-5",
        "units_per_pack": 5,
        "par_min": 20,
        "par_max": 60,
        "on_hand": 12,
        "on_order": 5,
        "issued_in_window": 18,
        "window_days": 90,
        "burn_rate_per_day": "0.20",
        "lead_time_days": 14,
        "lead_time_demand": 3,
        "projected": 14,
        "packs": 10,
        "eaches": 50,
        "unit_price": "1249.99",
        "estimated_cost": "12499.90",
    }
    assert "below the minimum of 20" in tips["reason"]
    assert items["CRX2111-10"]["packs"] == 0
    assert "nothing to order" in items["CRX2111-10"]["reason"]
    assert (items["STT2309-5"]["projected"], items["STT2309-5"]["packs"]) == (0, 2)


def test_lead_time_changes_the_suggestion(shelf):
    """A 90-day lead time needs 18 eaches of cover: projected -1, so 13 packs reach 60."""
    fresh()
    shelf.facility.lead_time_days = 90
    db.session.commit()
    tips = next(
        s
        for s in reorder_suggestions(db.session, facility=shelf.facility)
        if s.part.part_number == "STT2190-5"
    )
    assert (tips.lead_time_demand, tips.projected, tips.packs) == (18, -1, 13)


def test_drafts_do_not_count_and_expired_stock_does_not_count(shelf):
    """A draft is not on order yet; stock expired by the day asked about is not on hand."""
    shelf.draft({"STT2190-5": 100})
    later = date.today() + timedelta(days=400)
    fresh()
    suggestions = {
        s.part.part_number: s
        for s in reorder_suggestions(db.session, facility=shelf.facility, on=later)
    }
    assert suggestions["STT2190-5"].on_order == 5
    assert suggestions["CRX2111-10"].on_hand == 0
    assert suggestions["CRX2111-10"].packs == 3
    # The issue is now over 90 days old, so it no longer drives the burn rate.
    assert suggestions["STT2190-5"].issued_in_window == 0


def test_never_negative_even_far_above_max(world):
    """Stock far above max suggests zero packs."""
    par(world, {"CRX2111-10": (10, 20)})
    stock(world, "CRX2111-10", 500, "C1")
    (only,) = reorder_suggestions(db.session, facility=world.facility)
    assert only.packs == 0
    assert only.eaches == 0


def test_one_call_turns_suggestions_into_a_draft(shelf):
    """Every suggested part becomes a line; part_ids narrows the choice."""
    url = f"/api/v1/facilities/{shelf.facility.id}/reorder-suggestions/order"
    header = {k: v for k, v in shelf.header().items() if k != "facility_id"}
    response = shelf.purchaser.post(url, json=header)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "draft"
    assert {x["part_number"]: x["packs"] for x in response.json["lines"]} == {
        "STT2190-5": 10,
        "STT2309-5": 2,
    }
    only = shelf.purchaser.post(url, json={**header, "part_ids": [shelf.parts["STT2309-5"].id]})
    assert [x["part_number"] for x in only.json["lines"]] == ["STT2309-5"]


def test_nothing_to_order_writes_nothing(shelf):
    """Asking only for a part above min is a 409 and creates no order."""
    url = f"/api/v1/facilities/{shelf.facility.id}/reorder-suggestions/order"
    header = {k: v for k, v in shelf.header().items() if k != "facility_id"}
    before = count(PurchaseOrder)
    response = shelf.purchaser.post(
        url, json={**header, "part_ids": [shelf.parts["CRX2111-10"].id]}
    )
    assert response.status_code == 409
    assert response.json["type"] == "/problems/nothing-to-order"
    assert count(PurchaseOrder) == before


def test_suggestions_are_scoped_and_draft_needs_a_buyer(app, shelf):
    """Another facility's suggestions are 404; a viewer may read but not draft."""
    outsider = make_actor(app, "purchaser", [make_facility()])
    url = f"/api/v1/facilities/{shelf.facility.id}/reorder-suggestions"
    assert outsider.get(url).status_code == 404
    header = {k: v for k, v in shelf.header().items() if k != "facility_id"}
    assert outsider.post(f"{url}/order", json=header).status_code == 404
    assert shelf.viewer.post(f"{url}/order", json=header).status_code == 403
