"""Browser journeys: a recall from notice to closing, and a return to the vendor to its credit."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Page, expect
from sqlalchemy import select

from supply_app.extensions import db
from supply_app.inventory.models import Recall, VendorReturn
from tests.e2e.test_journeys import balance, latest, opening_stock
from tests.support.journeys import seed_world, sign_in, sign_out


def test_recall_from_notice_to_closing(page: Page, fresh_db, shoot):
    """A materials manager records a notice; the lot is held on every page that could move
    it; the clinician's landing page warns; each holder disposes; the recall closes."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "STT2190-5", "E2E-REC", 12)
    opening_stock(world, world.other, "STT2190-5", "E2E-REC", 3)
    opening_stock(world, world.home, "STT2190-5", "E2E-OK", 10, days=500)

    sign_in(page, world.users["materials"])
    page.get_by_role("link", name="Recalls").click()
    page.get_by_role("link", name="Record a recall").click()
    page.get_by_label("Source").select_option("manufacturer")
    page.get_by_label("Notice number").fill("PCR-E2E-1")
    page.get_by_label("Notice date").fill(date.today().isoformat())
    page.get_by_label("Reason").fill("Tip insulation may crack")
    page.get_by_label("Lots (one per line").fill("STT2190-5 E2E-REC")
    shoot(page, "recall-new")
    page.get_by_role("button", name="Place the recall").click()
    expect(page.get_by_text("its lots are on hold everywhere")).to_be_visible()
    expect(page.get_by_role("cell", name=world.home.code)).to_be_visible()
    expect(page.get_by_role("cell", name=world.other.code)).to_be_visible()
    shoot(page, "recall-detail-open")

    # Every other door refuses the held lot: a transfer says which recall holds it.
    page.goto(f"/stock?facility={world.home.id}")
    expect(page.get_by_role("link", name="on hold: recall").first).to_be_visible()
    page.get_by_role("link", name="Transfer", exact=True).click()
    page.get_by_label("Facility", exact=True).select_option(str(world.home.id))
    page.get_by_label("To facility").select_option(str(world.other.id))
    page.get_by_label("Part", exact=True).select_option(str(world.parts["STT2190-5"].id))
    page.get_by_label("Lot number").fill("E2E-REC")
    page.get_by_label("Packs").fill("1")
    page.get_by_role("button", name="Transfer stock").click()
    expect(page.get_by_role("alert").first).to_contain_text("on hold under recall")
    assert balance(world.home, "E2E-REC") == 12
    sign_out(page)

    sign_in(page, world.users["clinician"])
    expect(page.get_by_role("heading", name="Needs your attention today")).to_be_visible()
    expect(page.get_by_text("E2E-REC: 12 eaches on hold under recall")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "landing-clinician-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_out(page)

    sign_in(page, world.users["materials"])
    latest()
    recall = db.session.scalar(select(Recall))
    page.goto(f"/recalls/{recall.id}")
    home_row = page.get_by_role("row").filter(has_text=world.home.code)
    home_row.get_by_role("link", name="Return to vendor").click()
    expect(page.get_by_label("Lot number")).to_have_value("E2E-REC")
    page.get_by_label("Packs").fill("2")
    page.get_by_label("Loose eaches").fill("0")
    page.get_by_label("RGA number").fill("RGA-E2E-1")
    page.get_by_label("RGA date").fill(date.today().isoformat())
    page.get_by_role("button", name="Return to vendor").click()
    expect(page.get_by_text("Returned to the vendor under RGA RGA-E2E-1")).to_be_visible()
    page.goto(f"/recalls/{recall.id}")
    page.get_by_label("Note", exact=True).first.fill("All disposed")
    page.get_by_role("button", name="Close the recall").click()
    expect(page.get_by_role("alert").first).to_contain_text("still held at")
    for facility in (world.home, world.other):
        row = page.get_by_role("row").filter(has_text=facility.code)
        row.get_by_role("link", name="Waste").click()
        page.get_by_label("Packs").fill("0")
        page.get_by_label("Loose eaches").fill(str(balance(facility, "E2E-REC")))
        page.get_by_label("Reason").select_option("recalled")
        page.get_by_role("button", name="Waste stock").click()
        expect(page.get_by_text("Waste posted")).to_be_visible()
        page.goto(f"/recalls/{recall.id}")
    page.get_by_label("Note", exact=True).first.fill("All disposed")
    page.get_by_role("button", name="Close the recall").click()
    expect(page.get_by_text("Recall closed.")).to_be_visible()
    expect(page.get_by_text("Closed: every holder disposed")).to_be_visible()
    shoot(page, "recall-detail-closed")
    latest()
    assert db.session.get(Recall, recall.id).status == "closed"
    assert balance(world.home, "E2E-REC") == 0
    assert balance(world.other, "E2E-REC") == 0
    assert balance(world.home, "E2E-OK") == 10


def test_return_to_vendor_and_its_credit(page: Page, fresh_db, shoot):
    """A stale RGA is refused with the input kept; a fresh one ships the stock and lists the
    credit expected; finance records the credit memo."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "CRX2111-10", "E2E-RTV", 20)
    sign_in(page, world.users["materials"])
    page.goto(f"/stock?facility={world.home.id}")
    page.get_by_role("link", name="Return to vendor").click()
    page.get_by_label("Facility", exact=True).select_option(str(world.home.id))
    page.get_by_label("Part", exact=True).select_option(str(world.parts["CRX2111-10"].id))
    page.get_by_label("Lot number").fill("E2E-RTV")
    page.get_by_label("Packs").fill("1")
    page.get_by_label("RGA number").fill("RGA-OLD")
    page.get_by_label("RGA date").fill("2020-01-01")
    page.get_by_role("button", name="Return to vendor").click()
    expect(page.locator("#rga_date-error")).to_contain_text("an RGA is good for 30 days")
    expect(page.get_by_label("RGA number")).to_have_value("RGA-OLD")
    page.get_by_label("RGA number").fill("RGA-NEW")
    page.get_by_label("RGA date").fill(date.today().isoformat())
    page.get_by_role("button", name="Return to vendor").click()
    expect(page.get_by_text("credit expected $300.00")).to_be_visible()
    page.get_by_role("link", name="Returns and credit").click()
    expect(page.get_by_text("Credit expected: $300.00")).to_be_visible()
    shoot(page, "returns-credit-expected")
    page.goto(f"/stock/movements?facility={world.home.id}")
    expect(page.get_by_text("RGA RGA-NEW").first).to_be_visible()
    sign_out(page)

    sign_in(page, world.users["finance"])
    page.goto(f"/stock/returns?facility={world.home.id}")
    page.get_by_role("link", name="Record credit").click()
    page.get_by_label("Credit memo number").fill("CM-E2E-9")
    page.get_by_label("Credit date").fill(date.today().isoformat())
    page.get_by_role("button", name="Record credit").click()
    expect(page.get_by_text("Credit CM-E2E-9 recorded.")).to_be_visible()
    expect(page.get_by_text("Credit expected: $0.00")).to_be_visible()
    latest()
    record = db.session.scalar(select(VendorReturn))
    assert record.credit_memo == "CM-E2E-9"
    assert balance(world.home, "E2E-RTV") == 10
