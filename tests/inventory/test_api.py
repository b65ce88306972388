"""Inventory API: movements, valuation, views, access and bad input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.catalog.models import Part
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory import service
from tests.support.factories import Actor, make_actor, make_facility, price_part, sync_parts
from tests.support.inventory import balance, in_days, ledger_rows, stock


@dataclass
class World:
    """Two facilities, the catalog, and one actor per interesting role."""

    here: Facility
    there: Facility
    tip: Part
    cartridge: Part
    materials: Actor
    clinician: Actor
    viewer: Actor
    outsider: Actor


@pytest.fixture
def world(app) -> World:
    """Facilities, parts and actors for the API tests."""
    parts = sync_parts(app)
    here, there = make_facility(), make_facility("ASC")
    return World(
        here=here,
        there=there,
        tip=parts["STT2309-5"],
        cartridge=parts["CRX2111-10"],
        materials=make_actor(app, "materials", [here, there]),
        clinician=make_actor(app, "clinician", [here]),
        viewer=make_actor(app, "viewer", [here]),
        outsider=make_actor(app, "materials", [there]),
    )


def url(facility: Facility, action: str) -> str:
    """The facility-scoped endpoint for an action."""
    return f"/api/v1/facilities/{facility.id}/{action}"


def receipt_body(w: World, **overrides: Any) -> dict[str, Any]:
    """A valid typed receipt of two tip 5-packs at 250.00 an each."""
    return {
        "part_id": w.tip.id,
        "lot_number": "T-100",
        "expiry_date": in_days(200).isoformat(),
        "packs": 2,
        "unit_cost": "250.00",
        "reason": "opening_balance",
        **overrides,
    }


def assert_problem(response, status: int) -> None:
    """A problem+json error with the given status."""
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"


# --------------------------------------------------------------------------- receipts


def test_receipt_in_packs_shows_packs_and_loose(world):
    """Two 5-packs are ten eaches worth 2500.00; after issuing 3: one pack and two loose."""
    w = world
    made = w.materials.post(url(w.here, "receipts"), json=receipt_body(w))
    assert made.status_code == 201, made.json
    assert (made.json["eaches"], made.json["value"], made.json["kind"]) == (
        10,
        "2500.00",
        "receipt",
    )
    issued = w.clinician.post(
        url(w.here, "issues"), json={"lot_id": made.json["lot_id"], "eaches": 3}
    )
    assert issued.status_code == 201, issued.json
    assert issued.json["value"] == "-750.00"
    row = w.viewer.get(url(w.here, "stock")).json["items"][0]
    assert (row["on_hand"], row["packs"], row["loose_eaches"]) == (7, 1, 2)
    assert row["value"] == "1750.00"
    assert row["average_unit_cost"] == "250.00"
    assert row["days_to_expiry"] == 200
    assert row["expired"] is False
    parts = w.viewer.get(url(w.here, "stock/parts")).json["items"]
    assert [(p["part_number"], p["on_hand"], p["usable"], p["packs"]) for p in parts] == [
        ("STT2309-5", 7, 7, 1)
    ]


def test_receipt_defaults_to_contract_price_per_each(world):
    """Without unit_cost, 3 eaches of a 1250.00 5-pack are worth 750.00."""
    w = world
    price_part(w.tip, 125_000)
    body = receipt_body(w, eaches=3)
    del body["packs"], body["unit_cost"]
    made = w.materials.post(url(w.here, "receipts"), json=body)
    assert made.status_code == 201, made.json
    assert made.json["value"] == "750.00"


def test_receipt_without_price_or_cost_is_422(world):
    """No contract price in effect and no unit_cost: refused, nothing written."""
    w = world
    body = receipt_body(w)
    del body["unit_cost"]
    response = w.materials.post(url(w.here, "receipts"), json=body)
    assert_problem(response, 422)
    assert "unit_cost" in response.json["errors"]["json"]
    assert ledger_rows() == 0


def test_receipt_refuses_other_expiry_for_known_lot_and_expired_lot(world):
    """A lot number already on file with another expiry, or an expired lot, is refused."""
    w = world
    assert w.materials.post(url(w.here, "receipts"), json=receipt_body(w)).status_code == 201
    other = w.materials.post(
        url(w.here, "receipts"), json=receipt_body(w, expiry_date=in_days(100).isoformat())
    )
    assert_problem(other, 422)
    # The date on file is never named: the lot may be another facility's.
    first = receipt_body(w)["expiry_date"]
    assert "another expiry date" in other.json["detail"]
    assert first not in other.json["detail"]
    expired = w.materials.post(
        url(w.here, "receipts"),
        json=receipt_body(w, lot_number="OLD", expiry_date=in_days(-1).isoformat()),
    )
    assert_problem(expired, 409)
    assert expired.json["type"] == "/problems/lot-expired"
    assert ledger_rows() == 1


# --------------------------------------------------------------------------- valuation


def test_moving_average_never_drifts(world):
    """Three eaches worth 10.00 issue as 3.33, 3.34, 3.33: issued total == received."""
    w = world
    lot = stock(w.here, w.tip, 3, 1000)
    values = [
        w.clinician.post(url(w.here, "issues"), json={"lot_id": lot.id, "eaches": 1}).json["value"]
        for _ in range(3)
    ]
    assert values == ["-3.33", "-3.34", "-3.33"]
    assert balance(w.here, lot) == (0, 0)


def test_transfer_carries_value_and_reversal_restores_both(world):
    """Out and in post together with the same value; one reversal undoes both legs."""
    w = world
    lot = stock(w.here, w.tip, 3, 1000)
    moved = w.materials.post(
        url(w.here, "transfers"), json={"lot_id": lot.id, "to_facility_id": w.there.id, "eaches": 2}
    )
    assert moved.status_code == 201, moved.json
    assert (moved.json["out"]["value"], moved.json["in"]["value"]) == ("-6.67", "6.67")
    assert balance(w.here, lot) == (1, 333)
    assert balance(w.there, lot) == (2, 667)
    undone = w.materials.post(
        f"/api/v1/movements/{moved.json['out']['id']}/reverse", json={"reason": "wrong site"}
    )
    assert undone.status_code == 201, undone.json
    assert undone.json["reverses_id"] == moved.json["out"]["id"]
    assert balance(w.here, lot) == (3, 1000)
    assert balance(w.there, lot) == (0, 0)
    again = w.materials.post(
        f"/api/v1/movements/{moved.json['in']['id']}/reverse", json={"reason": "again"}
    )
    assert_problem(again, 409)
    assert ledger_rows() == 5


def test_reversing_an_issue_returns_stock_once(world):
    """A voided issue comes back at the value it left with; a second reversal is 409."""
    w = world
    lot = stock(w.here, w.tip, 5, 1000)
    issued = w.clinician.post(url(w.here, "issues"), json={"lot_id": lot.id, "eaches": 2}).json
    back = w.materials.post(
        f"/api/v1/movements/{issued['id']}/reverse", json={"reason": "case voided"}
    )
    assert back.status_code == 201
    assert (back.json["eaches"], back.json["value"]) == (2, "4.00")
    assert balance(w.here, lot) == (5, 1000)
    reversal_id = back.json["id"]
    assert_problem(
        w.materials.post(f"/api/v1/movements/{issued['id']}/reverse", json={"reason": "x"}), 409
    )
    assert_problem(
        w.materials.post(f"/api/v1/movements/{reversal_id}/reverse", json={"reason": "x"}), 409
    )


def test_receipt_reversal_refused_once_stock_is_used(world):
    """Reversing a receipt whose eaches were issued would go negative: 409, nothing written."""
    w = world
    lot = stock(w.here, w.tip, 2, 1000)
    (receipt,) = service.ledger_page(db.session, facility_ids=[w.here.id], after_id=0, limit=1)
    receipt_id = receipt.id
    w.clinician.post(url(w.here, "issues"), json={"lot_id": lot.id, "eaches": 1})
    before = ledger_rows()
    response = w.materials.post(
        f"/api/v1/movements/{receipt_id}/reverse", json={"reason": "wrong lot"}
    )
    assert_problem(response, 409)
    assert (response.json["requested"], response.json["available"]) == (2, 1)
    assert ledger_rows() == before


def test_count_posts_difference_as_adjustment(world):
    """A count records counted and previous; the difference is an adjustment at average cost."""
    w = world
    lot = stock(w.here, w.tip, 4, 1000)
    counted = w.materials.post(url(w.here, "counts"), json={"lot_id": lot.id, "counted": 3})
    assert counted.status_code == 201, counted.json
    assert counted.json["count"]["previous_on_hand"] == 4
    assert counted.json["count"]["difference"] == -1
    movement = counted.json["movement"]
    assert (movement["kind"], movement["reason"], movement["eaches"]) == (
        "adjustment",
        "physical_count",
        -1,
    )
    assert (movement["reference_type"], movement["reference_id"]) == (
        "count",
        counted.json["count"]["id"],
    )
    same = w.materials.post(url(w.here, "counts"), json={"lot_id": lot.id, "counted": 3})
    assert same.json["movement"] is None
    assert balance(w.here, lot) == (3, 750)


def test_adjustment_and_waste(world):
    """Found stock joins at average cost; waste needs a reason and takes average value."""
    w = world
    lot = stock(w.here, w.tip, 4, 1000)
    found = w.materials.post(
        url(w.here, "adjustments"), json={"lot_id": lot.id, "eaches": 2, "reason": "found"}
    )
    assert found.status_code == 201, found.json
    assert found.json["value"] == "5.00"
    wasted = w.materials.post(
        url(w.here, "waste"), json={"lot_id": lot.id, "eaches": 6, "reason": "contaminated"}
    )
    assert wasted.json["value"] == "-15.00"
    assert balance(w.here, lot) == (0, 0)


@pytest.mark.parametrize(("reason", "eaches"), [("found", -2), ("lost", 2)])
def test_an_adjustment_whose_sign_contradicts_its_reason_is_refused(world, reason, eaches):
    """Found stock that leaves the shelf, or lost stock that joins it, is a slip: 422 on the
    reason, and nothing is written."""
    w = world
    lot = stock(w.here, w.tip, 4, 1000)
    rows = ledger_rows()
    response = w.materials.post(
        url(w.here, "adjustments"), json={"lot_id": lot.id, "eaches": eaches, "reason": reason}
    )
    assert response.status_code == 422, response.json
    assert "reason" in response.json["errors"]["json"]
    assert "check the sign" in response.json["detail"]
    assert (ledger_rows(), balance(w.here, lot)) == (rows, (4, 1000))


def test_expired_stock_cannot_be_issued_but_can_be_wasted(world):
    """An expired lot is 409 lot-expired on issue and leaves the ledger alone; waste works."""
    w = world
    old = service.receive(
        db.session,
        facility=w.here,
        part=w.tip,
        lot_number="OLD-1",
        expiry_date=in_days(-1),
        eaches=2,
        value_cents=500,
        actor=None,
        reason="opening_balance",
        on_date=in_days(-30),
    ).lot
    db.session.commit()
    before = ledger_rows()
    response = w.clinician.post(url(w.here, "issues"), json={"lot_id": old.id, "eaches": 1})
    assert_problem(response, 409)
    assert response.json["type"] == "/problems/lot-expired"
    assert ledger_rows() == before
    row = w.viewer.get(url(w.here, "stock")).json["items"][0]
    assert (row["expired"], row["days_to_expiry"]) == (True, -1)
    wasted = w.materials.post(
        url(w.here, "waste"), json={"lot_id": old.id, "eaches": 2, "reason": "expired"}
    )
    assert wasted.status_code == 201


def test_insufficient_stock_is_409_with_requested_and_available(world):
    """Asking for more than is on hand: 409, requested/available, nothing written."""
    w = world
    lot = stock(w.here, w.tip, 3, 900)
    before = ledger_rows()
    response = w.clinician.post(url(w.here, "issues"), json={"lot_id": lot.id, "eaches": 4})
    assert_problem(response, 409)
    assert response.json["type"] == "/problems/insufficient-stock"
    assert (response.json["requested"], response.json["available"]) == (4, 3)
    assert ledger_rows() == before
    assert balance(w.here, lot) == (3, 900)


# --------------------------------------------------------------------------- bad input


BAD_INPUTS = [
    ("issues", {"eaches": 0}, 422),
    ("issues", {"eaches": -1}, 422),
    ("issues", {"eaches": 10**12}, 422),
    ("issues", {"eaches": "2"}, 422),
    ("issues", {"eaches": 1, "bogus": 1}, 422),
    ("issues", {"eaches": 1, "lot_id": 999_999}, 404),
    ("issues", {"eaches": 1, "lot_id": 2**40}, 422),
    ("issues", {"eaches": 1, "part_id": "cartridge"}, 422),
    ("issues", {"eaches": 1, "scan": "NO-SUCH-LOT"}, 422),
    ("adjustments", {"eaches": 0, "reason": "found"}, 422),
    ("adjustments", {"eaches": 1}, 422),
    ("adjustments", {"eaches": 1, "reason": "physical_count"}, 422),
    ("adjustments", {"eaches": -(10**9), "reason": "lost"}, 422),
    ("waste", {"eaches": 1, "reason": "bored"}, 422),
    ("waste", {"eaches": 1}, 422),
    ("transfers", {"eaches": 1, "to_facility_id": "here"}, 422),
    ("transfers", {"eaches": 1, "to_facility_id": 999_999}, 404),
    ("transfers", {"eaches": 0, "to_facility_id": "there"}, 422),
    ("counts", {"counted": -1}, 422),
    ("counts", {"counted": 10**7}, 422),
    ("receipts", {"eaches": 0}, 422),
    ("receipts", {"packs": 3, "eaches": 15}, 422),
    ("receipts", {"part_id": 999_999}, 404),
    ("receipts", {"unit_cost": "-1.00"}, 422),
    ("receipts", {"unit_cost": "1.234"}, 422),
    ("receipts", {"reason": "order"}, 422),
    ("receipts", {"lot_number": " padded "}, 422),
    ("receipts", {"lot_number": "x" * 41}, 422),
    ("receipts", {"expiry_date": "2027-02-30"}, 422),
    ("receipts", {"scan": "]d2010950110153000417261231"}, 422),
]


@pytest.mark.parametrize(("action", "change", "status"), BAD_INPUTS)
def test_bad_input_is_4xx_and_ledger_unchanged(world, action, change, status):
    """Every bad input is a problem+json 4xx, and no ledger row is written."""
    w = world
    lot = stock(w.here, w.tip, 5, 1000)
    stock(w.there, w.tip, 1, 100, lot_number="THERE")
    base = {
        "issues": {"lot_id": lot.id},
        "adjustments": {"lot_id": lot.id},
        "waste": {"lot_id": lot.id},
        "transfers": {"lot_id": lot.id, "to_facility_id": w.there.id},
        "counts": {"lot_id": lot.id},
        "receipts": receipt_body(w),
    }[action]
    if "to_facility_id" in change and isinstance(change["to_facility_id"], str):
        change = {**change, "to_facility_id": getattr(w, change["to_facility_id"]).id}
    if change.get("part_id") == "cartridge":
        change = {**change, "part_id": w.cartridge.id}
    body = {**base, **change}
    if action == "issues" and "scan" in body:
        del body["lot_id"]
    if action == "receipts" and "eaches" in change and "packs" not in change:
        del body["packs"]
    before = ledger_rows()
    response = w.materials.post(url(w.here, action), json=body)
    assert_problem(response, status)
    assert ledger_rows() == before
    assert balance(w.here, lot) == (5, 1000)


def test_transfer_to_inactive_facility_is_422(world):
    """A deactivated destination is refused and nothing moves."""
    w = world
    lot = stock(w.here, w.tip, 5, 1000)
    w.there.active = False
    db.session.commit()
    before = ledger_rows()
    response = w.materials.post(
        url(w.here, "transfers"), json={"lot_id": lot.id, "to_facility_id": w.there.id, "eaches": 1}
    )
    assert_problem(response, 422)
    assert ledger_rows() == before


def test_count_on_lot_never_held_is_422(world):
    """Counting (or adjusting) a lot this facility never held is refused."""
    w = world
    lot = stock(w.there, w.tip, 5, 1000)
    before = ledger_rows()
    assert_problem(
        w.materials.post(url(w.here, "counts"), json={"lot_id": lot.id, "counted": 2}), 422
    )
    assert_problem(
        w.materials.post(
            url(w.here, "adjustments"), json={"lot_id": lot.id, "eaches": 2, "reason": "found"}
        ),
        422,
    )
    assert ledger_rows() == before


def test_issue_of_another_parts_lot_is_422(world):
    """A lot id that belongs to another part than the one named is refused."""
    w = world
    lot = stock(w.here, w.tip, 5, 1000)
    before = ledger_rows()
    response = w.clinician.post(
        url(w.here, "issues"), json={"lot_id": lot.id, "part_id": w.cartridge.id, "eaches": 1}
    )
    assert_problem(response, 422)
    assert "part_id" in response.json["errors"]["json"]
    assert ledger_rows() == before


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("receipts", None),
        ("adjustments", {"eaches": 1, "reason": "found"}),
        ("waste", {"eaches": 1, "reason": "damaged"}),
        ("counts", {"counted": 1}),
        ("transfers", {"eaches": 1, "to_facility_id": 0}),
    ],
)
def test_clinicians_may_only_issue(world, action, body):
    """Clinicians (and viewers) get 403 on every stock action but issue; nothing written."""
    w = world
    lot = stock(w.here, w.tip, 5, 1000)
    payload = receipt_body(w) if body is None else {"lot_id": lot.id, **body}
    before = ledger_rows()
    assert_problem(w.clinician.post(url(w.here, action), json=payload), 403)
    assert_problem(w.viewer.post(url(w.here, action), json=payload), 403)
    assert_problem(w.viewer.post(url(w.here, "issues"), json={"lot_id": lot.id, "eaches": 1}), 403)
    assert ledger_rows() == before


def test_another_facilitys_stock_is_404(world):
    """Someone outside the facility gets 404 for its stock, ledger, moves and movements."""
    w = world
    lot = stock(w.here, w.tip, 5, 1000)
    issued = w.clinician.post(url(w.here, "issues"), json={"lot_id": lot.id, "eaches": 1}).json
    before = ledger_rows()
    for path in ("stock", "movements", "alerts", "par-levels", "stock/parts"):
        assert_problem(w.outsider.get(url(w.here, path)), 404)
    assert_problem(w.outsider.get(url(w.here, f"pick-list?part_id={w.tip.id}&eaches=1")), 404)
    assert_problem(
        w.outsider.post(url(w.here, "issues"), json={"lot_id": lot.id, "eaches": 1}), 404
    )
    assert_problem(
        w.outsider.post(f"/api/v1/movements/{issued['id']}/reverse", json={"reason": "x"}), 404
    )
    assert_problem(w.outsider.get(f"/api/v1/lots/{lot.id}"), 404)
    assert w.viewer.get(f"/api/v1/lots/{lot.id}").json["holdings"] == [
        {"facility_id": w.here.id, "on_hand": 4, "value": "8.00"}
    ]
    # Transfers need both ends: a destination you do not belong to does not exist for you.
    assert_problem(
        w.clinician.post(
            url(w.here, "transfers"),
            json={"lot_id": lot.id, "to_facility_id": w.there.id, "eaches": 1},
        ),
        403,
    )
    assert ledger_rows() == before


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("adjustments", {"eaches": 1, "reason": "found", "unit_cost": "1.00"}),
        ("counts", {"counted": 3}),
        ("waste", {"eaches": 1, "reason": "damaged"}),
        ("issues", {"eaches": 1}),
        ("transfers", {"eaches": 1, "to_facility_id": None}),
    ],
)
def test_naming_another_facilitys_lot_in_a_stock_action_is_the_404_of_reading_it(
    world, action, body
):
    """A lot none of your facilities ever held does not exist for you, in any door.

    Naming the wrong part as well must not make it a 422 that names the lot and its part.
    """
    w = world
    theirs = stock(w.here, w.tip, 5, 1000, lot_number="HERE-ONLY")
    before = ledger_rows()
    read = w.outsider.get(f"/api/v1/lots/{theirs.id}")
    assert_problem(read, 404)
    if "to_facility_id" in body:
        body = {**body, "to_facility_id": w.there.id}
    for part in ({}, {"part_id": w.cartridge.id}):
        named = w.outsider.post(url(w.there, action), json={"lot_id": theirs.id, **body, **part})
        assert_problem(named, 404)
        assert (named.json["type"], named.json["detail"]) == (
            read.json["type"],
            read.json["detail"],
        )
        assert "HERE-ONLY" not in named.get_data(as_text=True)
    assert ledger_rows() == before


# --------------------------------------------------------------------------- views


def test_movement_history_keyset_pages(world):
    """after_id/limit walk the ledger oldest first; next_after_id is null at the end."""
    w = world
    lot = stock(w.here, w.tip, 10, 1000)
    for _ in range(4):
        w.clinician.post(url(w.here, "issues"), json={"lot_id": lot.id, "eaches": 1})
    seen, after = [], 0
    while after is not None:
        page = w.viewer.get(url(w.here, f"movements?after_id={after}&limit=2")).json
        seen += [m["id"] for m in page["items"]]
        after = page["next_after_id"]
    assert len(seen) == 5
    assert seen == sorted(seen)
    issues = w.viewer.get(url(w.here, "movements?kind=issue&limit=200")).json
    assert len(issues["items"]) == 4
    assert issues["next_after_id"] is None
    assert_problem(w.viewer.get(url(w.here, "movements?limit=0")), 422)
    assert_problem(w.viewer.get(url(w.here, "movements?after_id=-1")), 422)


def test_pick_list_is_fefo_and_skips_expired_and_empty(world):
    """Earliest unexpired expiry first; expired and emptied lots never appear."""
    w = world
    late = stock(w.here, w.tip, 5, 500, lot_number="LATE", expiry=in_days(300))
    soon = stock(w.here, w.tip, 2, 200, lot_number="SOON", expiry=in_days(20))
    empty = stock(w.here, w.tip, 1, 100, lot_number="EMPTY", expiry=in_days(5))
    service.issue(db.session, facility=w.here, lot=empty, eaches=1, actor=None)
    service.receive(
        db.session,
        facility=w.here,
        part=w.tip,
        lot_number="GONE",
        expiry_date=in_days(-2),
        eaches=4,
        value_cents=400,
        actor=None,
        reason="opening_balance",
        on_date=in_days(-10),
    )
    db.session.commit()
    picked = w.viewer.get(url(w.here, f"pick-list?part_id={w.tip.id}&eaches=4")).json
    assert [(p["lot_id"], p["eaches"]) for p in picked["picks"]] == [(soon.id, 2), (late.id, 2)]
    short = w.viewer.get(url(w.here, f"pick-list?part_id={w.tip.id}&eaches=8"))
    assert_problem(short, 409)
    assert (short.json["requested"], short.json["available"]) == (8, 7)


def test_par_levels_are_replaced_audited_and_raise_alerts(world):
    """PUT sets min/max (audited); alerts show below-min, expiring and expired stock."""
    w = world
    stock(w.here, w.tip, 3, 300, lot_number="SOON", expiry=in_days(30))
    service.receive(
        db.session,
        facility=w.here,
        part=w.cartridge,
        lot_number="GONE",
        expiry_date=in_days(-2),
        eaches=10,
        value_cents=1000,
        actor=None,
        reason="opening_balance",
        on_date=in_days(-10),
    )
    db.session.commit()
    body = {"levels": [{"part_id": w.tip.id, "min_eaches": 5, "max_eaches": 20}]}
    put = w.materials.client.put(
        url(w.here, "par-levels"), json=body, headers=w.materials.headers()
    )
    assert put.status_code == 200, put.json
    assert put.json["items"][0]["min_eaches"] == 5
    assert_problem(
        w.viewer.client.put(url(w.here, "par-levels"), json=body, headers=w.viewer.headers()), 403
    )
    bad = {"levels": [{"part_id": w.tip.id, "min_eaches": 5, "max_eaches": 2}]}
    assert_problem(
        w.materials.client.put(url(w.here, "par-levels"), json=bad, headers=w.materials.headers()),
        422,
    )
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("par_level.set") == 1
    alerts = w.viewer.get(url(w.here, "alerts")).json
    kinds = sorted((a["kind"], a["part_number"]) for a in alerts["items"])
    assert kinds == [
        ("below_min", "STT2309-5"),
        ("expired", "CRX2111-10"),
        ("expiring", "STT2309-5"),
    ]
    cleared = w.materials.client.put(
        url(w.here, "par-levels"), json={"levels": []}, headers=w.materials.headers()
    )
    assert cleared.json["items"] == []
    assert "par_level.delete" in db.session.scalars(select(AuditEvent.action)).all()


# --------------------------------------------------------------------------- idempotency


def test_idempotent_receipt_and_issue(world):
    """Same key + same body replays without a second row; a different body is 422."""
    w = world
    first = w.materials.post(url(w.here, "receipts"), json=receipt_body(w), key="rcpt-1")
    again = w.materials.post(url(w.here, "receipts"), json=receipt_body(w), key="rcpt-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert ledger_rows() == 1
    other = w.materials.post(url(w.here, "receipts"), json=receipt_body(w, packs=3), key="rcpt-1")
    assert_problem(other, 422)
    body = {"lot_id": first.json["lot_id"], "eaches": 1}
    w.clinician.post(url(w.here, "issues"), json=body, key="iss-1")
    w.clinician.post(url(w.here, "issues"), json=body, key="iss-1")
    assert ledger_rows() == 2


def test_lot_trace_shows_where_a_lot_went_at_your_facilities(world):
    """Receipt, transfer and a case issue are traced; each user sees only their facilities."""
    w = world
    lot = stock(w.here, w.tip, 5, 1000)
    w.materials.post(
        url(w.here, "transfers"), json={"lot_id": lot.id, "to_facility_id": w.there.id, "eaches": 2}
    )
    service.issue(
        db.session, facility=w.there, lot=lot, eaches=1, actor=None, reference=("case", 99)
    )
    db.session.commit()
    everywhere = w.materials.get(f"/api/v1/lots/{lot.id}/trace").json["items"]
    assert [(m["kind"], m["facility_id"]) for m in everywhere] == [
        ("receipt", w.here.id),
        ("transfer_out", w.here.id),
        ("transfer_in", w.there.id),
        ("issue", w.there.id),
    ]
    assert (everywhere[-1]["reference_type"], everywhere[-1]["reference_id"]) == ("case", 99)
    mine = w.viewer.get(f"/api/v1/lots/{lot.id}/trace?kind=transfer_out").json
    assert [m["kind"] for m in mine["items"]] == ["transfer_out"]
    paged = w.materials.get(f"/api/v1/lots/{lot.id}/trace?limit=3").json
    assert paged["next_after_id"] == everywhere[2]["id"]
    outsider_lot = stock(w.here, w.cartridge, 10, 100, lot_number="HERE-ONLY")
    assert_problem(w.outsider.get(f"/api/v1/lots/{outsider_lot.id}/trace"), 404)
