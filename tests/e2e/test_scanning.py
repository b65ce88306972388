"""Issue 14, item 1: scanning that works out of the box, in Chromium, checked in the database."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from supply_app.auth.models import AuditEvent
from supply_app.cases.models import ProcedureCase
from supply_app.catalog.models import PartGtin
from supply_app.extensions import db
from supply_app.inventory.models import Lot
from tests.e2e.test_journeys import balance, latest, opening_stock
from tests.support.factories import make_order
from tests.support.inventory import hold
from tests.support.journeys import hri, seed_world, sign_in, sign_out

NEW_GTIN = "00812345000016"  # not in the catalog until a user links it


def test_an_unknown_label_is_taught_once_then_every_door_knows_it(page: Page, fresh_db, shoot):
    """Materials scans a label the catalog does not know, links it to its part, receives by
    the scan (the receipt records the label's lot, expiry and GTIN); the clinician's case
    form then knows the same label, counts the scans, and four scans of a lot holding three
    are refused in words that name the part, the lot, what is there and what was asked."""
    world = seed_world(fresh_db)
    expiry = date.today() + timedelta(days=300)
    label = hri(NEW_GTIN, "TAUGHT-1", expiry)

    sign_in(page, world.users["materials"])
    page.goto("/stock/receive")
    box = page.get_by_label("Scan barcode")
    box.fill(label)
    box.press("Enter")
    status = page.locator("#scan-status")
    expect(status).to_contain_text("part not known")
    teach = page.locator("#teach")
    expect(teach).to_be_visible()
    expect(teach).to_contain_text(NEW_GTIN)
    teach.get_by_label("Part this barcode is on").select_option(str(world.parts["STT2190-5"].id))
    teach.get_by_label("The label is on").select_option("each")
    shoot(page, "scan-teach")
    teach.get_by_role("button", name="Link this barcode").click()
    expect(status).to_contain_text("Read: STT2190-5 · lot TAUGHT-1 · expires " + expiry.isoformat())
    expect(teach).to_be_hidden()
    expect(page.get_by_label("Lot number")).to_have_value("TAUGHT-1")
    page.get_by_label("Reason").select_option("donation")
    page.get_by_label("Loose eaches").fill("3")
    page.get_by_role("button", name="Receive stock").click()
    expect(page.get_by_text("Received 3 eaches of STT2190-5 lot TAUGHT-1")).to_be_visible()

    latest()
    link = db.session.scalar(select(PartGtin).where(PartGtin.gtin == NEW_GTIN))
    assert (link.part.part_number, link.units, link.source) == ("STT2190-5", 1, "taught")
    assert link.taught_by_id == world.users["materials"].id
    lot = db.session.scalar(select(Lot).where(Lot.lot_number == "TAUGHT-1"))
    assert (lot.gtin, lot.expiry_date) == (NEW_GTIN, expiry)  # the scan went into the receipt
    assert balance(world.home, "TAUGHT-1") == 3
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "gtin.link"))
    sign_out(page)

    sign_in(page, world.users["clinician"])
    page.get_by_label("Case reference").fill("SCAN-0001")
    page.get_by_label("lateral femoral cutaneous nerve (LFCN)", exact=True).check()
    scans = page.get_by_label("Scanned supplies")
    feedback = page.locator("#scans-status")
    for n in range(1, 5):
        scans.press("End")
        scans.type(label)
        scans.press("Enter")
        expect(feedback).to_contain_text(f"Scan {n}: STT2190-5 · lot TAUGHT-1")
        expect(feedback).to_contain_text(f"{n} scanned so far, {n} of lot TAUGHT-1")
    expect(feedback).to_contain_text("Only 3 of this lot are on the shelf")
    shoot(page, "scan-case-feedback")
    page.get_by_role("button", name="Record and price case").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("STT2190-5 lot TAUGHT-1: 3 eaches on hand, 4 asked for")
    latest()
    assert db.session.scalar(select(func.count()).select_from(ProcedureCase)) == 0
    assert balance(world.home, "TAUGHT-1") == 3
    sign_out(page)

    # Admins see who linked the barcode, change what its package holds, and remove it.
    sign_in(page, world.users["admin"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Barcodes").click()
    row = page.get_by_role("row").filter(has_text=NEW_GTIN)
    expect(row).to_contain_text(f"linked by {world.users['materials'].display_name}")
    row.get_by_label(f"Package of {NEW_GTIN}").select_option("pack")
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Barcode {NEW_GTIN} is now STT2190-5")).to_be_visible()
    latest()
    assert db.session.scalar(select(PartGtin.units).where(PartGtin.gtin == NEW_GTIN)) == 5
    shoot(page, "barcodes-admin")
    page.get_by_role("button", name=f"Remove the link of {NEW_GTIN}").click()
    expect(page.get_by_text(f"Barcode {NEW_GTIN} is no longer linked")).to_be_visible()
    latest()
    assert db.session.scalar(select(PartGtin).where(PartGtin.gtin == NEW_GTIN)) is None
    events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("gtin.%")))
    assert sorted(events) == ["gtin.change", "gtin.link", "gtin.unlink"]


def test_the_case_form_finds_a_plain_lot_on_the_shelf(page: Page, fresh_db):
    """A lot number scanned (no GTIN) is looked up on the facility's shelf, as stock forms do."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "CRX2111-10", "PLAIN-7", 10)
    sign_in(page, world.users["clinician"])
    page.get_by_label("Case reference").fill("SCAN-0002")
    page.get_by_label("lateral femoral cutaneous nerve (LFCN)", exact=True).check()
    scans = page.get_by_label("Scanned supplies")
    scans.fill("PLAIN-7")
    scans.press("Enter")
    expect(page.locator("#scans-status")).to_contain_text(
        "Scan 1: CRX2111-10 · lot PLAIN-7 · expires"
    )
    expect(page.locator("#scans-status")).to_contain_text("10 on the shelf here")
    page.get_by_role("button", name="Record and price case").click()
    expect(page.get_by_text("recorded and priced")).to_be_visible()
    assert balance(world.home, "PLAIN-7") == 9


def test_receiving_refuses_an_item_the_order_did_not_ask_for(page: Page, fresh_db, shoot):
    """A tip label scanned on a cartridge order is refused on the page; the right label fills
    its line, and the receipt books it by its scan."""
    world = seed_world(fresh_db)
    for number, gtin in (("STT2190-5", NEW_GTIN), ("CRX2111-10", "00812345000023")):
        world.parts[number].gtins.append(PartGtin(gtin=gtin, units=10, source="catalog"))
    db.session.commit()
    order = make_order(
        world.home,
        world.users["purchaser"],
        [(world.parts["CRX2111-10"], 2)],
        approver=world.users["purchaser2"],
    )

    sign_in(page, world.users["materials"])
    page.goto(f"/orders/{order.id}")
    expiry = date.today() + timedelta(days=500)
    box = page.get_by_label("Scan barcode")
    box.fill(hri(NEW_GTIN, "WRONG-1", expiry))
    box.press("Enter")
    expect(page.locator("#scan-status")).to_contain_text(
        "This label is for STT2190-5, which this order did not ask for"
    )
    for _ in range(2):
        box.fill(hri("00812345000023", "CART-9", expiry))
        box.press("Enter")
    expect(page.locator("#scan-status")).to_contain_text("CRX2111-10: 2 pack(s) scanned so far")
    expect(page.get_by_label("Lot number of CRX2111-10")).to_have_value("CART-9")
    shoot(page, "scan-order-receipt")
    page.get_by_role("button", name="Receive into stock").click()
    expect(page.get_by_text("Received into stock: 2 × CRX2111-10 lot CART-9")).to_be_visible()
    assert balance(world.home, "CART-9") == 20
    assert balance(world.home, "WRONG-1") == 0


def test_the_case_form_warns_of_a_held_lot_as_it_is_scanned(page: Page, fresh_db, shoot):
    """A clinician scans a lot put on hold by a recall: the scan's line says so in red at
    once, naming the recall, before anything is submitted."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "STT2190-5", "HOLD-SCAN", 5)
    recall = hold([(world.parts["STT2190-5"], "HOLD-SCAN")], notice="SCAN-HOLD")
    sign_in(page, world.users["clinician"])
    scans = page.get_by_label("Scanned supplies")
    scans.type("HOLD-SCAN")
    scans.press("Enter")
    feedback = page.locator("#scans-status")
    expect(feedback).to_contain_text(f"ON HOLD under recall {recall.id}")
    expect(feedback).to_contain_text("do not use it")
    expect(feedback).to_have_class("scan-status error")
    shoot(page, "scan-case-held-lot")
