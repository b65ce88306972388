"""Who may read and change payers and equipment costs, and what the audit log keeps.

Payers (and their fee tables) price every facility's cases: a global change, made only
by finance or admins who hold every facility. Equipment costs are a facility's own:
finance or admins of that facility set them, and other facilities' figures are 404.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.auth.permissions import PAYERS_ARE_GLOBAL
from supply_app.extensions import db
from tests.support.factories import make_actor
from tests.support.payers import (
    TRICARE_CSV,
    build_world,
    load_fees,
    new_payer,
    ok,
    put_json,
    record,
)

HANDPIECE = {"acquisition": "7200.00", "life_years": 5, "cases_per_year": 200}


@pytest.fixture
def world(app):
    """The facilities, the actors and one commercial payer."""
    world = build_world(app)
    world["payer"] = new_payer(
        world["finance"], "Commercial", "percent_of_medicare", percent="120.00"
    )
    return world


def test_finance_holding_one_facility_cannot_change_payers(world, app):
    """403 naming why, before anything is looked at; nothing changes."""
    local = make_actor(app, "finance", [world["hopd"]])
    payer_id = world["payer"]["id"]
    answers = [
        local.post("/api/v1/payers", json={"name": "Mine", "basis": "not_billed"}),
        local.patch(f"/api/v1/payers/{payer_id}", json={"percent": "150.00"}),
        load_fees(local, payer_id, TRICARE_CSV),
    ]
    for response in answers:
        assert response.status_code == 403, response.json
        assert response.json["detail"].startswith(PAYERS_ARE_GLOBAL)
    payer = ok(world["viewer"].get(f"/api/v1/payers/{payer_id}"))
    assert (payer["percent"], payer["revision"], payer["fee_rows"]) == ("120.00", 1, 0)
    # They still read payers, and set their own facility's equipment cost.
    assert ok(local.get("/api/v1/payers"))["items"]
    ok(put_json(local, f"/api/v1/facilities/{world['hopd'].id}/equipment-costs", HANDPIECE))


def test_viewers_read_payers_and_tables_but_change_nothing(world, app):
    """Report readers read; everyone else is refused by role."""
    viewer, payer_id = world["viewer"], world["payer"]["id"]
    names = [p["name"] for p in ok(viewer.get("/api/v1/payers"))["items"]]
    assert names == sorted(names)
    assert "Commercial" in names
    assert ok(viewer.get(f"/api/v1/payers/{payer_id}"))["basis"] == "percent_of_medicare"
    assert ok(viewer.get(f"/api/v1/payers/{payer_id}/fees"))["items"] == []
    refused = viewer.post("/api/v1/payers", json={"name": "V", "basis": "not_billed"})
    assert refused.status_code == 403
    assert refused.json["detail"].startswith("Your role")
    purchaser = make_actor(app, "purchaser", [world["hopd"]])
    assert purchaser.get("/api/v1/payers").status_code == 403
    assert viewer.get("/api/v1/payers/2147483647").status_code == 404


def test_equipment_costs_are_scoped_to_the_facility(world, app):
    """Another facility's figures are 404 to read, set or remove; viewers only read."""
    local = make_actor(app, "finance", [world["hopd"]])
    hopd, asc = world["hopd"].id, world["asc"].id
    ok(put_json(world["finance"], f"/api/v1/facilities/{asc}/equipment-costs", HANDPIECE))
    for response in (
        local.get(f"/api/v1/facilities/{asc}/equipment-costs"),
        put_json(local, f"/api/v1/facilities/{asc}/equipment-costs", HANDPIECE),
        local.post(f"/api/v1/facilities/{asc}/equipment-costs/remove", json={}),
    ):
        assert response.status_code == 404, response.json
    assert ok(local.get(f"/api/v1/facilities/{hopd}/equipment-costs"))["items"] == []
    viewer = world["viewer"]
    assert ok(viewer.get(f"/api/v1/facilities/{hopd}/equipment-costs"))["items"] == []
    assert (
        put_json(viewer, f"/api/v1/facilities/{hopd}/equipment-costs", HANDPIECE).status_code == 403
    )
    missing = local.post(f"/api/v1/facilities/{hopd}/equipment-costs/remove", json={})
    assert missing.status_code == 404
    # The ASC's figure is untouched by any of it.
    listed = ok(world["finance"].get(f"/api/v1/facilities/{asc}/equipment-costs"))["items"]
    assert [row["per_case"] for row in listed] == ["7.20"]


def test_salvage_above_cost_is_refused_by_field(world):
    """Salvage more than the acquisition cost cannot spread: 422 naming salvage."""
    response = put_json(
        world["finance"],
        f"/api/v1/facilities/{world['hopd'].id}/equipment-costs",
        {**HANDPIECE, "salvage": "7200.01"},
    )
    assert response.status_code == 422
    assert "salvage" in response.json["errors"]["json"]


def test_another_facility_s_case_cannot_change_payer(world, app):
    """A clinician of the ASC only gets 404 for an HOPD case; a voided case is 409."""
    case = record(world, world["hopd"], "P-1")
    asc_only = make_actor(app, "clinician", [world["asc"]])
    path = f"/api/v1/cases/{case['id']}/payer"
    assert asc_only.post(path, json={"payer_id": world["payer"]["id"]}).status_code == 404
    viewer = world["viewer"]
    assert viewer.post(path, json={"payer_id": world["payer"]["id"]}).status_code == 403
    unknown = world["clinician"].post(path, json={"payer_id": 2147483647})
    assert unknown.status_code == 422
    assert "payer_id" in unknown.json["errors"]["json"]
    ok(world["clinician"].post(f"/api/v1/cases/{case['id']}/void", json={"reason": "typo"}))
    voided = world["clinician"].post(path, json={"payer_id": world["payer"]["id"]})
    assert voided.status_code == 409


def test_a_deactivated_payer_prices_no_new_case_and_a_default_cannot_be_deactivated(world):
    """Deactivating: refused while a facility defaults to it; then no case may name it."""
    finance, admin, payer_id = world["finance"], world["admin"], world["payer"]["id"]
    ok(admin.patch(f"/api/v1/facilities/{world['asc'].id}", json={"default_payer_id": payer_id}))
    refused = finance.patch(f"/api/v1/payers/{payer_id}", json={"active": False})
    assert refused.status_code == 409
    assert world["asc"].code in refused.json["detail"]
    national = next(
        p["id"]
        for p in ok(finance.get("/api/v1/payers"))["items"]
        if p["name"] == "Medicare national"
    )
    ok(admin.patch(f"/api/v1/facilities/{world['asc'].id}", json={"default_payer_id": national}))
    assert (
        ok(finance.patch(f"/api/v1/payers/{payer_id}", json={"active": False}))["active"] is False
    )
    response = world["clinician"].post(
        "/api/v1/cases",
        json={
            "facility_id": world["hopd"].id,
            "reference": "OFF-1",
            "date_of_service": "2026-03-02",
            "laterality": "RT",
            "procedures": [{"code": "64640", "nerves": ["afcn"]}],
            "payer_id": payer_id,
        },
    )
    assert response.status_code == 422
    assert "deactivated" in response.json["detail"]


def test_a_percentage_payer_needs_its_percentage_and_names_are_unique(world):
    """422 naming percent; 409 naming name (case-insensitively)."""
    finance = world["finance"]
    no_percent = finance.post("/api/v1/payers", json={"name": "P", "basis": "percent_of_medicare"})
    assert no_percent.status_code == 422
    assert "percent" in no_percent.json["errors"]["json"]
    taken = finance.post("/api/v1/payers", json={"name": "COMMERCIAL", "basis": "not_billed"})
    assert taken.status_code == 409
    assert "name" in taken.json["errors"]["json"]
    empty = finance.patch(f"/api/v1/payers/{world['payer']['id']}", json={})
    assert empty.status_code == 422


def test_payer_changes_are_audited_with_before_and_after(world):
    """payer.create, payer.update (only when something changed), payer.fees.replace and
    equipment_cost.set, each with its actor."""
    finance, payer_id = world["finance"], world["payer"]["id"]
    ok(finance.patch(f"/api/v1/payers/{payer_id}", json={"percent": "115.00", "note": "2027"}))
    ok(finance.patch(f"/api/v1/payers/{payer_id}", json={"note": "2027"}))  # no change
    tricare = new_payer(finance, "TRICARE", "fee_table")
    ok(load_fees(finance, tricare["id"], TRICARE_CSV))
    ok(put_json(finance, f"/api/v1/facilities/{world['hopd'].id}/equipment-costs", HANDPIECE))
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.like("payer%") | AuditEvent.action.like("equipment%"))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.entity_type) for e in events] == [
        ("payer.create", "payer"),
        ("payer.update", "payer"),
        ("payer.create", "payer"),
        ("payer.fees.replace", "payer"),
        ("equipment_cost.set", "equipment_cost"),
    ]
    assert {e.actor_id for e in events} == {finance.user.id}
    update = events[1]
    assert (update.before["percent_hundredths"], update.after["percent_hundredths"]) == (
        12000,
        11500,
    )
    assert (update.before["revision"], update.after["revision"]) == (1, 2)
    assert update.after["note"] == "2027"
    equipment = events[-1]
    assert equipment.facility_id == world["hopd"].id
    assert equipment.before is None
    assert equipment.after["per_case"] == "7.20"
    assert equipment.after["cases_recosted"] == 0
