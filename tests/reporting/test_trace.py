"""Lot trace: who holds a lot and which cases used it, scoped to the caller's facilities."""

from __future__ import annotations

from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory import service as inventory
from tests.support.cases import case_body, receive_packs
from tests.support.factories import make_actor, make_facility, price_part, sync_parts


def test_trace_lists_holders_and_cases(app):
    """Every holding facility (on hand > 0) and every case using the lot, yours only."""
    parts = sync_parts(app)
    price_part(parts["STT2190-5"], 125_000)
    north, south, hidden = make_facility("HOPD"), make_facility("ASC"), make_facility("office")
    lot = receive_packs(north, parts["STT2190-5"], "RECALL-1", 2)
    inventory.transfer(
        db.session,
        source=north,
        destination=db.session.get(Facility, south.id),
        lot=lot,
        eaches=3,
        actor=None,
    )
    receive_packs(hidden, parts["STT2190-5"], "RECALL-1", 1)
    db.session.commit()
    clinician = make_actor(app, "clinician", [north, south, hidden])
    used = case_body(
        north, "TR-1", supplies=[{"part_id": lot.part_id, "lot_id": lot.id, "eaches": 7}]
    )
    case = clinician.post("/api/v1/cases", json=used)
    assert case.status_code == 201, case.json

    viewer = make_actor(app, "viewer", [north, south])
    trace = viewer.get(f"/api/v1/lots/{lot.id}/recall")
    assert trace.status_code == 200, trace.json
    assert trace.json["lot"]["lot_number"] == "RECALL-1"
    assert trace.json["part_number"] == "STT2190-5"
    assert [(h["facility_code"], h["on_hand"]) for h in trace.json["holdings"]] == [(south.code, 3)]
    assert [(c["reference"], c["eaches"], c["status"]) for c in trace.json["cases"]] == [
        ("TR-1", 7, "recorded")
    ]
    everyone = make_actor(app, "admin", all_facilities=True).get(f"/api/v1/lots/{lot.id}/recall")
    assert {h["facility_code"] for h in everyone.json["holdings"]} == {south.code, hidden.code}

    stranger = make_actor(app, "viewer", [make_facility("HOPD")])
    assert stranger.get(f"/api/v1/lots/{lot.id}/recall").status_code == 404
    assert viewer.get("/api/v1/lots/999999/recall").status_code == 404
