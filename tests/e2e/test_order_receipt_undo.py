"""A lot received in error, undone on the order by keyboard, at a desk and on a phone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from supply_app.extensions import db
from supply_app.ordering import receiving
from tests.e2e.test_journeys import latest
from tests.support.factories import make_order
from tests.support.journeys import seed_world, sign_in


@pytest.mark.parametrize("width", [1366, 390])
def test_a_wrong_lot_is_undone_on_the_order_by_keyboard(page: Page, fresh_db, shoot, width):
    """The draft shows what it will cost; after a wrong lot is received, Undo beside it asks
    for a reason (an empty one is refused in place), then reopens the line for the right lot."""
    page.set_viewport_size({"width": width, "height": 844})
    world = seed_world(fresh_db)
    tips = world.parts["STT2190-5"]
    draft = make_order(world.home, world.users["purchaser"], [(tips, 2)])
    order = make_order(
        world.home, world.users["purchaser"], [(tips, 1)], approver=world.users["purchaser2"]
    )
    receiving.receive_order(
        db.session,
        order=order,
        actor=world.users["materials"],
        items=[
            {
                "line_id": order.lines[0].id,
                "packs": 1,
                "lot_number": "WRONG-LOT",
                "expiry_date": date.today() + timedelta(days=300),
            }
        ],
    )
    db.session.commit()
    sign_in(page, world.users["materials"])
    page.goto(f"/orders/{draft.id}")
    expect(page.get_by_text("Total at today's contract prices (fixed on submit)")).to_be_visible()
    shoot(page, f"order-draft-prices-{width}")

    page.goto(f"/orders/{order.id}")
    undo = page.get_by_role("link", name="Undo the receipt of lot WRONG-LOT")
    undo.focus()
    page.keyboard.press("Enter")
    button = page.get_by_role("button", name="Undo this receipt")
    button.focus()
    page.keyboard.press("Enter")  # no reason given
    expect(page.locator(".error-summary")).to_be_focused()
    shoot(page, f"order-undo-refused-{width}")
    reason = page.get_by_label("Why reverse it")
    reason.fill("scanned the wrong lot")
    reason.press("Enter")
    expect(page.get_by_text("Receipt of 1 × STT2190-5 lot WRONG-LOT undone")).to_be_visible()
    expect(page.get_by_text("undone", exact=True)).to_be_visible()
    shoot(page, f"order-undo-done-{width}")
    latest()
    assert db.session.get(type(order), order.id).lines[0].outstanding_packs == 1
    assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 1
