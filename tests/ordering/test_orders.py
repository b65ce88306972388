"""Purchase orders: drafts, lines, DoD fields, lifecycle, access, lists and bad input."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from supply_app.ordering.errors import SerialsExhausted
from supply_app.ordering.models import PurchaseOrder, PurchaseOrderLine, RequisitionSerial
from supply_app.ordering.service import julian_date, next_document_number
from tests.ordering.conftest import PRICES, count, fresh
from tests.support.factories import make_actor, make_facility, price_part

MILSTRIP = re.compile(r"^[A-Z0-9]{6}\d{4}\d{4}$")


def test_draft_with_lines_shows_packs_and_eaches_without_prices(world):
    """A draft holds packs and eaches; prices and the document number wait for submission."""
    order = world.draft({"STT2190-5": 4, "CRX2111-10": 2})
    assert order["status"] == "draft"
    assert order["contract_number"] == "SPE2DE-21-D-7004"
    assert order["fund_code"] == "2F"
    assert order["priority"] == "05"
    assert order["document_number"] is None
    assert order["total"] is None
    assert order["created_by"]["id"] == world.purchaser.user.id
    lines = {line["part_number"]: line for line in order["lines"]}
    assert lines["STT2190-5"]["packs"] == 4
    assert lines["STT2190-5"]["eaches"] == 20
    assert lines["CRX2111-10"]["eaches"] == 20
    assert lines["CRX2111-10"]["unit_price"] is None


def test_submit_snapshots_prices_totals_and_document_number(world):
    """Submission prices each line from the contract and numbers the requisition."""
    order = world.draft({"STT2190-5": 3, "CRX2111-10": 7, "IST2221": 1})
    response = world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "submitted"
    assert body["submitted_by"]["id"] == world.purchaser.user.id
    assert body["submitted_at"] is not None
    expected = 3 * PRICES["STT2190-5"] + 7 * PRICES["CRX2111-10"] + PRICES["IST2221"]
    assert body["total"] == f"{expected // 100}.{expected % 100:02d}"
    line = next(x for x in body["lines"] if x["part_number"] == "CRX2111-10")
    assert line["unit_price"] == "300.07"
    assert line["extended_price"] == "2100.49"
    assert MILSTRIP.match(body["document_number"])
    assert body["document_number"] == f"W81XWH{julian_date(date.today())}0001"
    assert body["ship_to_dodaac"] == "W81XWH"


def test_price_is_a_snapshot(world):
    """A later contract price change does not touch a submitted order."""
    order = world.draft({"STT2190-5": 2})
    world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    price_part(world.parts["STT2190-5"], 999_999, start=date.today() + timedelta(days=1))
    later = world.purchaser.get(f"/api/v1/orders/{order['id']}").json
    assert later["lines"][0]["unit_price"] == "1249.99"


def test_unpriced_line_blocks_submission_and_names_the_part(world):
    """STT2190STIM-5 has no price: submission is a 409 naming it, and nothing changes."""
    order = world.draft({"STT2190-5": 1, "STT2190STIM-5": 2})
    before = count(RequisitionSerial)
    response = world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "STT2190STIM-5" in response.json["detail"]
    assert response.json["part_numbers"] == ["STT2190STIM-5"]
    assert world.purchaser.get(f"/api/v1/orders/{order['id']}").json["status"] == "draft"
    assert count(RequisitionSerial) == before


def test_document_numbers_count_per_dodaac_and_day(app, world):
    """Serials run 0001, 0002… per DoDAAC and Julian date; another DoDAAC starts again."""
    day = date(2026, 3, 5)
    first = next_document_number(db.session, dodaac="W81XWH", on=day)
    second = next_document_number(db.session, dodaac="W81XWH", on=day)
    other = next_document_number(db.session, dodaac="N00001", on=day)
    next_day = next_document_number(db.session, dodaac="W81XWH", on=day + timedelta(days=1))
    assert (first, second, other, next_day) == (
        "W81XWH60640001",
        "W81XWH60640002",
        "N0000160640001",
        "W81XWH60650001",
    )
    assert julian_date(date(2030, 12, 31)) == "0365"
    assert julian_date(date(2028, 12, 31)) == "8366"


def test_serials_run_out_at_9999(app, world):
    """The 10,000th requisition of a DoDAAC on one day is refused, not wrapped."""
    day = date(2026, 3, 5)
    db.session.add(RequisitionSerial(dodaac="W81XWH", julian_date="6064", last_serial=9998))
    db.session.flush()
    assert next_document_number(db.session, dodaac="W81XWH", on=day) == "W81XWH60649999"
    with pytest.raises(SerialsExhausted, match="all 9999"):
        next_document_number(db.session, dodaac="W81XWH", on=day)
    db.session.rollback()


def test_lifecycle_records_who_and_when(world):
    """Draft → submitted → approved by someone else, each step stamped and audited."""
    order = world.approved({"STT2309-5": 2})
    assert order["status"] == "approved"
    assert order["approved_by"]["id"] == world.purchaser2.user.id
    assert order["approved_at"] >= order["submitted_at"] >= order["created_at"]
    fresh()
    actions = [
        e.action
        for e in db.session.scalars(
            db.select(AuditEvent)
            .where(AuditEvent.entity_type == "purchase_order")
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == ["order.submit", "order.approve"]


def test_self_approval_is_refused(world):
    """Neither the creator nor the submitter may approve; an admin may."""
    order = world.draft({"STT2309-5": 1})
    world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    response = world.purchaser.post(f"/api/v1/orders/{order['id']}/approve")
    assert response.status_code == 403
    assert response.json["type"] == "/problems/self-approval"
    assert world.admin.post(f"/api/v1/orders/{order['id']}/approve").json["status"] == "approved"


@pytest.mark.parametrize("role", ["materials", "clinician", "finance", "viewer"])
def test_only_purchasers_and_admins_approve(app, world, role):
    """Other roles get 403 on approve and the order stays submitted."""
    order = world.draft({"STT2309-5": 1})
    world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    other = make_actor(app, role, [world.facility])
    assert other.post(f"/api/v1/orders/{order['id']}/approve").status_code == 403
    assert world.purchaser.get(f"/api/v1/orders/{order['id']}").json["status"] == "submitted"


@pytest.mark.parametrize("role", ["materials", "clinician", "finance", "viewer"])
def test_only_purchasers_and_admins_build(app, world, role):
    """Other roles may not create drafts."""
    actor = make_actor(app, role, [world.facility])
    response = actor.post("/api/v1/orders", json=world.header())
    assert response.status_code == 403
    assert count(PurchaseOrder) == 0


def test_illegal_transitions_are_409_naming_the_state(world):
    """Approve a draft, submit twice, cancel twice: 409 with the current state."""
    order = world.draft({"STT2309-5": 1})
    oid = order["id"]
    early = world.purchaser2.post(f"/api/v1/orders/{oid}/approve")
    assert early.status_code == 409
    assert early.json["current_state"] == "draft"
    assert "is draft" in early.json["detail"]
    world.purchaser.post(f"/api/v1/orders/{oid}/submit")
    again = world.purchaser.post(f"/api/v1/orders/{oid}/submit")
    assert again.status_code == 409
    assert again.json["current_state"] == "submitted"
    assert world.purchaser.post(f"/api/v1/orders/{oid}/cancel", json={}).status_code == 200
    twice = world.purchaser.post(f"/api/v1/orders/{oid}/cancel", json={})
    assert twice.status_code == 409
    assert twice.json["current_state"] == "cancelled"


@pytest.mark.parametrize("stage", ["draft", "submitted", "approved"])
def test_cancel_from_open_states(world, stage):
    """Cancel works from draft, submitted and approved, recording who, when and why."""
    order = world.draft({"STT2309-5": 1})
    if stage != "draft":
        world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    if stage == "approved":
        world.purchaser2.post(f"/api/v1/orders/{order['id']}/approve")
    response = world.purchaser2.post(
        f"/api/v1/orders/{order['id']}/cancel", json={"reason": "Duplicate"}
    )
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["cancelled_by"]["id"] == world.purchaser2.user.id
    assert response.json["cancel_reason"] == "Duplicate"


def test_edit_draft_lines_and_header(world):
    """Lines are added, changed and removed; header fields edited, while a draft."""
    order = world.draft({"STT2309-5": 1})
    oid = order["id"]
    added = world.purchaser.post(
        f"/api/v1/orders/{oid}/lines",
        json={"part_id": world.parts["CRX2111-10"].id, "packs": 3},
    )
    assert added.status_code == 201
    line = next(x for x in added.json["lines"] if x["part_number"] == "CRX2111-10")
    changed = world.purchaser.patch(f"/api/v1/orders/{oid}/lines/{line['id']}", json={"packs": 9})
    assert changed.status_code == 200
    assert next(x for x in changed.json["lines"] if x["id"] == line["id"])["packs"] == 9
    removed = world.purchaser.client.delete(
        f"/api/v1/orders/{oid}/lines/{line['id']}", headers=world.purchaser.headers()
    )
    assert removed.status_code == 200
    assert [x["part_number"] for x in removed.json["lines"]] == ["STT2309-5"]
    edited = world.purchaser.patch(f"/api/v1/orders/{oid}", json={"priority": "02", "notes": None})
    assert edited.json["priority"] == "02"
    assert edited.json["notes"] is None


def test_lines_on_a_non_draft_order_are_refused(world):
    """Once submitted, lines and header cannot change: 409, nothing written."""
    order = world.draft({"STT2309-5": 1})
    oid = order["id"]
    world.purchaser.post(f"/api/v1/orders/{oid}/submit")
    before = count(PurchaseOrderLine)
    add = world.purchaser.post(
        f"/api/v1/orders/{oid}/lines", json={"part_number": "CRX2111-10", "packs": 1}
    )
    assert add.status_code == 409
    assert add.json["current_state"] == "submitted"
    line_id = order["lines"][0]["id"]
    changed = world.purchaser.patch(f"/api/v1/orders/{oid}/lines/{line_id}", json={"packs": 5})
    assert changed.status_code == 409
    assert world.purchaser.patch(f"/api/v1/orders/{oid}", json={"notes": "x"}).status_code == 409
    assert count(PurchaseOrderLine) == before
    assert world.purchaser.get(f"/api/v1/orders/{oid}").json["lines"][0]["packs"] == 1


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"part_number": "NOPE-1", "packs": 1}, "part_number"),
        ({"part_id": 999999, "packs": 1}, "part_id"),
        ({"part_number": "STT2309-5", "packs": 0}, "packs"),
        ({"part_number": "STT2309-5", "packs": -3}, "packs"),
        ({"part_number": "STT2309-5", "packs": 1001}, "packs"),
        ({"part_number": "STT2309-5", "packs": 10**15}, "packs"),
        ({"part_number": "STT2309-5", "packs": 2.5}, "packs"),
        ({"part_number": "STT2309-5", "packs": "3"}, "packs"),
        ({"part_number": "STT2309-5"}, "packs"),
        ({"packs": 1}, "part_id"),
        ({"part_number": "STT2309-5", "part_id": 1, "packs": 1}, "part_id"),
        ({"part_number": "x" * 41, "packs": 1}, "part_number"),
    ],
)
def test_bad_lines_are_422_and_write_nothing(world, line, field):
    """Unknown parts and zero, negative, fractional or absurd pack counts are refused."""
    response = world.purchaser.post("/api/v1/orders", json=world.header(lines=[line]))
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in str(response.json["errors"])
    assert count(PurchaseOrder) == 0
    assert count(PurchaseOrderLine) == 0


def test_bad_line_on_existing_draft_writes_nothing(world):
    """Adding an unknown part or a repeated part to a draft changes nothing."""
    order = world.draft({"STT2309-5": 1})
    before = count(PurchaseOrderLine)
    unknown = world.purchaser.post(
        f"/api/v1/orders/{order['id']}/lines", json={"part_number": "ZZZ-9", "packs": 1}
    )
    assert unknown.status_code == 422
    assert "part_number" in unknown.json["errors"]["json"]
    repeat = world.purchaser.post(
        f"/api/v1/orders/{order['id']}/lines", json={"part_number": "STT2309-5", "packs": 1}
    )
    assert repeat.status_code == 422
    assert count(PurchaseOrderLine) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fund_code": "2"}, "fund_code"),
        ({"fund_code": "2F9"}, "fund_code"),
        ({"fund_code": "$%"}, "fund_code"),
        ({"priority": "00"}, "priority"),
        ({"priority": "16"}, "priority"),
        ({"priority": 5}, "priority"),
        ({"priority": "5"}, "priority"),
        ({"required_delivery_date": "2026-13-01"}, "required_delivery_date"),
        ({"required_delivery_date": "9999-12-31"}, "required_delivery_date"),
        ({"notes": "x" * 1001}, "notes"),
        ({"facility_id": 10**12}, "facility_id"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_header_fields_are_422(world, change, field):
    """Each DoD field is validated and named; nothing is written."""
    response = world.purchaser.post("/api/v1/orders", json={**world.header(), **change})
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert count(PurchaseOrder) == 0


def test_delivery_date_in_the_past_is_refused(world):
    """A required delivery date before today is 422 on create, edit and submit."""
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    created = world.purchaser.post(
        "/api/v1/orders", json=world.header(required_delivery_date=yesterday)
    )
    assert created.status_code == 422
    assert "required_delivery_date" in created.json["errors"]["json"]
    assert count(PurchaseOrder) == 0
    order = world.draft({"STT2309-5": 1})
    edited = world.purchaser.patch(
        f"/api/v1/orders/{order['id']}", json={"required_delivery_date": yesterday}
    )
    assert edited.status_code == 422
    # A draft whose date has passed since it was written cannot be submitted.
    fresh()
    draft = db.session.get(PurchaseOrder, order["id"])
    draft.required_delivery_date = date.today() - timedelta(days=2)
    db.session.commit()
    submitted = world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    assert submitted.status_code == 422
    assert world.purchaser.get(f"/api/v1/orders/{order['id']}").json["status"] == "draft"


def test_empty_draft_cannot_be_submitted(world):
    """An order with no lines is not a requisition."""
    response = world.purchaser.post("/api/v1/orders", json=world.header())
    submitted = world.purchaser.post(f"/api/v1/orders/{response.json['id']}/submit")
    assert submitted.status_code == 422
    assert "lines" in submitted.json["errors"]["json"]


def test_another_facilitys_orders_are_404(app, world):
    """A purchaser of facility B cannot see, list, change or create A's orders."""
    order = world.draft({"STT2309-5": 1})
    other_facility = make_facility("ASC")
    outsider = make_actor(app, "purchaser", [other_facility])
    oid = order["id"]
    assert outsider.get(f"/api/v1/orders/{oid}").status_code == 404
    assert outsider.get(f"/api/v1/orders/{oid}/ecat").status_code == 404
    assert outsider.post(f"/api/v1/orders/{oid}/submit").status_code == 404
    assert outsider.post(f"/api/v1/orders/{oid}/cancel", json={}).status_code == 404
    assert outsider.patch(f"/api/v1/orders/{oid}", json={"notes": "x"}).status_code == 404
    assert outsider.get("/api/v1/orders").json["meta"]["total"] == 0
    assert outsider.get(f"/api/v1/orders?facility_id={world.facility.id}").status_code == 404
    created = outsider.post("/api/v1/orders", json=world.header())
    assert created.status_code == 404
    assert count(PurchaseOrder) == 1
    assert world.purchaser.get(f"/api/v1/orders/{oid}").json["status"] == "draft"


def test_list_is_paginated_stable_and_filtered(app, world):
    """Newest first by id, filters by status and facility, bounded paging."""
    ids = [world.draft({"STT2309-5": n})["id"] for n in range(1, 6)]
    world.purchaser.post(f"/api/v1/orders/{ids[0]}/submit")
    page1 = world.viewer.get("/api/v1/orders?per_page=2").json
    page2 = world.viewer.get("/api/v1/orders?per_page=2&page=2").json
    assert page1["meta"] == {"page": 1, "per_page": 2, "total": 5, "pages": 3}
    assert [o["id"] for o in page1["items"] + page2["items"]] == sorted(ids, reverse=True)[:4]
    submitted = world.viewer.get("/api/v1/orders?status=submitted").json
    assert [o["id"] for o in submitted["items"]] == [ids[0]]
    mine = world.viewer.get(f"/api/v1/orders?facility_id={world.facility.id}").json
    assert mine["meta"]["total"] == 5
    today = date.today().isoformat()
    dated = world.viewer.get(f"/api/v1/orders?created_from={today}&created_to={today}").json
    assert dated["meta"]["total"] == 5
    assert world.viewer.get("/api/v1/orders?status=lost").status_code == 422
    assert world.viewer.get("/api/v1/orders?per_page=1000").status_code == 422
    assert world.viewer.get("/api/v1/orders?page=922337203685477582").status_code == 422


def test_dates_in_the_wrong_order_are_422(world):
    """created_from after created_to is refused."""
    response = world.viewer.get("/api/v1/orders?created_from=2026-05-02&created_to=2026-05-01")
    assert response.status_code == 422
    assert "created_from" in response.json["errors"]["json"]


def test_deactivated_facility_takes_no_new_orders(app, world):
    """A deactivated facility's draft can be neither created nor submitted."""
    order = world.draft({"STT2309-5": 1})
    world.admin.patch(f"/api/v1/facilities/{world.facility.id}", json={"active": False})
    assert world.purchaser.post("/api/v1/orders", json=world.header()).status_code == 409
    assert world.purchaser.post(f"/api/v1/orders/{order['id']}/submit").status_code == 409
    assert count(PurchaseOrder) == 1


def test_idempotent_create_replays(world):
    """The same Idempotency-Key and body create one order."""
    body = world.header(lines=[{"part_number": "STT2309-5", "packs": 2}])
    first = world.purchaser.post("/api/v1/orders", json=body, key="order-1")
    again = world.purchaser.post("/api/v1/orders", json=body, key="order-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    assert count(PurchaseOrder) == 1
