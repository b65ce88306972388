"""Per-case margin end to end: receive at a known price, record, report; hand-checked numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from supply_app.cases.models import CaseSupply
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.inventory.models import StockMovement
from supply_app.reporting.columns import LABELS
from tests.support.cases import case_body, usd
from tests.support.factories import make_actor

# Published CY2026 figures (source page and reimbursement facts).
OPPS_64640, ASC_64640, ASC_64624 = "903.63", "197.04", "948.66"
RVU_64640_FAC, RVU_64640_NONFAC, RVU_64624_FAC = "3.34", "8.02", "3.99"
CF_NON_QP, CF_QP = "33.4009", "33.5675"
HALF = "0.5"


def _pct(margin: Decimal, reimbursement: Decimal) -> str:
    return str((margin * 100 / reimbursement).quantize(Decimal("0.01")))


def expected():
    """The three worked examples, computed by hand from the published figures."""
    hopd_pfs = usd(RVU_64640_FAC, CF_NON_QP)
    asc_pfs_64624, asc_pfs_64640 = usd(RVU_64624_FAC, CF_QP), usd(RVU_64640_FAC, CF_QP)
    office_pfs = usd(RVU_64640_NONFAC, CF_NON_QP)
    rows = {
        # 64640 × 3 (highest 100%, others 50%) in both OPPS and PFS; C9809 override $250.
        "H-1": {
            "facility": usd(OPPS_64640) + 2 * usd(OPPS_64640, HALF),
            "professional": hopd_pfs + 2 * usd(hopd_pfs, HALF),
            "device": Decimal("250.00"),
            "cost": Decimal("250.00") + Decimal("30.00"),
        },
        # ASC: 64624 $948.66 ranks first, 64640 $197.04 at 50%; PFS likewise at the QP CF.
        "A-1": {
            "facility": usd(ASC_64624) + usd(ASC_64640, HALF),
            "professional": asc_pfs_64624 + usd(asc_pfs_64640, HALF),
            "device": Decimal("180.00"),
            "cost": 2 * Decimal("220.00") + Decimal("30.00"),
        },
        # Office: PFS non-facility only, 64640 × 2.
        "O-1": {
            "facility": Decimal("0.00"),
            "professional": office_pfs + usd(office_pfs, HALF),
            "device": Decimal("0.00"),
            "cost": Decimal("250.00") + Decimal("30.00"),
        },
    }
    for row in rows.values():
        row["reimbursement"] = row["facility"] + row["professional"] + row["device"]
        row["margin"] = row["reimbursement"] - row["cost"]
    return rows


def test_hand_checked_numbers(world):
    """The published figures give these exact amounts (checked on paper too)."""
    rows = expected()
    assert rows["H-1"]["reimbursement"] == Decimal("2280.39")  # 1807.27 + 223.12 + 250.00
    assert rows["A-1"]["reimbursement"] == Decimal("1417.17")  # 1047.18 + 189.99 + 180.00
    assert rows["O-1"]["reimbursement"] == Decimal("401.82")  # 267.88 + 133.94


def test_margin_per_case_matches_worked_examples(world):
    """Each case row shows cost, each component, margin and margin % exactly."""
    report = world["finance"].get("/api/v1/reports/case-margin?group_by=case")
    assert report.status_code == 200, report.json
    rows = {row["reference"]: row for row in report.json["items"]}
    for reference, want in expected().items():
        row = rows[reference]
        assert row["supply_cost"] == str(want["cost"]), reference
        assert row["facility_reimbursement"] == str(want["facility"]), reference
        assert row["professional_reimbursement"] == str(want["professional"]), reference
        assert row["device_reimbursement"] == str(want["device"]), reference
        assert row["medicare_benchmark"] == str(want["reimbursement"]), reference
        assert row["margin"] == str(want["margin"]), reference
        assert row["margin_pct"] == _pct(want["margin"], want["reimbursement"]), reference
        assert row["reimbursement_complete"] is True
        assert row["stale_price"] is False
    totals = report.json["totals"]
    assert totals["cases"] == 3
    assert totals["margin"] == str(sum(w["margin"] for w in expected().values()))
    assert totals["supply_cost"] == "1030.00"


def test_grouping_by_site_and_code_filter(world):
    """Group rows sum their cases; filters by code, site and dates narrow the cases."""
    finance, want = world["finance"], expected()
    by_site = finance.get("/api/v1/reports/case-margin?group_by=site_of_service").json
    sites = {row["site_of_service"]: row for row in by_site["items"]}
    assert sites["ASC"]["margin"] == str(want["A-1"]["margin"])
    assert sites["office"]["cases"] == 1
    only_64624 = finance.get("/api/v1/reports/case-margin?code=64624").json
    assert [row["reference"] for row in only_64624["items"]] == ["A-1"]
    april = finance.get(
        "/api/v1/reports/case-margin?date_from=2026-04-01&date_to=2026-04-30&site_of_service=office"
    ).json
    assert [row["reference"] for row in april["items"]] == ["O-1"]
    months = finance.get("/api/v1/reports/case-margin?group_by=facility,month").json
    assert [(row["facility_code"], row["month"], row["cases"]) for row in months["items"]] == [
        (world["hopd"].code, "2026-03", 1),
        (world["asc"].code, "2026-04", 1),
        (months["items"][2]["facility_code"], "2026-04", 1),
    ]
    mix = finance.get("/api/v1/reports/case-margin?group_by=code_mix").json
    assert {row["code_mix"] for row in mix["items"]} == {
        "64640x3+C9809x1",
        "64624x1+64640x1+C9809x1",
        "64640x2",
    }


def test_void_drops_out_and_unpriced_device_is_flagged(world):
    """A voided case leaves the figures; an unpriced device is flagged, never a silent $0."""
    finance, clinician, want = world["finance"], world["clinician"], expected()
    hopd_case = world["cases"][0]
    assert (
        clinician.post(
            f"/api/v1/cases/{hopd_case['id']}/void", json={"reason": "entered twice"}
        ).status_code
        == 200
    )
    report = finance.get("/api/v1/reports/case-margin").json
    assert {row["reference"] for row in report["items"]} == {"A-1", "O-1"}
    assert report["totals"]["margin"] == str(want["A-1"]["margin"] + want["O-1"]["margin"])

    assert (
        finance.client.delete(
            "/api/v1/fee-schedules/2026/overrides/C9809/HOPD", headers=finance.headers()
        ).status_code
        == 204
    )
    body = case_body(
        world["hopd"], "H-2", procedures=[{"code": "C9809"}, {"code": "64640", "nerves": ["afcn"]}]
    )
    assert clinician.post("/api/v1/cases", json=body).status_code == 201
    rows = {r["reference"]: r for r in finance.get("/api/v1/reports/case-margin").json["items"]}
    assert rows["H-2"]["device_unpriced"] is True
    assert rows["H-2"]["device_reimbursement"] is None
    assert rows["H-2"]["reimbursement_complete"] is False
    totals = finance.get("/api/v1/reports/case-margin").json["totals"]
    assert totals["reimbursement_complete"] is False
    assert totals["device_unpriced_cases"] == 1


def test_a_contractor_priced_code_leaves_the_benchmark_incomplete(world):
    """0441T has no national amount: the case's benchmark is incomplete although it bills
    no device, on the case, its report row and the totals (which count it apart)."""
    finance, clinician = world["finance"], world["clinician"]
    body = case_body(
        world["hopd"], "H-0441T", procedures=[{"code": "0441T", "nerves": ["afcn", "lfcn"]}]
    )
    created = clinician.post("/api/v1/cases", json=body)
    assert created.status_code == 201, created.json
    case = created.json
    assert (case["reimbursement_complete"], case["device_unpriced"]) == (False, False)
    assert case["medicare_benchmark"] == "0.00"
    report = finance.get("/api/v1/reports/case-margin?group_by=case").json
    rows = {r["reference"]: r for r in report["items"]}
    assert rows["H-0441T"]["reimbursement_complete"] is False
    assert rows["H-0441T"]["benchmark_unpriced_cases"] == 1
    assert rows["H-1"]["reimbursement_complete"] is True
    totals = report["totals"]
    assert (totals["reimbursement_complete"], totals["benchmark_unpriced_cases"]) == (False, 1)
    assert totals["device_unpriced_cases"] == 0


def test_report_is_scoped_to_the_users_facilities(world, app):
    """A member of one facility sees only its cases; another facility is 404."""
    hopd_only = make_actor(app, "viewer", [world["hopd"]])
    report = hopd_only.get("/api/v1/reports/case-margin").json
    assert [row["reference"] for row in report["items"]] == ["H-1"]
    assert report["totals"]["cases"] == 1
    assert (
        hopd_only.get(f"/api/v1/reports/case-margin?facility_id={world['asc'].id}").status_code
        == 404
    )
    purchaser = make_actor(app, "purchaser", [world["hopd"]])
    assert purchaser.get("/api/v1/reports/case-margin").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "group_by=case,month",
        "group_by=month,month",
        "group_by=patient",
        "date_from=2026-05-01&date_to=2026-04-01",
        "site_of_service=clinic",
        "code=99999",
        "per_page=1000",
        "facility_id=99999999999",
    ],
)
def test_bad_report_query_is_422(world, query):
    """Bad filters and groupings are 422 problems."""
    response = world["finance"].get(f"/api/v1/reports/case-margin?{query}")
    assert response.status_code == 422, (query, response.json)
    assert response.mimetype == "application/problem+json"


def test_bad_export_format_is_422(world):
    """Only csv and xlsx exist, and the format is required."""
    finance = world["finance"]
    assert finance.get("/api/v1/reports/case-margin/export?format=pdf").status_code == 422
    assert finance.get("/api/v1/reports/case-margin/export").status_code == 422


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("group_by", ["case", "facility,month", "site_of_service"])
def test_exports_parse_back_to_the_same_figures(world, group_by):
    """CSV and XLSX exports hold the JSON report's rows and totals, to the cent."""
    finance = world["finance"]
    report = finance.get(f"/api/v1/reports/case-margin?group_by={group_by}&per_page=100").json
    money = ("supply_cost", "medicare_benchmark", "margin", "facility_reimbursement")

    response = finance.get(f"/api/v1/reports/case-margin/export?group_by={group_by}&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response.get_data(as_text=True))
    *body, total = rows
    assert len(body) == len(report["items"])
    for got, want in zip(body, report["items"], strict=True):
        for name in (*money, "cases", "margin_pct"):
            assert got[name] == str(want[name]), name
    assert next(iter(total.values())) == "TOTAL"
    assert total["margin"] == report["totals"]["margin"]

    response = finance.get(f"/api/v1/reports/case-margin/export?group_by={group_by}&format=xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    sheet = list(workbook.active.iter_rows(values_only=True))
    labels, *body, total = sheet
    names = {label: name for name, label in LABELS.items()}
    header = [names[label] for label in labels]  # the sheet's headers are for people
    body = [dict(zip(header, row, strict=True)) for row in body]
    for got, want in zip(body, report["items"], strict=True):
        for name in money:
            assert Decimal(str(got[name])).quantize(Decimal("0.01")) == Decimal(want[name]), name
        assert got["cases"] == want["cases"]
    total = dict(zip(header, total, strict=True))
    assert total[header[0]] == "TOTAL"
    assert Decimal(str(total["margin"])).quantize(Decimal("0.01")) == Decimal(
        report["totals"]["margin"]
    )
    workbook.close()


def test_grouped_totals_equal_case_totals(world):
    """Every grouping's totals (summed from groups) equal the per-case totals (one query)."""
    finance = world["finance"]
    per_case = finance.get("/api/v1/reports/case-margin?group_by=case").json["totals"]
    for grouping in ("facility", "month", "site_of_service", "code_mix", "facility,month"):
        totals = finance.get(f"/api/v1/reports/case-margin?group_by={grouping}").json["totals"]
        assert totals == per_case, grouping


def test_a_stock_reversal_of_a_case_issue_nets_out_of_its_cost(world):
    """Reversing one issue movement (without voiding) takes its value off the case's cost."""
    hopd_case = world["cases"][0]
    supply = db.session.scalars(
        select(CaseSupply).where(CaseSupply.case_id == hopd_case["id"]).order_by(CaseSupply.id)
    ).first()
    movement = db.session.get(StockMovement, supply.movement_id)
    inventory.reverse(db.session, movement=movement, actor=None, reason="tip not opened")
    db.session.commit()
    row = next(
        r
        for r in world["finance"].get("/api/v1/reports/case-margin").json["items"]
        if r["reference"] == "H-1"
    )
    assert row["supply_cost"] == "30.00"  # only the cartridge remains
    case = world["finance"].get(f"/api/v1/cases/{hopd_case['id']}").json
    assert case["supply_cost"] == "30.00"
