"""The finance page's download buttons in Chromium: progress, a checked save, and a cut-off
download that is reported and never saved."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from playwright.sync_api import Page, Route, expect

from supply_app.cases import service as cases
from supply_app.extensions import db
from supply_app.reporting.export import check_csv
from tests.e2e.test_journeys import opening_stock
from tests.support.journeys import seed_world, sign_in

CASES = 40


def _margin_world(app):
    """CASES recorded cases at one facility; the finance user."""
    world = seed_world(app)
    opening_stock(world, world.home, "CRX2111-10", "CART-E", CASES)
    for n in range(CASES):
        cases.record_case(
            db.session,
            user=world.users["admin"],
            data={
                "facility_id": world.home.id,
                "date_of_service": date.today() - timedelta(days=n % 20),
                "reference": f"E-{n:03d}",
                "laterality": "RT",
                "procedures": [{"code": "64640", "nerves": ["lfcn", "afcn"]}],
                "supplies": [{"part_id": world.parts["CRX2111-10"].id, "eaches": 1}],
            },
        )
    db.session.commit()
    return world


def test_downloads_show_progress_and_save_only_a_checked_file(page: Page, fresh_db, shoot):
    """CSV and XLSX are fetched with a status line, checked whole, then saved."""
    world = _margin_world(fresh_db)
    sign_in(page, world.users["finance"])
    status = page.get_by_role("status")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    expect(status).to_contain_text(f"Saved case-margin-case-{date.today().isoformat()}.csv")
    expect(status).to_contain_text(f"{CASES} rows and the TOTAL row, checked whole")
    expect(page.get_by_role("button", name="Cancel download")).to_be_hidden()
    shoot(page, "margin-download-saved")
    text = download.value.path().read_text(encoding="utf-8")
    assert check_csv(text) is None
    assert text.count("\n") == CASES + 2

    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").focus()
        page.keyboard.press("Enter")
    expect(status).to_contain_text(".xlsx")
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == CASES + 2
    assert rows[-1][0] == "TOTAL"


def _cut_off(route: Route, keep: float) -> None:
    """Answer with the real export, but only the first `keep` share of its bytes."""
    response = route.fetch()
    body = response.body()
    route.fulfill(response=response, body=body[: int(len(body) * keep)])


def test_a_download_cut_off_is_reported_and_not_saved(page: Page, fresh_db, shoot):
    """A file that arrives without its end is never saved; the page says it was cut off."""
    world = _margin_world(fresh_db)
    sign_in(page, world.users["finance"])
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    page.route("**/reports/margin.csv*", lambda route: _cut_off(route, 0.6))
    page.get_by_role("link", name="Download CSV").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("The CSV download was cut off")
    expect(status).to_contain_text("so it was not saved. Try again.")
    expect(page.get_by_role("button", name="Cancel download")).to_be_hidden()
    shoot(page, "margin-download-cut-off")

    page.route("**/reports/margin.xlsx*", lambda route: _cut_off(route, 0.9))
    page.get_by_role("link", name="Download XLSX").click()
    expect(status).to_contain_text("The XLSX download was cut off (the workbook's last part")
    page.wait_for_timeout(300)
    assert downloads == []
