"""Payers in the margin report and in repricing: grouped and filtered by payer, billed and
not-billed totals kept apart, stale flags exact after a payer's table or terms change, and
the CSV export carrying the new columns and its TOTAL row."""

from __future__ import annotations

import csv
import io

import pytest

from supply_app.reporting.columns import FIGURES, KEY_COLUMNS
from tests.support.payers import (
    HEADER,
    TRICARE_CSV,
    build_world,
    load_fees,
    margin,
    new_payer,
    ok,
    record,
)

ONE_KNEE_NERVE = [{"code": "64640", "nerves": ["afcn"]}]


@pytest.fixture
def world(app):
    """Four HOPD cases, one per payer, each with $280.00 of supplies.

    AD-1  Active duty (not billed), 64640 × 2: collection 0.00; benchmark 1523.63.
    TRI-1 TRICARE table, 64640 × 2: (850.00 + 425.00) + (101.50 + 50.75) = 1427.25;
          benchmark 1523.63.
    COM-1 Commercial 120%, 64640 × 1: 1084.36 + 134.54 = 1218.90; benchmark 1015.75.
    NAT-1 Medicare national, 64640 × 1: 903.63 + 112.12 = 1015.75 (= benchmark).
    """
    world = build_world(app)
    finance, hopd = world["finance"], world["hopd"]
    payers = {
        "active": new_payer(finance, "Active duty", "not_billed"),
        "tricare": new_payer(finance, "TRICARE", "fee_table"),
        "commercial": new_payer(finance, "Commercial", "percent_of_medicare", percent="120.00"),
    }
    ok(load_fees(finance, payers["tricare"]["id"], TRICARE_CSV))
    world["payers"] = payers
    world["cases"] = {
        "AD-1": record(world, hopd, "AD-1", payer_id=payers["active"]["id"]),
        "TRI-1": record(world, hopd, "TRI-1", payer_id=payers["tricare"]["id"]),
        "COM-1": record(
            world, hopd, "COM-1", payer_id=payers["commercial"]["id"], procedures=ONE_KNEE_NERVE
        ),
        "NAT-1": record(world, hopd, "NAT-1", procedures=ONE_KNEE_NERVE),
    }
    return world


def _by_payer(report: dict) -> dict[str, dict]:
    return {row["payer_name"]: row for row in report["items"]}


def test_grouped_by_payer_billed_and_not_billed_stay_apart(world):
    """One row per payer; not-billed cost is never a loss; totals hold both apart."""
    report = margin(world["finance"], "group_by=payer")
    assert report["group_by"] == ["payer"]
    rows = _by_payer(report)
    assert set(rows) == {"Active duty", "TRICARE", "Commercial", "Medicare national"}
    active = rows["Active duty"]
    assert (active["cases"], active["billed_cases"]) == (1, 0)
    assert (active["supply_cost"], active["billed_supply_cost"]) == ("280.00", "0.00")
    assert (active["expected_collection"], active["medicare_benchmark"]) == ("0.00", "1523.63")
    assert (active["margin"], active["margin_pct"], active["margin_after_equipment"]) == (
        None,
        None,
        None,
    )
    assert active["not_billed_cost"] == "280.00"
    # Billed rows: margin = collection − supply cost of billed cases.
    assert rows["TRICARE"]["margin"] == "1147.25"  # 1427.25 − 280.00
    assert rows["Commercial"]["margin"] == "938.90"  # 1218.90 − 280.00
    assert rows["Medicare national"]["margin"] == "735.75"  # 1015.75 − 280.00
    assert all(rows[n]["not_billed_cost"] == "0.00" for n in ("TRICARE", "Commercial"))
    totals = report["totals"]
    # 4 cases, 3 billed. Supplies 4 × 280.00 = 1120.00, of billed cases 840.00.
    # Collection 1427.25 + 1218.90 + 1015.75 + 0.00 = 3661.90.
    # Margin (billed only) 3661.90 − 840.00 = 2821.90 — not 3661.90 − 1120.00 = 2541.90.
    # Benchmark 1523.63 × 2 + 1015.75 × 2 = 5078.76. Not billed: 280.00.
    assert (totals["cases"], totals["billed_cases"]) == (4, 3)
    assert (totals["supply_cost"], totals["billed_supply_cost"]) == ("1120.00", "840.00")
    assert totals["expected_collection"] == "3661.90"
    assert totals["margin"] == totals["margin_after_equipment"] == "2821.90"
    assert totals["medicare_benchmark"] == "5078.76"
    assert totals["not_billed_cost"] == "280.00"
    assert totals["collection_complete"] is True


def test_filtered_by_billed_and_by_payer(world):
    """billed=false leaves the active-duty case alone, with no margin at all."""
    finance = world["finance"]
    not_billed = margin(finance, "billed=false")
    assert [row["reference"] for row in not_billed["items"]] == ["AD-1"]
    totals = not_billed["totals"]
    assert (totals["cases"], totals["billed_cases"], totals["margin"]) == (1, 0, None)
    assert (totals["not_billed_cost"], totals["expected_collection"]) == ("280.00", "0.00")
    billed = margin(finance, "billed=true")["totals"]
    assert (billed["cases"], billed["not_billed_cost"], billed["margin"]) == (3, "0.00", "2821.90")
    tricare = margin(finance, f"payer_id={world['payers']['tricare']['id']}&group_by=payer")
    assert [row["payer_name"] for row in tricare["items"]] == ["TRICARE"]
    assert tricare["totals"]["expected_collection"] == "1427.25"
    assert margin(finance, "payer_id=2147483647")["totals"]["cases"] == 0


def _stale(world) -> dict[str, bool]:
    report = margin(world["finance"])
    return {row["reference"]: row["stale_price"] for row in report["items"]}


def _listed_stale(world) -> dict[str, bool]:
    listed = ok(world["finance"].get("/api/v1/cases?per_page=100"))
    return {row["reference"]: row["stale_price"] for row in listed["items"]}


def test_a_new_fee_table_makes_exactly_its_cases_stale_until_repriced(world):
    """The table changes: TRI-1 is stale in the report and the case list; reprice fixes it."""
    finance, tricare = world["finance"], world["payers"]["tricare"]
    fresh = dict.fromkeys(world["cases"], False)
    assert _stale(world) == _listed_stale(world) == fresh
    new_table = (
        HEADER + "64640,HOPD,facility,,900.00,2026-01-01,\n"
        "64640,HOPD,professional,,101.50,2026-01-01,\n"
    )
    assert ok(load_fees(finance, tricare["id"], new_table))["revision"] == 3
    assert _stale(world) == _listed_stale(world) == {**fresh, "TRI-1": True}
    assert margin(finance)["totals"]["stale_price_cases"] == 1
    # A change of a note is not a change of terms: no revision, nothing stale.
    commercial = world["payers"]["commercial"]
    patched = ok(
        finance.patch(f"/api/v1/payers/{commercial['id']}", json={"note": "2026 contract"})
    )
    assert patched["revision"] == 1
    assert _stale(world)["COM-1"] is False
    # 120% → 125%: COM-1 is stale too.
    patched = ok(finance.patch(f"/api/v1/payers/{commercial['id']}", json={"percent": "125.00"}))
    assert patched["revision"] == 2
    assert _stale(world) == _listed_stale(world) == {**fresh, "TRI-1": True, "COM-1": True}
    report = ok(finance.post("/api/v1/cases/reprice", json={}))
    assert (report["examined"], report["repriced"], report["changed"], report["failed"]) == (
        2,
        2,
        2,
        [],
    )
    assert _stale(world) == _listed_stale(world) == fresh
    tri = ok(finance.get(f"/api/v1/cases/{world['cases']['TRI-1']['id']}"))
    # Facility 900.00 + 450.00 = 1350.00; professional 152.25; collection 1502.25.
    assert tri["expected_collection"] == "1502.25"
    assert tri["medicare_benchmark"] == "1523.63"  # the benchmark never moves with a payer
    com = ok(finance.get(f"/api/v1/cases/{world['cases']['COM-1']['id']}"))
    # 903.63 × 125% = 1129.5375 → 1129.54; 112.12 × 125% = 140.15; collection 1269.69.
    assert com["expected_collection"] == "1269.69"
    assert "125% of $903.63" in " ".join(
        note for line in com["collection"]["lines"] for note in line["explanation"]
    ) + " ".join(com["collection"]["explanation"])
    # A second reprice finds nothing to do.
    again = ok(finance.post("/api/v1/cases/reprice", json={}))
    assert (again["examined"], again["changed"]) == (0, 0)


def test_a_voided_case_is_never_stale(world):
    """Voided cases drop out of repricing and their flag stays false."""
    clinician, finance = world["clinician"], world["finance"]
    tri = world["cases"]["TRI-1"]
    ok(clinician.post(f"/api/v1/cases/{tri['id']}/void", json={"reason": "recorded in error"}))
    ok(load_fees(finance, world["payers"]["tricare"]["id"], TRICARE_CSV))
    assert ok(finance.get(f"/api/v1/cases/{tri['id']}"))["stale_price"] is False
    assert ok(finance.post("/api/v1/cases/reprice", json={}))["examined"] == 0


def test_the_csv_export_has_the_payer_columns_and_a_total_row(world):
    """Grouped by payer: payer keys, every new figure, an empty margin for not billed, TOTAL."""
    response = world["finance"].get("/api/v1/reports/case-margin/export?format=csv&group_by=payer")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    names = [c.name for c in KEY_COLUMNS["payer"]] + [c.name for c in FIGURES]
    assert list(rows[0]) == names
    for name in (
        "billed_cases",
        "billed_supply_cost",
        "equipment_cost",
        "billed_equipment_cost",
        "expected_collection",
        "medicare_benchmark",
        "margin_after_equipment",
        "not_billed_cost",
        "collection_complete",
        "collection_unpriced_cases",
    ):
        assert name in names  # fmt: skip
    by_payer = {row["payer_name"]: row for row in rows[:-1]}
    assert by_payer["Active duty"]["margin"] == ""
    assert by_payer["Active duty"]["not_billed_cost"] == "280.00"
    assert by_payer["TRICARE"]["expected_collection"] == "1427.25"
    total = rows[-1]
    assert (total["payer_id"], total["payer_name"]) == ("TOTAL", "")
    assert (total["cases"], total["billed_cases"]) == ("4", "3")
    assert (total["margin"], total["not_billed_cost"]) == ("2821.90", "280.00")
    assert total["medicare_benchmark"] == "5078.76"
    case_rows = world["finance"].get("/api/v1/reports/case-margin/export?format=csv")
    header = next(csv.reader(io.StringIO(case_rows.get_data(as_text=True).lstrip("\ufeff"))))
    assert {"payer_id", "payer_name", "handpiece_serial"} <= set(header)
