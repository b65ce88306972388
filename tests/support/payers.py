"""The payer tests' world: one facility per site of service, priced stock, and the people
who record cases, manage payers and read the margin report."""

from __future__ import annotations

from typing import Any

from supply_app.extensions import db
from tests.support.cases import case_body, receive_packs
from tests.support.factories import Actor, make_actor, make_facility, price_part, sync_parts

HEADER = "code,site_of_service,component,modifier,amount,effective_from,effective_to\n"
# TRICARE's CMAC-style extract for the hospital outpatient department: 64640's facility
# and professional amounts from 1 January 2026.
TRICARE_CSV = (
    HEADER
    + "64640,HOPD,facility,,850.00,2026-01-01,\n"
    + "64640,HOPD,professional,,101.50,2026-01-01,\n"
)
# A tip and a cartridge, the supplies every billed worked example uses:
# STT2190-5 at $1,250.00 a 5-pack = $250.00 a tip; CRX2111-10 at $300.00 a 10-pack =
# $30.00 a cartridge. Supply cost of one tip + one cartridge = $280.00.
SUPPLY_COST = "280.00"


def build_world(app) -> dict[str, Any]:
    """Three facilities (HOPD and ASC on the qualifying CF track, an office on the
    non-qualifying one), each holding tips and cartridges; the actors."""
    parts = sync_parts(app)
    price_part(parts["STT2190-5"], 125_000)
    price_part(parts["CRX2111-10"], 30_000)
    hopd = make_facility("HOPD", cf_track="qualifying_apm")
    asc = make_facility("ASC", cf_track="qualifying_apm")
    office = make_facility("office")
    lots = {}
    for facility in (hopd, asc, office):
        lots[facility.id] = (
            receive_packs(facility, parts["STT2190-5"], f"T-{facility.code}", 2),
            receive_packs(facility, parts["CRX2111-10"], f"C-{facility.code}", 1),
        )
    world = {
        "app": app,
        "parts": parts,
        "hopd": hopd,
        "asc": asc,
        "office": office,
        "lots": lots,
        "admin": make_actor(app, "admin", all_facilities=True),
        "finance": make_actor(app, "finance", all_facilities=True),
        "clinician": make_actor(app, "clinician", [hopd, asc, office]),
        "viewer": make_actor(app, "viewer", [hopd]),
    }
    db.session.commit()
    return world


def supplies(world: dict[str, Any], facility) -> list[dict[str, Any]]:
    """One tip and one cartridge from the facility's own lots ($280.00)."""
    tip, cartridge = world["lots"][facility.id]
    return [
        {"part_id": tip.part_id, "lot_id": tip.id, "eaches": 1},
        {"part_id": cartridge.part_id, "lot_id": cartridge.id, "eaches": 1},
    ]


def ok(response, status: int = 200) -> dict[str, Any]:
    """The JSON of a response that must have the given status."""
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.json


def new_payer(actor: Actor, name: str, basis: str, **terms: Any) -> dict[str, Any]:
    """Create a payer through the API."""
    return ok(actor.post("/api/v1/payers", json={"name": name, "basis": basis, **terms}), 201)


def load_fees(actor: Actor, payer_id: int, text: str):
    """PUT a fee table's CSV text (the response, whatever it is)."""
    return actor.client.put(
        f"/api/v1/payers/{payer_id}/fees", json={"csv": text}, headers=actor.headers()
    )


def put_json(actor: Actor, path: str, body: dict[str, Any]):
    """PUT JSON with the actor's token."""
    return actor.client.put(path, json=body, headers=actor.headers())


def record(world: dict[str, Any], facility, reference: str, **fields: Any) -> dict[str, Any]:
    """Record a case (one tip and one cartridge unless `supplies` is given) as the clinician."""
    body = case_body(facility, reference, **{"supplies": supplies(world, facility), **fields})
    return ok(world["clinician"].post("/api/v1/cases", json=body), 201)


def margin(actor: Actor, query: str = "") -> dict[str, Any]:
    """The margin report's JSON for a query string."""
    return ok(actor.get(f"/api/v1/reports/case-margin?per_page=100&{query}"))
