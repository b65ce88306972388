"""Recording cases: all or nothing, priced snapshot, supplies by lot, scan and FEFO."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from supply_app.cases.models import ProcedureCase
from supply_app.extensions import db
from tests.support.cases import (
    DOS,
    case_body,
    counts,
    give_gtin,
    gs1_scan,
    on_hand,
    receive_packs,
    usd,
)
from tests.support.factories import make_actor, make_facility, price_part, sync_parts


@pytest.fixture
def hopd(app):
    """An HOPD with tips (5-pack at $1,250.00) and cartridges (10-pack at $300.00) on hand."""
    parts = sync_parts(app)
    price_part(parts["STT2190-5"], 125_000)
    price_part(parts["CRX2111-10"], 30_000)
    facility = make_facility("HOPD")
    tips = receive_packs(facility, parts["STT2190-5"], "TIP-A", 1)
    carts = receive_packs(facility, parts["CRX2111-10"], "CART-A", 1)
    clinician = make_actor(app, "clinician", [facility])
    return {
        "facility": facility,
        "parts": parts,
        "tips": tips,
        "carts": carts,
        "clinician": clinician,
    }


def test_record_prices_and_consumes(hopd):
    """A case stores the coding module's amounts and consumes exactly its supplies."""
    facility, tips, carts = hopd["facility"], hopd["tips"], hopd["carts"]
    body = case_body(
        facility,
        "K-001",
        supplies=[
            {"part_id": tips.part_id, "lot_id": tips.id, "eaches": 2},
            {"part_id": carts.part_id, "eaches": 1},
        ],
    )
    response = hopd["clinician"].post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.json
    case = response.json
    # OPPS 64640: $903.63, second unit 50%; PFS facility 3.34 RVU × $33.4009.
    opps = usd("903.63") + usd("903.63", "0.5")
    pfs = usd("3.34", "33.4009") + usd(usd("3.34", "33.4009"), "0.5")
    assert case["facility_reimbursement"] == str(opps)
    assert case["professional_reimbursement"] == str(pfs)
    assert case["device_reimbursement"] == "0.00"
    assert case["medicare_benchmark"] == str(opps + pfs)
    assert case["reimbursement_complete"] is True
    assert case["supply_cost"] == "530.00"  # 2 tips at $250.00 + 1 cartridge at $30.00
    assert case["code_mix"] == "64640x2"
    assert case["site_of_service"] == "HOPD"
    assert case["pricing"]["schedule_version"] == case["schedule_version"]
    assert case["pricing"]["explanation"]
    assert [p["nerves"] for p in case["procedures"]] == [["lfcn", "afcn"]]
    assert [s["source"] for s in case["supplies"]] == ["lot", "fefo"]
    assert on_hand(facility, tips) == 3
    assert on_hand(facility, carts) == 9


def test_scan_supply(hopd, app):
    """A GS1 scan names part and lot; one each is consumed unless eaches is given."""
    facility, tips = hopd["facility"], hopd["tips"]
    gtin = give_gtin(hopd["parts"]["STT2190-5"], "0123456789012")
    scan = gs1_scan(gtin, "TIP-A", tips.expiry_date)
    body = case_body(facility, "K-002", supplies=[{"scan": scan}])
    response = hopd["clinician"].post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.json
    assert response.json["supplies"][0]["source"] == "scan"
    assert response.json["supplies"][0]["lot_id"] == tips.id
    assert on_hand(facility, tips) == 4


def test_fefo_picks_earliest_expiry_and_splits(hopd):
    """FEFO takes the earliest-expiring unexpired lot first and spans lots when needed."""
    facility, parts = hopd["facility"], hopd["parts"]
    soon = receive_packs(facility, parts["STT2190-5"], "TIP-SOON", 1, expiry=date(2026, 6, 30))
    body = case_body(facility, "K-003", supplies=[{"part_id": soon.part_id, "eaches": 7}])
    response = hopd["clinician"].post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.json
    taken = {s["lot_id"]: s["eaches"] for s in response.json["supplies"]}
    assert taken == {soon.id: 5, hopd["tips"].id: 2}
    assert response.json["supply_cost"] == "1750.00"


@pytest.mark.parametrize(
    ("supply", "status", "slug"),
    [
        ({"eaches": 6}, 409, "insufficient-stock"),
        ({"eaches": 1, "expired": True}, 409, "lot-expired"),
    ],
)
def test_short_or_expired_lot_rejects_whole_case(hopd, supply, status, slug):
    """One bad line rejects the case: no case, no supply, no movement, stock unchanged."""
    facility, parts, tips, carts = hopd["facility"], hopd["parts"], hopd["tips"], hopd["carts"]
    lot = tips
    if supply.get("expired"):
        lot = receive_packs(
            facility,
            parts["STT2190-5"],
            "TIP-OLD",
            1,
            expiry=DOS - timedelta(days=1),
            on=DOS - timedelta(days=30),
        )
    before = counts()
    body = case_body(
        facility,
        "K-004",
        supplies=[
            {"part_id": carts.part_id, "lot_id": carts.id, "eaches": 1},
            {"part_id": lot.part_id, "lot_id": lot.id, "eaches": supply["eaches"]},
        ],
    )
    response = hopd["clinician"].post("/api/v1/cases", json=body)
    assert response.status_code == status, response.json
    assert response.json["type"] == f"/problems/{slug}"
    if slug == "insufficient-stock":
        assert (response.json["requested"], response.json["available"]) == (6, 5)
    assert counts() == before
    assert on_hand(facility, carts) == 10
    assert on_hand(facility, lot) == 5


def test_fefo_short_rejects_whole_case(hopd):
    """FEFO that cannot cover the eaches is a 409 and writes nothing."""
    before = counts()
    body = case_body(
        hopd["facility"], "K-005", supplies=[{"part_id": hopd["carts"].part_id, "eaches": 11}]
    )
    response = hopd["clinician"].post("/api/v1/cases", json=body)
    assert response.status_code == 409
    assert response.json["available"] == 10
    assert counts() == before


def _future():
    return (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reference": "John Smith"}, "reference"),
        ({"reference": "x" * 33}, "reference"),
        ({"reference": ""}, "reference"),
        ({"patient_name": "Jane"}, "patient_name"),
        ({"notes": "knee pain"}, "notes"),
        ({"laterality": "both"}, "laterality"),
        ({"date_of_service": "2026-02-30"}, "date_of_service"),
        ({"date_of_service": "future"}, "date_of_service"),
        ({"procedures": []}, "procedures"),
        ({"procedures": [{"code": "99213"}]}, "procedures"),
        ({"procedures": [{"code": "64640", "nerves": ["sciatic"]}]}, "procedures"),
        ({"procedures": [{"code": "64640"}]}, "procedures[0].nerves"),
        ({"procedures": [{"code": "64640", "nerves": ["superolateral"]}]}, "procedures[0].nerves"),
        ({"procedures": [{"code": "64640", "nerves": ["afcn", "afcn"]}]}, "procedures[0].nerves"),
        (
            {"procedures": [{"code": "64640", "nerves": ["afcn", "lfcn"], "laterality": "50"}]},
            "procedures[0].units",
        ),
        ({"facility_id": 10**12}, "facility_id"),
        ({"supplies": [{"part_id": 1}]}, "supplies"),
        ({"supplies": [{"scan": "x", "part_id": 1}]}, "supplies"),
        ({"supplies": [{"part_id": 1, "eaches": 0}]}, "supplies"),
        ({"supplies": [{"part_id": 1, "eaches": 10**9}]}, "supplies"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(hopd, change, field):
    """Every bad field is a 422 problem naming it; nothing is written."""
    if change.get("date_of_service") == "future":
        change = {"date_of_service": _future()}
    before = counts()
    response = hopd["clinician"].post(
        "/api/v1/cases", json={**case_body(hopd["facility"], "K-BAD"), **change}
    )
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]["json"], response.json
    assert counts() == before


def test_c9809_in_office_is_not_payable(app):
    """C9809 has no payment in the office; the claim is refused naming the line."""
    facility = make_facility("office")
    clinician = make_actor(app, "clinician", [facility])
    body = case_body(
        facility, "O-1", procedures=[{"code": "64640", "nerves": ["afcn"]}, {"code": "C9809"}]
    )
    response = clinician.post("/api/v1/cases", json=body)
    assert response.status_code == 422
    assert "procedures[1].code" in response.json["errors"]["json"]


def test_supply_line_errors(hopd):
    """Lots of another part, unknown lots, capital equipment and non-GS1 scans are 422."""
    facility, tips, carts, parts = hopd["facility"], hopd["tips"], hopd["carts"], hopd["parts"]
    bad_lines = [
        ({"part_id": carts.part_id, "lot_id": tips.id, "eaches": 1}, "supplies[0].lot_id"),
        ({"part_id": tips.part_id, "lot_number": "NOPE", "eaches": 1}, "supplies[0].lot_number"),
        ({"part_id": parts["IST2221"].id, "eaches": 1}, "supplies[0].part_id"),
        ({"part_id": 999999, "eaches": 1}, "supplies[0].part_id"),
        ({"scan": "10D9T"}, "supplies[0].scan"),
    ]
    before = counts()
    for line, field in bad_lines:
        response = hopd["clinician"].post(
            "/api/v1/cases", json=case_body(facility, "K-6", supplies=[line])
        )
        assert response.status_code == 422, (line, response.json)
        assert field in response.json["errors"]["json"], (line, response.json)
    assert counts() == before


def test_duplicate_reference_is_422(hopd, app):
    """A reference is unique within a facility (the unique key decides); nothing is written."""
    clinician, facility, tips = hopd["clinician"], hopd["facility"], hopd["tips"]
    assert clinician.post("/api/v1/cases", json=case_body(facility, "K-7")).status_code == 201
    before = counts()
    body = case_body(facility, "K-7", supplies=[{"part_id": tips.part_id, "eaches": 1}])
    again = clinician.post("/api/v1/cases", json=body)
    assert again.status_code == 422
    assert "reference" in again.json["errors"]["json"]
    assert counts() == before
    assert on_hand(facility, tips) == 5
    elsewhere = make_facility("ASC")
    other = make_actor(app, "clinician", [elsewhere])
    assert other.post("/api/v1/cases", json=case_body(elsewhere, "K-7")).status_code == 201


def test_filing_limit_warning(hopd, clock):
    """Past the 12-month limit a case is still recorded, with a warning naming the date."""
    clinician, facility = hopd["clinician"], hopd["facility"]
    fresh = clinician.post("/api/v1/cases", json=case_body(facility, "K-8"))
    assert not any("filing limit" in w for w in fresh.json["warnings"])
    clock.at(datetime(2027, 3, 3, 12, tzinfo=UTC))
    late = clinician.post("/api/v1/cases", json=case_body(facility, "K-9"))
    assert late.status_code == 201, late.json
    assert any("filing limit" in w and "2027-03-02" in w for w in late.json["warnings"])


def test_roles_and_facility_scope(hopd, app):
    """Only clinicians and admins record; another facility's case and facility answer 404."""
    facility = hopd["facility"]
    for role in ("finance", "materials", "purchaser", "viewer"):
        actor = make_actor(app, role, [facility])
        assert actor.post("/api/v1/cases", json=case_body(facility, "R-1")).status_code == 403
    created = hopd["clinician"].post("/api/v1/cases", json=case_body(facility, "R-2")).json
    other = make_actor(app, "clinician", [make_facility("ASC")])
    assert other.post("/api/v1/cases", json=case_body(facility, "R-3")).status_code == 404
    assert other.get(f"/api/v1/cases/{created['id']}").status_code == 404
    assert other.get("/api/v1/cases").json["meta"]["total"] == 0
    assert hopd["clinician"].get("/api/v1/cases").json["items"][0]["id"] == created["id"]
    assert db.session.get(ProcedureCase, created["id"]).recorded_by_id == hopd["clinician"].user.id


def test_idempotent_record(hopd):
    """The same Idempotency-Key replays the first case instead of consuming stock twice."""
    clinician, facility, tips = hopd["clinician"], hopd["facility"], hopd["tips"]
    body = case_body(facility, "K-10", supplies=[{"part_id": tips.part_id, "eaches": 1}])
    first = clinician.post("/api/v1/cases", json=body, key="case-k10")
    again = clinician.post("/api/v1/cases", json=body, key="case-k10")
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert on_hand(facility, tips) == 4
