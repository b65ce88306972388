"""The finance journey for payers, in Chromium at a laptop's and a phone's width.

Finance adds a commercial payer at 120% and a fee-table payer, loads a fee table with one
bad row (every problem is named by row and column, nothing loads), fixes it; an admin makes
the fee-table payer a facility's default; a clinician records a case under it and another
under the commercial payer; finance reads the margin grouped by payer, changes the table,
sees the stale flag and reprices. axe runs on each new page; screenshots are kept.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from supply_app.extensions import db
from supply_app.payers.feetable import COLUMNS
from tests.e2e.conftest import SCREENSHOTS
from tests.support.journeys import seed_world, sign_in
from tests.support.web_seed import stock_lot

SIZES = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}
HEADER = ",".join(COLUMNS)
FACILITY_ROW = "64640,HOPD,facility,,850.00,2026-01-01,\n"
BAD = f"{HEADER}\n{FACILITY_ROW}64640,HOPD,professionl,,101.50,2026-01-01,\n"
GOOD = f"{HEADER}\n{FACILITY_ROW}64640,HOPD,professional,,101.50,2026-01-01,\n"
RAISED = GOOD.replace("850.00", "900.00")
axe = Axe()


def _check(page: Page, where: str, shots: list[str], size: str) -> list[str]:
    """axe's serious problems, sideways scroll; and a screenshot named for the step."""
    found = [
        f"{where}: {v['id']} {v['help']}"
        for v in axe.run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    wide = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    if wide > 1:
        found.append(f"{where}: scrolls sideways by {wide} px")
    path = SCREENSHOTS / "payers" / f"{size}-{where}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    shots.append(str(path))
    return found


def _record(page: Page, reference: str, payer: str | None = None) -> None:
    page.goto("/cases/new")
    page.get_by_label("Case reference").fill(reference)
    page.get_by_label("lateral femoral cutaneous nerve (LFCN)", exact=True).check()
    if payer is not None:
        choice = page.locator("#payer_id option", has_text=payer)
        page.get_by_label("Payer").select_option(choice.get_attribute("value"))
    page.get_by_label("CRX2111-10 eaches").fill("1")
    page.get_by_role("button", name="Record and price case").click()
    expect(page.get_by_role("heading", name=f"Case {reference}")).to_be_visible()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_finance_payer_journey(browser: Browser, base_url: str, fresh_db, size: str):
    """Payers, a fee table with a bad row, a default payer, cases, margin by payer, reprice."""
    world = seed_world(fresh_db)
    stock_lot(world.home, world.parts["CRX2111-10"], "PAY-1", 10, 30_000)
    db.session.commit()
    problems: list[str] = []
    shots: list[str] = []

    def context():
        return browser.new_context(base_url=base_url, viewport=SIZES[size])

    finance_ctx = context()
    finance = finance_ctx.new_page()
    sign_in(finance, world.users["finance"])
    finance.get_by_role("navigation", name="Main").get_by_role("link", name="Payers").click()
    problems += _check(finance, "payers-empty", shots, size)
    for name, basis, percent in (
        ("Commercial PPO", "percent_of_medicare", "120.00"),
        ("TRICARE Prime", "fee_table", ""),
    ):
        finance.get_by_role("link", name="Add a payer").click()
        finance.get_by_label("Name").fill(name)
        finance.get_by_label("How it pays").select_option(basis)
        finance.get_by_label("Percentage of Medicare").fill(percent)
        finance.get_by_role("button", name="Add payer").click()
        expect(finance.get_by_role("heading", name=name)).to_be_visible()
        finance.goto("/payers")
    expect(finance.get_by_role("cell", name="Percentage of Medicare (120.00%)")).to_be_visible()
    finance.get_by_role("link", name="TRICARE Prime").click()
    finance.get_by_label("Or paste the CSV here").fill(BAD)
    finance.get_by_role("button", name="Load fee table").click()
    summary = finance.locator("#fee-problems")
    expect(summary).to_contain_text("1 problem to fix")
    expect(summary.get_by_role("row").nth(1)).to_contain_text("3")
    expect(summary.get_by_role("row").nth(1)).to_contain_text("component")
    expect(finance.get_by_text("No fee table loaded.")).to_be_visible()
    problems += _check(finance, "fee-table-refused", shots, size)
    finance.get_by_label("Or paste the CSV here").fill(GOOD)
    finance.get_by_role("button", name="Load fee table").click()
    expect(finance.get_by_text("Fee table loaded: 2 row(s)")).to_be_visible()
    problems += _check(finance, "fee-table-loaded", shots, size)

    admin_ctx = context()
    admin = admin_ctx.new_page()
    sign_in(admin, world.users["admin"])
    admin.goto(f"/facilities/{world.home.id}/billing")
    choice = admin.locator("#default_payer_id option", has_text="TRICARE Prime")
    admin.get_by_label("Default payer for new cases").select_option(choice.get_attribute("value"))
    admin.get_by_role("button", name="Save billing settings").click()
    expect(admin.get_by_text(f"Billing settings of {world.home.code} saved.")).to_be_visible()
    admin.get_by_label("Acquisition cost ($)").fill("15000.00")
    admin.get_by_label("Salvage value ($)").fill("1000.00")
    admin.get_by_label("Years of life").fill("5")
    admin.get_by_label("Expected cases per year").fill("200")
    admin.get_by_role("button", name="Save equipment cost").click()
    expect(admin.get_by_text("$14.00 per case")).to_be_visible()
    problems += _check(admin, "facility-billing", shots, size)
    admin_ctx.close()

    clinician_ctx = context()
    clinician = clinician_ctx.new_page()
    sign_in(clinician, world.users["clinician"])
    clinician.goto("/cases/new")
    expect(clinician.locator("#payer_id option:checked")).to_contain_text("TRICARE Prime")
    problems += _check(clinician, "case-form", shots, size)
    _record(clinician, "PAY-0001")
    expect(clinician.get_by_text("TRICARE Prime · billed")).to_be_visible()
    _record(clinician, "PAY-0002", "Commercial PPO")
    expect(clinician.get_by_role("heading", name="Under Commercial PPO")).to_be_visible()
    problems += _check(clinician, "case-detail", shots, size)
    clinician_ctx.close()

    finance.goto("/reports/margin?group_by=payer")
    table = finance.locator("table.margin-table")
    expect(table.get_by_role("cell", name="TRICARE Prime")).to_be_visible()
    expect(table.get_by_role("cell", name="Commercial PPO")).to_be_visible()
    expect(table).to_contain_text("$951.50")  # TRICARE's table: $850.00 + $101.50 for 64640
    problems += _check(finance, "margin-by-payer", shots, size)
    finance.goto("/payers")
    finance.get_by_role("link", name="TRICARE Prime").click()
    finance.get_by_label("Or paste the CSV here").fill(RAISED)
    finance.get_by_role("button", name="Load fee table").click()
    expect(finance.get_by_text("Fee table loaded")).to_be_visible()
    finance.goto("/reports/margin?group_by=payer")
    expect(finance.locator("#stale-notice")).to_contain_text("1 case(s)")
    finance.locator("#stale-notice").get_by_role("link").click()
    finance.get_by_role("button", name="Reprice cases priced under older versions").click()
    expect(finance.get_by_text("Repriced 1 of 1 stale case(s)")).to_be_visible()
    finance.goto("/reports/margin?group_by=payer")
    expect(finance.locator("#stale-notice")).to_have_count(0)
    expect(finance.locator("table.margin-table")).to_contain_text("$1,001.50")
    problems += _check(finance, "margin-repriced", shots, size)
    finance_ctx.close()
    assert problems == [], "\n".join(problems)
