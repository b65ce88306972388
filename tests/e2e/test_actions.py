"""Issue 14, item 3: actions beside the data, in Chromium, checked in the database."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from supply_app.extensions import db
from supply_app.inventory.models import StockCount, StockMovement
from supply_app.ordering import service as ordering
from supply_app.ordering.models import PurchaseOrder
from tests.e2e.test_journeys import balance, latest, opening_stock
from tests.support.factories import make_order
from tests.support.journeys import seed_world, sign_in


def test_count_waste_transfer_from_rows_and_reverse_from_the_ledger(page: Page, fresh_db, shoot):
    """Count a lot from its row (fields start empty), waste an expired lot from its alert,
    transfer from a row (never to itself), and reverse a movement from the history."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "STT2190-5", "ROW-1", 10)
    opening_stock(world, world.home, "CRX2111-10", "GONE-1", 4, days=400)
    sign_in(page, world.users["materials"])

    page.goto("/stock")
    row = page.get_by_role("row").filter(has_text="ROW-1")
    row.get_by_role("link", name="Count STT2190-5 lot ROW-1").click()
    expect(page.get_by_label("Lot number")).to_have_value("ROW-1")
    expect(page.get_by_label("Packs")).to_have_value("")
    expect(page.get_by_label("Loose eaches")).to_have_value("")
    page.get_by_role("button", name="Count a lot").click()  # nothing typed: nothing counted
    expect(page.locator(".error-summary")).to_contain_text("Type the packs and loose eaches")
    page.get_by_label("Packs").fill("1")
    page.get_by_label("Loose eaches").fill("4")
    page.get_by_role("button", name="Count a lot").click()
    expect(page.get_by_text("books said 10")).to_be_visible()
    latest()
    assert db.session.scalar(select(StockCount)).counted == 9

    row = page.get_by_role("row").filter(has_text="ROW-1")
    row.get_by_role("link", name="Transfer STT2190-5 lot ROW-1").click()
    destination = page.get_by_label("To facility")
    expect(destination).to_have_value(str(world.other.id))
    source_option = destination.locator(f'option[value="{world.home.id}"]')
    expect(source_option).to_be_disabled()
    page.get_by_label("Loose eaches").fill("2")
    shoot(page, "action-transfer")
    page.get_by_role("button", name="Transfer stock").click()
    expect(page.get_by_text("Transfer posted")).to_be_visible()
    assert (balance(world.home, "ROW-1"), balance(world.other, "ROW-1")) == (7, 2)

    page.get_by_role("link", name="Movement history").click()
    transfer_out = page.get_by_role("row").filter(has_text="transfer out")
    transfer_out.get_by_role("link", name="Reverse").click()
    page.get_by_label("Why reverse it").fill("sent to the wrong clinic")
    page.get_by_role("button", name="Reverse movement").click()
    expect(page.get_by_text("reversed by movement")).to_be_visible()
    original = page.get_by_role("row").filter(has_text="transfer out", has_not_text="reversal")
    expect(original).to_contain_text("reversed")
    assert (balance(world.home, "ROW-1"), balance(world.other, "ROW-1")) == (9, 0)
    latest()
    assert db.session.scalars(
        select(StockMovement.reason).where(StockMovement.kind == "reversal")
    ).all() == ["transfer_in", "transfer_out"]

    # Expired stock found on a shelf: booked, then wasted from its alert.
    page.goto("/stock/receive")
    page.get_by_label("Part", exact=True).select_option(str(world.parts["STT2309-5"].id))
    page.get_by_label("Lot number").fill("FOUND-OLD")
    page.get_by_label("Expiry date").fill((date.today() - timedelta(days=20)).isoformat())
    page.get_by_label("Loose eaches").fill("3")
    page.get_by_label("Reason").select_option("found")
    page.get_by_role("button", name="Receive stock").click()
    expect(page.get_by_text("Received 3 eaches of STT2309-5 lot FOUND-OLD")).to_be_visible()
    page.goto("/stock/alerts")
    alert = page.get_by_role("row").filter(has_text="FOUND-OLD")
    expect(alert).to_contain_text("Expired on shelf")
    alert.get_by_role("link", name="Waste STT2309-5 lot FOUND-OLD").click()
    expect(page.get_by_label("Reason")).to_have_value("expired")
    page.get_by_label("Loose eaches").fill("3")
    page.get_by_role("button", name="Waste stock").click()
    expect(page.get_by_text("Waste posted")).to_be_visible()
    assert balance(world.home, "FOUND-OLD") == 0


def test_lots_are_picked_not_retyped_and_matched_in_any_case(page: Page, fresh_db):
    """The lot field offers the shelf's lots; a lot typed in lower case is found."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "STT2190-5", "PICK-AB", 6)
    sign_in(page, world.users["materials"])
    page.goto("/stock/waste")
    options = page.locator(f"datalist#lots-{world.home.id} option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("value", "PICK-AB")
    page.get_by_label("Lot number").fill("pick-ab")
    page.get_by_label("Loose eaches").fill("1")
    page.get_by_label("Reason").select_option("damaged")
    page.get_by_role("button", name="Waste stock").click()
    expect(page.get_by_text("Waste posted")).to_be_visible()
    assert balance(world.home, "PICK-AB") == 5


def test_draft_line_packs_change_and_several_lines_arrive_in_one_receipt(page: Page, fresh_db):
    """A purchaser changes a draft line's packs; materials receive two lines in one submit."""
    world = seed_world(fresh_db)
    lines = [(world.parts["CRX2111-10"], 2), (world.parts["STT2190-5"], 1)]
    order = make_order(world.home, world.users["purchaser"], lines)
    sign_in(page, world.users["purchaser"])
    page.goto(f"/orders/{order.id}")
    page.get_by_label("Packs of CRX2111-10", exact=True).fill("4")
    page.get_by_role("button", name="Change the packs of CRX2111-10").click()
    expect(page.get_by_text("CRX2111-10: 4 pack(s)")).to_be_visible()
    latest()
    assert sorted(line.packs for line in db.session.get(PurchaseOrder, order.id).lines) == [1, 4]
    page.get_by_role("button", name="Submit order").click()
    expect(page.get_by_text("Order submitted")).to_be_visible()
    latest()
    ordering.approve_order(
        db.session, order=db.session.get(PurchaseOrder, order.id), actor=world.users["purchaser2"]
    )
    db.session.commit()

    page.goto(f"/orders/{order.id}")
    expiry = (date.today() + timedelta(days=400)).isoformat()
    for number, packs, lot in (("CRX2111-10", "4", "MULTI-C"), ("STT2190-5", "1", "MULTI-T")):
        page.get_by_label(f"Packs received of {number}").fill(packs)
        page.get_by_label(f"Lot number of {number}").fill(lot)
        page.get_by_label(f"Expiry date of {number}").fill(expiry)
    page.get_by_role("button", name="Receive into stock").click()
    expect(page.get_by_text("Received into stock: 4 × CRX2111-10 lot MULTI-C")).to_be_visible()
    assert (balance(world.home, "MULTI-C"), balance(world.home, "MULTI-T")) == (40, 5)
    latest()
    assert db.session.get(PurchaseOrder, order.id).status == "received"
