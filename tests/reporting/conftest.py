"""The reporting tests' world: three facilities, one per site of service, one case each."""

from __future__ import annotations

import pytest

from tests.support.cases import case_body, give_gtin, gs1_scan, receive_packs
from tests.support.factories import make_actor, make_facility, price_part, sync_parts


@pytest.fixture
def world(app):
    """Three facilities (one per site of service) with stock and one case each."""
    parts = sync_parts(app)
    price_part(parts["STT2190-5"], 125_000)  # $250.00 a tip
    price_part(parts["STT2309-5"], 110_000)  # $220.00 a tip
    price_part(parts["CRX2111-10"], 30_000)  # $30.00 a cartridge
    hopd = make_facility("HOPD")
    asc = make_facility("ASC", cf_track="qualifying_apm")
    office = make_facility("office")
    lots = {}
    for facility in (hopd, asc, office):
        lots[facility.site_of_service] = (
            receive_packs(facility, parts["STT2190-5"], "T190-1", 1),
            receive_packs(facility, parts["STT2309-5"], "T309-1", 1),
            receive_packs(facility, parts["CRX2111-10"], "C-1", 1),
        )
    finance = make_actor(app, "finance", all_facilities=True)
    for site, amount in (("HOPD", "250.00"), ("ASC", "180.00")):
        response = finance.client.put(
            f"/api/v1/fee-schedules/2026/overrides/C9809/{site}",
            json={"amount": amount},
            headers=finance.headers(),
        )
        assert response.status_code == 200
    clinician = make_actor(app, "clinician", [hopd, asc, office])
    gtin = give_gtin(parts["STT2309-5"], "0081234500011")
    t190, _t309, carts = lots["HOPD"]
    bodies = [
        case_body(
            hopd,
            "H-1",
            procedures=[
                {"code": "64640", "nerves": ["afcn", "isn_superior", "isn_inferior"]},
                {"code": "C9809"},
            ],
            supplies=[
                {"part_id": t190.part_id, "lot_id": t190.id, "eaches": 1},
                {"part_id": carts.part_id, "eaches": 1},
            ],
        ),
        case_body(
            asc,
            "A-1",
            laterality="LT",
            date_of_service="2026-04-15",
            procedures=[
                {"code": "64624", "nerves": ["superolateral", "superomedial", "inferomedial"]},
                {"code": "64640", "nerves": ["afcn"]},
                {"code": "C9809"},
            ],
            supplies=[
                {"scan": gs1_scan(gtin, "T309-1", lots["ASC"][1].expiry_date), "eaches": 2},
                {"part_id": carts.part_id, "lot_number": "C-1", "eaches": 1},
            ],
        ),
        case_body(
            office,
            "O-1",
            date_of_service="2026-04-20",
            procedures=[{"code": "64640", "nerves": ["lfcn", "afcn"]}],
            supplies=[
                {"part_id": t190.part_id, "eaches": 1},
                {"part_id": carts.part_id, "eaches": 1},
            ],
        ),
    ]
    cases = []
    for body in bodies:
        response = clinician.post("/api/v1/cases", json=body)
        assert response.status_code == 201, response.json
        cases.append(response.json)
    return {"finance": finance, "clinician": clinician, "cases": cases, "hopd": hopd, "asc": asc}
