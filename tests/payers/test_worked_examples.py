"""Worked examples per basis, each recorded as a real case through the API, with the
arithmetic written out. Dates of service are 2 March 2026 (CY2026 schedule); the HOPD and
the ASC are on the qualifying-APM conversion factor (33.5675), the office on the
non-qualifying one (33.4009). Supplies: one tip ($250.00) + one cartridge ($30.00) =
$280.00 unless said otherwise.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from tests.support.cases import case_body
from tests.support.payers import (
    SUPPLY_COST,
    TRICARE_CSV,
    build_world,
    load_fees,
    margin,
    new_payer,
    ok,
    put_json,
    record,
)

TWO_KNEE_NERVES = [{"code": "64640", "nerves": ["afcn", "lfcn"]}]
ONE_KNEE_NERVE = [{"code": "64640", "nerves": ["afcn"]}]
# Medicare national, HOPD, 64640 × 2 units (QP): facility 903.63 + 903.63 × 50% = 451.815
# → 451.82, = 1355.45; professional 112.12 + 56.06 = 168.18; benchmark 1523.63.
HOPD_TWO_NERVE_BENCHMARK = "1523.63"


@pytest.fixture
def world(app):
    """The facilities, their stock and the actors."""
    return build_world(app)


def receive_handpiece(world: dict, facility, serial: str) -> int:
    """Put a serialised handpiece (IST2221) on the facility's shelf; its lot id."""
    received = world["admin"].post(
        f"/api/v1/facilities/{facility.id}/receipts",
        json={
            "part_id": world["parts"]["IST2221"].id,
            "serial": serial,
            "lot_number": serial,
            "expiry_date": "2036-01-01",
            "eaches": 1,
            "unit_cost": "9000.00",
            "reason": "opening_balance",
        },
    )
    assert received.status_code == 201, received.json
    return received.json["lot_id"]


def _case_row(report: dict, case_id: int) -> dict:
    return next(row for row in report["items"] if row["case_id"] == case_id)


def test_an_active_duty_case_is_cost_only_and_never_a_loss(world):
    """Not billed: collection 0.00, the benchmark kept, the supplies counted as cost."""
    active = new_payer(world["finance"], "Active duty", "not_billed")
    case = record(world, world["hopd"], "AD-1", payer_id=active["id"])
    assert (case["payer_name"], case["billed"]) == ("Active duty", False)
    assert case["expected_collection"] == "0.00"
    assert case["collection_complete"] is True
    assert case["medicare_benchmark"] == HOPD_TWO_NERVE_BENCHMARK
    assert case["supply_cost"] == SUPPLY_COST
    row = _case_row(margin(world["finance"], "group_by=case"), case["id"])
    # No billed case in the row: the margin is empty, never -280.00.
    assert (row["billed_cases"], row["margin"], row["margin_after_equipment"]) == (0, None, None)
    assert row["not_billed_cost"] == "280.00"
    assert row["billed_supply_cost"] == "0.00"
    assert row["medicare_benchmark"] == HOPD_TWO_NERVE_BENCHMARK


def test_a_tricare_fee_table_case(world):
    """TRICARE's table (loaded from CSV) with Medicare's ranking over its amounts."""
    tricare = new_payer(world["finance"], "TRICARE (CMAC locality 0100)", "fee_table")
    table = ok(load_fees(world["finance"], tricare["id"], TRICARE_CSV))
    assert (table["revision"], len(table["items"])) == (2, 2)
    case = record(world, world["hopd"], "TRI-1", payer_id=tricare["id"])
    # Facility: 850.00 (rank 1) + 850.00 × 50% = 425.00 (rank 2) = 1275.00.
    # Professional: 101.50 + 101.50 × 50% = 50.75 → 152.25. Collection 1427.25.
    assert case["expected_collection"] == "1427.25"
    assert case["collection"]["facility_total"] == "1275.00"
    assert case["collection"]["professional_total"] == "152.25"
    assert case["medicare_benchmark"] == HOPD_TWO_NERVE_BENCHMARK
    explained = " ".join(case["collection"]["explanation"]) + " ".join(
        note for line in case["collection"]["lines"] for note in line["explanation"]
    )
    assert "TRICARE (CMAC locality 0100) fee table" in explained
    # Margin: 1427.25 − 280.00 = 1147.25.
    assert _case_row(margin(world["finance"]), case["id"])["margin"] == "1147.25"


def test_a_commercial_120_percent_case(world):
    """120% of each Medicare figure, rounded half up per component."""
    commercial = new_payer(
        world["finance"], "Commercial 120%", "percent_of_medicare", percent="120.00"
    )
    assert commercial["percent"] == "120.00"
    case = record(
        world, world["hopd"], "COM-1", payer_id=commercial["id"], procedures=ONE_KNEE_NERVE
    )
    # Benchmark: 903.63 + 112.12 = 1015.75.
    # Facility 903.63 × 120% = 1084.356 → 1084.36; professional 112.12 × 120% = 134.544
    # → 134.54; collection 1218.90. Margin 1218.90 − 280.00 = 938.90; margin % =
    # 938.90 / 1218.90 = 77.03%.
    assert case["medicare_benchmark"] == "1015.75"
    assert case["expected_collection"] == "1218.90"
    row = _case_row(margin(world["finance"]), case["id"])
    assert (row["margin"], row["margin_pct"]) == ("938.90", "77.03")


def test_an_asc_bilateral_case_is_two_ranked_lines(world):
    """64624 both knees at the ASC: RT and LT lines each ranked, not one line at 150%."""
    case = record(
        world,
        world["asc"],
        "ASC-BI",
        laterality="bilateral",
        procedures=[{"code": "64624", "nerves": ["superolateral", "superomedial", "inferomedial"]}],
    )
    # Facility: 64624-RT 948.66 (rank 1, 100%) + 64624-LT 948.66 × 50% = 474.33 (rank 2)
    # = 1422.99. Professional (PFS facility rate): 3.99 RVUs × 33.5675 = 133.93, modifier
    # 50 at 150% = 200.895 → 200.90. Benchmark (and collection, Medicare national) 1623.89.
    assert case["payer_name"] == "Medicare national"
    assert case["facility_reimbursement"] == "1422.99"
    assert case["professional_reimbursement"] == "200.90"
    assert case["medicare_benchmark"] == case["expected_collection"] == "1623.89"
    notes = [note for line in case["pricing"]["lines"] for note in line["explanation"]]
    assert any("two lines, 64624-RT and 64624-LT" in note for note in notes)
    assert any("64624-RT ranks 1 of 2, paid 100% = $948.66" in note for note in notes)
    assert any("64624-LT ranks 2 of 2, paid 50% = $474.33" in note for note in notes)
    assert not any("150%" in note and "ASC" in note for note in notes)


def test_a_64624_52_office_case_is_marked_estimated(world):
    """One genicular nerve in the office: modifier 52 under the PFS, an estimate."""
    case = record(
        world,
        world["office"],
        "OFF-52",
        procedures=[{"code": "64624", "nerves": ["superomedial"]}],
    )
    # Non-qualifying CF: 12.32 RVUs × 33.4009 = 411.499 → 411.50 (non-facility rate, no
    # facility payment in the office); modifier 52 at 50% = 205.75, which the contractor
    # sets: an estimate.
    assert case["code_mix"] == "64624-52x1"
    assert case["facility_reimbursement"] == "0.00"
    assert case["professional_reimbursement"] == "205.75"
    assert case["medicare_benchmark"] == "205.75"
    assert case["estimated"] is True
    assert case["pricing"]["estimated"] is True
    listed = ok(world["clinician"].get(f"/api/v1/cases?facility_id={world['office'].id}"))
    assert listed["items"][0]["estimated"] is True
    # Margin 205.75 − 280.00 = −74.25: a billed case can lose money.
    assert _case_row(margin(world["finance"]), case["id"])["margin"] == "-74.25"


def test_a_locality_adjusted_hopd_case(world):
    """The OPPS payment moved by the facility's wage index; none set is a 422."""
    local = new_payer(world["finance"], "Medicare, locality-adjusted", "medicare_locality")
    refused = world["clinician"].post(
        "/api/v1/cases",
        json={
            "facility_id": world["hopd"].id,
            "reference": "LOC-0",
            "date_of_service": "2026-03-02",
            "laterality": "RT",
            "procedures": ONE_KNEE_NERVE,
            "payer_id": local["id"],
        },
    )
    assert refused.status_code == 422, refused.json
    assert "payer_id" in refused.json["errors"]["json"]
    assert "wage index" in refused.json["detail"]
    facility = ok(
        world["admin"].patch(
            f"/api/v1/facilities/{world['hopd'].id}", json={"wage_index": "1.1234"}
        )
    )
    assert facility["wage_index"] == "1.1234"
    case = record(world, world["hopd"], "LOC-1", payer_id=local["id"], procedures=ONE_KNEE_NERVE)
    # Facility: 903.63 × (0.6 × 1.1234 + 0.4) = 903.63 × 1.07404 = 970.5348 → 970.53.
    # Professional stays national: 112.12. Collection 1082.65; benchmark 1015.75.
    assert case["collection"]["facility_total"] == "970.53"
    assert case["collection"]["professional_total"] == "112.12"
    assert case["expected_collection"] == "1082.65"
    assert case["medicare_benchmark"] == "1015.75"
    assert case["wage_index"] == "1.1234"
    # A new wage index makes the case stale; repricing prices it at the new index:
    # 903.63 × (0.6 × 1.0500 + 0.4) = 903.63 × 1.03 = 930.7389 → 930.74; + 112.12 = 1042.86.
    ok(
        world["admin"].patch(
            f"/api/v1/facilities/{world['hopd'].id}", json={"wage_index": "1.0500"}
        )
    )
    assert ok(world["finance"].get(f"/api/v1/cases/{case['id']}"))["stale_price"] is True
    ok(world["finance"].post("/api/v1/cases/reprice", json={}))
    again = ok(world["finance"].get(f"/api/v1/cases/{case['id']}"))
    assert (again["expected_collection"], again["wage_index"]) == ("1042.86", "1.0500")
    assert again["stale_price"] is False


def test_an_equipment_amortized_case(world):
    """Straight-line per case, for the facility and then for one named handpiece."""
    hopd, finance = world["hopd"], world["finance"]
    for serial in ("HP-0001", "HP-0002"):  # the handpieces on the facility's shelf
        receive_handpiece(world, hopd, serial)
    before = record(world, hopd, "EQ-0", procedures=ONE_KNEE_NERVE, handpiece_serial="HP-0001")
    assert before["equipment_cost"] == "0.00"
    # The facility's figure: ($7,200.00 − $0.00) ÷ (5 years × 200 cases) = $7.20 a case.
    put = ok(
        put_json(
            finance,
            f"/api/v1/facilities/{hopd.id}/equipment-costs",
            {"acquisition": "7200.00", "salvage": "0.00", "life_years": 5, "cases_per_year": 200},
        )
    )
    assert put["equipment_cost"]["per_case"] == "7.20"
    assert put["cases_recosted"] == 1  # EQ-0, recorded before the figure existed
    case = record(world, hopd, "EQ-1", procedures=ONE_KNEE_NERVE)
    assert case["equipment_cost"] == "7.20"
    # Medicare national 1015.75 − 280.00 = 735.75; after equipment 735.75 − 7.20 = 728.55.
    row = _case_row(margin(finance), case["id"])
    assert (row["margin"], row["margin_after_equipment"]) == ("735.75", "728.55")
    # Handpiece HP-0001's own figure: ($9,000.00 − $1,000.00) ÷ (4 × 250) = $8.00 a case;
    # EQ-0 named it, so it is re-costed; EQ-1 named none and keeps the facility's $7.20.
    put = ok(
        put_json(
            finance,
            f"/api/v1/facilities/{hopd.id}/equipment-costs",
            {
                "serial": "HP-0001",
                "acquisition": "9000.00",
                "salvage": "1000.00",
                "life_years": 4,
                "cases_per_year": 250,
            },
        )
    )
    assert (put["equipment_cost"]["per_case"], put["cases_recosted"]) == ("8.00", 1)
    assert ok(finance.get(f"/api/v1/cases/{before['id']}"))["equipment_cost"] == "8.00"
    assert ok(finance.get(f"/api/v1/cases/{case['id']}"))["equipment_cost"] == "7.20"
    named = record(world, hopd, "EQ-2", procedures=ONE_KNEE_NERVE, handpiece_serial="HP-0001")
    other = record(world, hopd, "EQ-3", procedures=ONE_KNEE_NERVE, handpiece_serial="HP-0002")
    assert (named["handpiece_serial"], named["equipment_cost"]) == ("HP-0001", "8.00")
    assert other["equipment_cost"] == "7.20"  # a handpiece with no figure: the facility's
    listed = ok(finance.get(f"/api/v1/facilities/{hopd.id}/equipment-costs"))["items"]
    assert [(i["serial"], i["per_case"]) for i in listed] == [(None, "7.20"), ("HP-0001", "8.00")]
    # Figures that do not divide: $100.00 ÷ (3 × 7) = 4.7619 → $4.76 (half up per cent).
    put = ok(
        put_json(
            finance,
            f"/api/v1/facilities/{hopd.id}/equipment-costs",
            {"serial": "HP-0003", "acquisition": "100.00", "life_years": 3, "cases_per_year": 7},
        )
    )
    assert put["equipment_cost"]["per_case"] == "4.76"
    # Removing the handpiece's figure puts its cases back on the facility's.
    removed = ok(
        finance.post(
            f"/api/v1/facilities/{hopd.id}/equipment-costs/remove", json={"serial": "HP-0001"}
        )
    )
    assert (removed["equipment_cost"], removed["cases_recosted"]) == (None, 2)
    assert ok(finance.get(f"/api/v1/cases/{named['id']}"))["equipment_cost"] == "7.20"
    # Totals: four cases at 7.20 = 28.80 of equipment, all billed.
    totals = margin(finance, f"facility_id={hopd.id}")["totals"]
    assert totals["equipment_cost"] == totals["billed_equipment_cost"] == "28.80"
    events = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "equipment_cost")
    ).all()
    assert sorted(events) == sorted(["equipment_cost.set"] * 3 + ["equipment_cost.delete"])


def test_changing_a_case_s_payer_reprices_it_and_is_audited(world):
    """A case moved from Medicare national to not billed: collection 1015.75 → 0.00."""
    active = new_payer(world["finance"], "Active duty", "not_billed")
    case = record(world, world["hopd"], "MOVE-1", procedures=ONE_KNEE_NERVE)
    assert case["expected_collection"] == "1015.75"
    moved = ok(
        world["clinician"].post(
            f"/api/v1/cases/{case['id']}/payer", json={"payer_id": active["id"]}
        )
    )
    assert (moved["payer_id"], moved["billed"], moved["expected_collection"]) == (
        active["id"],
        False,
        "0.00",
    )
    assert moved["medicare_benchmark"] == "1015.75"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.payer")).one()
    assert event.before["collection"] == "1015.75"
    assert event.after == {"payer_id": active["id"], "collection": "0.00"}


def test_the_what_if_price_takes_a_payer(world):
    """POST /coding/price with a payer prices the collection beside the benchmark."""
    commercial = new_payer(
        world["finance"], "Commercial 120%", "percent_of_medicare", percent="120.00"
    )
    body = {
        "facility_id": world["hopd"].id,
        "date_of_service": "2026-03-02",
        "laterality": "RT",
        "procedures": ONE_KNEE_NERVE,
        "payer_id": commercial["id"],
    }
    priced = ok(world["viewer"].post("/api/v1/coding/price", json=body))
    assert Decimal(priced["priced"]["total"]) == Decimal("1015.75")
    assert Decimal(priced["collection"]["total"]) == Decimal("1218.90")
    no_facility = {**body, "site_of_service": "HOPD"}
    del no_facility["facility_id"]
    refused = world["viewer"].post("/api/v1/coding/price", json=no_facility)
    assert refused.status_code == 422
    assert "payer_id" in refused.json["errors"]["json"]


def test_a_case_names_only_a_handpiece_its_facility_knows(world):
    """A typo, or the ASC's handpiece named at the HOPD, is a 422 on handpiece_serial and no
    case is written: the serial costs the case and traces the device."""
    asc, hopd = world["asc"], world["hopd"]
    put_json(
        world["finance"],
        f"/api/v1/facilities/{asc.id}/equipment-costs",
        {"serial": "HP-ASC-1", "acquisition": "9000.00", "life_years": 4, "cases_per_year": 250},
    )
    for serial in ("HP-TYPO", "HP-ASC-1"):
        body = case_body(hopd, f"HP-{serial}", procedures=ONE_KNEE_NERVE, handpiece_serial=serial)
        response = world["clinician"].post("/api/v1/cases", json=body)
        assert response.status_code == 422, response.json
        assert "handpiece_serial" in response.json["errors"]["json"]
        assert (
            f"No handpiece with serial {serial} is on file at {hopd.code}"
            in response.json["detail"]
        )
    at_asc = record(world, asc, "HP-OK", procedures=ONE_KNEE_NERVE, handpiece_serial="HP-ASC-1")
    assert at_asc["handpiece_serial"] == "HP-ASC-1"


def test_a_handpiece_lot_trace_finds_the_cases_that_named_it(world):
    """A recall or trace of a serialised handpiece lists the cases that named its serial
    (used as the handpiece, no eaches), beside any that used it as a supply."""
    hopd = world["hopd"]
    lot_id = receive_handpiece(world, hopd, "HP-TRACE")
    case = record(world, hopd, "HP-T1", procedures=ONE_KNEE_NERVE, handpiece_serial="HP-TRACE")
    trace = ok(world["admin"].get(f"/api/v1/lots/{lot_id}/recall"))
    assert [(c["case_id"], c["used_as"], c["eaches"]) for c in trace["cases"]] == [
        (case["id"], "handpiece", 0)
    ]
