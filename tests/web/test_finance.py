"""Finance pages: margin table with filters and totals, charts, exports, fee schedules."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.cases import service as cases
from supply_app.cases.models import ProcedureCase
from supply_app.extensions import db
from supply_app.reporting.columns import LABELS
from tests.support.factories import make_actor, make_facility, sync_parts
from tests.support.web import sign_in
from tests.support.web_seed import stock_lot


def record(facility, user, reference: str, cartridges: int, part) -> ProcedureCase:
    """Record a right-knee case (two anterior nerves + C9809) consuming cartridges; commit."""
    case = cases.record_case(
        db.session,
        user=user,
        data={
            "facility_id": facility.id,
            "date_of_service": date.today(),
            "reference": reference,
            "laterality": "RT",
            "procedures": [{"code": "64640", "nerves": ["lfcn", "afcn"]}, {"code": "C9809"}],
            "supplies": [{"part_id": part.id, "eaches": cartridges}],
        },
    )
    db.session.commit()
    return case


def seed_cases(app):
    """Two HOPD cases and one ASC case with known supply costs ($30.00 a cartridge)."""
    parts = sync_parts(app)
    cart = parts["CRX2111-10"]
    hopd, asc = make_facility("HOPD"), make_facility("ASC")
    stock_lot(hopd, cart, "H-1", 10, 30_000)
    stock_lot(asc, cart, "A-1", 10, 30_000)
    clinician = make_actor(app, "clinician", [hopd, asc]).user
    cases_made = [
        record(hopd, clinician, "H-A", 1, cart),
        record(hopd, clinician, "H-B", 2, cart),
        record(asc, clinician, "A-A", 1, cart),
    ]
    return hopd, asc, cases_made


def test_margin_table_filters_and_totals(app):
    """Filtering by site keeps only those cases; totals add up to the rows."""
    _hopd, _asc, made = seed_cases(app)
    finance = sign_in(app, "finance", all_facilities=True)
    html = finance.get("/reports/margin?site_of_service=HOPD").get_data(as_text=True)
    assert "H-A" in html
    assert "H-B" in html
    assert "A-A" not in html
    assert "Total (2 cases; 2 billed)" in html
    assert "$90.00" in html  # supply cost of the two HOPD cases: 3 cartridges
    hopd_total = sum(c.reimbursement_cents for c in made[:2])
    assert f"${hopd_total // 100:,}.{hopd_total % 100:02d}" in html
    assert "incomplete" in html  # C9809 has no published device payment
    assert html.count("<svg") == 4


def test_the_page_says_which_benchmarks_are_not_fully_priced(app):
    """Unpriced C9809 devices and a contractor-priced 0441T case are both counted in the
    warning, and each of their rows is marked incomplete."""
    hopd, _asc, _made = seed_cases(app)
    clinician = make_actor(app, "clinician", [hopd]).user
    cases.record_case(
        db.session,
        user=clinician,
        data={
            "facility_id": hopd.id,
            "date_of_service": date.today(),
            "reference": "H-0441T",
            "laterality": "RT",
            "procedures": [{"code": "0441T", "nerves": ["lfcn", "afcn"]}],
            "supplies": [],
            "no_supplies": True,
        },
    )
    db.session.commit()
    finance = sign_in(app, "finance", all_facilities=True)
    html = finance.get("/reports/margin?group_by=case").get_data(as_text=True)
    assert "4 case(s) have a Medicare benchmark that is not fully priced (3 bill C9809" in html
    assert html.count('<span class="badge warn">incomplete</span>') == 5  # 4 rows + total


def test_grouping_by_site_and_bad_dates(app):
    """Grouped rows show case counts; a reversed date range is a 422 beside the field."""
    seed_cases(app)
    finance = sign_in(app, "finance", all_facilities=True)
    html = finance.get("/reports/margin?group_by=site_of_service").get_data(as_text=True)
    assert "<td>ASC</td>" in html
    bad = finance.get("/reports/margin?date_from=2026-05-01&date_to=2026-04-01")
    assert bad.status_code == 422
    assert "on or after the start date" in bad.get_data(as_text=True)


def test_exports_read_back_to_the_same_figures(app):
    """CSV and XLSX carry the filtered rows and a TOTAL row equal to the page's totals."""
    _hopd, _asc, made = seed_cases(app)
    finance = sign_in(app, "finance", all_facilities=True)
    text = finance.get("/reports/margin.csv?site_of_service=ASC").get_data(as_text=True)
    assert text.startswith("\ufeff")  # a byte-order mark, so Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["reference"] for r in rows] == ["A-A", ""]
    assert rows[-1]["case_id"] == "TOTAL"
    assert rows[-1]["supply_cost"] == "30.00"
    response = finance.get("/reports/margin.xlsx")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    names = {label: name for name, label in LABELS.items()}  # the sheet's headers are in words
    header = [names[label] for label in values[0]]
    total = dict(zip(header, values[-1], strict=True))
    assert total["case_id"] == "TOTAL"
    assert float(total["supply_cost"]) == 120.00
    expected = sum(c.reimbursement_cents for c in made) / 100
    assert float(total["medicare_benchmark"]) == expected


def test_margin_is_scoped_to_my_facilities(app):
    """A member of one facility never sees another's cases, and naming it is a 404."""
    hopd, asc, _ = seed_cases(app)
    viewer = sign_in(app, "viewer", [hopd])
    html = viewer.get("/reports/margin").get_data(as_text=True)
    assert "H-A" in html
    assert "A-A" not in html
    assert viewer.get(f"/reports/margin?facility_id={asc.id}").status_code == 404


def test_c9809_override_is_audited_and_reprices_on_request(app):
    """Finance sets C9809 for HOPD; cases keep their price until repriced, then include it."""
    _hopd, _asc, made = seed_cases(app)
    finance = sign_in(app, "finance", all_facilities=True)
    year = date.today().year
    response = finance.submit(
        f"/fee-schedules?year={year}",
        {"year": year, "site": "HOPD", "amount": "1250.00", "note": "MAC notice"},
        action=f"/fee-schedules/overrides?year={year}",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fee_override.set"))
    assert event.after["amount"] == "1250.00"
    assert event.actor_id == finance.user.id
    before = made[0].reimbursement_cents
    assert "stale price" in finance.get("/reports/margin").get_data(as_text=True)
    finance.submit(f"/fee-schedules?year={year}", {}, action=f"/fee-schedules/reprice?year={year}")
    db.session.expire_all()
    assert db.session.get(ProcedureCase, made[0].id).reimbursement_cents == before + 125_000


def test_override_form_errors_and_roles(app):
    """A bad amount is shown beside the field; viewers cannot set overrides."""
    finance = sign_in(app, "finance", all_facilities=True)
    year = date.today().year
    response = finance.submit(
        f"/fee-schedules?year={year}",
        {"year": year, "site": "HOPD", "amount": "12.345", "note": ""},
        action=f"/fee-schedules/overrides?year={year}",
    )
    assert response.status_code == 422
    assert 'id="amount-error"' in response.get_data(as_text=True)
    viewer = sign_in(app, "viewer", [make_facility()])
    assert viewer.get("/fee-schedules").status_code == 200
    assert viewer.submit("/fee-schedules", {}, action="/fee-schedules/overrides").status_code == 403


def test_finance_holding_one_facility_reprices_but_sets_no_override(app):
    """Overrides apply to every facility: the form is not offered and a post of it is
    refused with the reason; repricing their own cases stays theirs."""
    year = date.today().year
    finance = sign_in(app, "finance", [make_facility()])
    page = finance.get(f"/fee-schedules?year={year}").get_data(as_text=True)
    assert "Save override" not in page
    assert "Reprice cases" in page
    refused = finance.submit(
        f"/fee-schedules?year={year}",
        {"year": year, "site": "HOPD", "amount": "1250.00", "note": ""},
        action=f"/fee-schedules/overrides?year={year}",
    )
    assert refused.status_code == 403
    assert "holds every facility" in refused.get_data(as_text=True)
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fee_override.set")) is None
    )
    reprice = finance.submit(
        f"/fee-schedules?year={year}", {}, action=f"/fee-schedules/reprice?year={year}"
    )
    assert reprice.status_code == 302
