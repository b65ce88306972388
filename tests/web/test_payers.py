"""Payer pages: payers and fee tables, a facility's billing and equipment, a case's payer."""

from __future__ import annotations

import io

from supply_app.cases.models import ProcedureCase
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.payers import service as payers
from supply_app.payers.feetable import COLUMNS
from supply_app.payers.models import Payer
from tests.support.factories import make_facility
from tests.support.web import sign_in
from tests.web.test_finance import seed_cases

HEADER = ",".join(COLUMNS)
FACILITY_ROW = "64640,HOPD,facility,,850.00,2026-01-01,\n"
GOOD = f"{HEADER}\n{FACILITY_ROW}64640,HOPD,professional,,101.50,2026-01-01,\n"
BAD = f"{HEADER}\n{FACILITY_ROW}64640,HOPD,professionl,,1O1.50,2026-01-01,\n"


def _payer(name: str = "Commercial", basis: str = "percent_of_medicare") -> Payer:
    data = {"name": name, "basis": basis}
    if basis == "percent_of_medicare":
        data["percent_hundredths"] = 12000
    payer = payers.create_payer(db.session, data=data, actor=None)
    db.session.commit()
    return payer


def test_finance_adds_a_payer_and_sees_it_listed_in_words(app):
    """A percentage payer is created through the form and listed with its basis in words."""
    make_facility()
    finance = sign_in(app, "finance", all_facilities=True)
    response = finance.submit(
        "/payers/new",
        {
            "name": "Commercial",
            "basis": "percent_of_medicare",
            "percent": "120.00",
            "medicare_rules": "y",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    html = finance.get("/payers").get_data(as_text=True)
    assert "Commercial" in html
    assert "(120.00%)" in html
    missing = finance.submit("/payers/new", {"name": "Other", "basis": "percent_of_medicare"})
    assert missing.status_code == 422
    assert "needs the percentage" in missing.get_data(as_text=True)


def test_a_bad_fee_table_lists_every_problem_by_row_and_column_and_changes_nothing(app):
    """Two problems on row 3 are both named; the table stays empty; the fixed file loads."""
    make_facility()
    payer = _payer("TRICARE", "fee_table")
    finance = sign_in(app, "finance", all_facilities=True)
    page = f"/payers/{payer.id}"
    refused = finance.submit(page, {"csv": BAD}, f"{page}/fees")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "2 problems to fix" in html
    assert "<td>component</td>" in html
    assert "<td>amount</td>" in html
    assert html.count('<td class="num">3</td>') == 2
    db.session.expire_all()
    assert db.session.get(Payer, payer.id).fees == []
    upload = {"upload": (io.BytesIO(GOOD.encode()), "fees.csv")}
    html = finance.get(page).get_data(as_text=True)
    from tests.support.web import csrf_token, forget_cached_user

    forget_cached_user()
    loaded = finance.client.post(
        f"{page}/fees",
        data={**upload, "csrf_token": csrf_token(html)},
        content_type="multipart/form-data",
    )
    assert loaded.status_code == 302, loaded.get_data(as_text=True)[-2000:]
    db.session.expire_all()
    assert len(db.session.get(Payer, payer.id).fees) == 2
    download = finance.get(f"{page}/fees.csv").get_data(as_text=True)
    assert download == GOOD
    assert finance.get("/payers/fee-table-example.csv").get_data(as_text=True).startswith(HEADER)


def test_without_every_facility_payers_are_read_only_and_say_why(app):
    """Finance holding one facility reads payers, is told why it cannot change them."""
    home = make_facility()
    payer = _payer()
    finance = sign_in(app, "finance", [home])
    html = finance.get(f"/payers/{payer.id}").get_data(as_text=True)
    assert "only finance staff and administrators who hold every facility" in html
    assert "Load fee table" not in html
    assert finance.get("/payers/new").status_code == 403


def test_facility_billing_and_equipment_cost(app):
    """An admin sets the default payer, wage index and 0441T; finance sets equipment cost."""
    home = make_facility()
    payer = _payer()
    admin = sign_in(app, "admin", all_facilities=True)
    page = f"/facilities/{home.id}/billing"
    saved = admin.submit(
        page, {"default_payer_id": payer.id, "wage_index": "1.0842", "bills_0441t": "y"}
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.expire_all()
    facility = db.session.get(Facility, home.id)
    assert (facility.default_payer_id, facility.wage_index, facility.bills_0441t) == (
        payer.id,
        10842,
        True,
    )
    finance = sign_in(app, "finance", all_facilities=True)
    data = {"acquisition": "15000.00", "salvage": "1000.00", "life_years": 5, "cases_per_year": 200}
    done = finance.submit(page, data, f"/facilities/{home.id}/equipment")
    assert done.status_code == 302
    html = finance.get(page).get_data(as_text=True)
    assert "$14.00" in html  # (15,000 − 1,000) ÷ (5 × 200)
    bad = finance.submit(page, {**data, "salvage": "20000.00"}, f"/facilities/{home.id}/equipment")
    assert bad.status_code == 422
    assert "salvage value cannot be more" in bad.get_data(as_text=True)
    removed = finance.submit(page, {"serial": ""}, f"/facilities/{home.id}/equipment/remove")
    assert removed.status_code == 302


def test_a_case_changes_payer_and_the_margin_groups_by_payer(app):
    """Finance moves a case to a 120% payer; the case and the margin report follow."""
    _hopd, _asc, made = seed_cases(app)
    payer = _payer()
    finance = sign_in(app, "finance", all_facilities=True)
    case_page = f"/cases/{made[0].id}"
    response = finance.submit(case_page, {"payer_id": payer.id}, f"{case_page}/payer")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    html = finance.get(case_page).get_data(as_text=True)
    assert "Under Commercial" in html
    assert "Commercial: 120% of $903.63" in html
    case = db.session.get(ProcedureCase, made[0].id)
    html = finance.get("/reports/margin?group_by=payer").get_data(as_text=True)
    assert "<td>Commercial</td>" in html
    cents = case.collection_cents
    assert f"${cents // 100:,}.{cents % 100:02d}" in html
    only = finance.get(f"/reports/margin?payer_id={payer.id}").get_data(as_text=True)
    assert made[0].reference in only
    assert made[1].reference not in only
