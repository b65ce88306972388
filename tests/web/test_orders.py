"""Order pages: build by hand or from suggestions, submit, approve by another user, receive."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

from sqlalchemy import select

from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.inventory.models import StockBalance
from supply_app.ordering.models import PurchaseOrder
from tests.support.factories import make_facility, price_part, sync_parts
from tests.support.web import sign_in
from tests.support.web_seed import TEST_GTIN, give_gtin, gs1_hri

SOON = (date.today() + timedelta(days=10)).isoformat()


def latest_order() -> PurchaseOrder:
    """The newest order in the database."""
    db.session.expire_all()
    return db.session.scalar(select(PurchaseOrder).order_by(PurchaseOrder.id.desc()))


def start_order(browser, facility, part) -> PurchaseOrder:
    """Create a draft by hand with one line of 2 packs."""
    response = browser.submit(
        f"/orders/new?facility={facility.id}",
        {
            "facility_id": facility.id,
            "fund_code": "aa",
            "priority": "13",
            "required_delivery_date": SOON,
            "notes": "",
        },
        action="/orders/new",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    order = latest_order()
    page = f"/orders/{order.id}"
    added = browser.submit(page, {"part_id": part.id, "packs": 2}, action=f"{page}/lines")
    assert added.status_code == 302, added.get_data(as_text=True)
    return order


def test_order_by_hand_submit_approve_receive_export(app):
    """The whole order lifecycle through the pages, checked in the database."""
    parts = sync_parts(app)
    tips = parts["STT2190-5"]
    price_part(tips, 125_000)
    give_gtin(tips)
    home = make_facility()
    buyer = sign_in(app, "purchaser", [home])
    order = start_order(buyer, home, tips)
    page = f"/orders/{order.id}"
    draft = buyer.get(page).get_data(as_text=True)  # what it will cost, before submitting
    assert "Total at today's contract prices (fixed on submit)" in draft
    assert "$1,250.00" in draft
    assert "$2,500.00" in draft
    assert buyer.submit(page, {}, action=f"{page}/submit").status_code == 302
    order = latest_order()
    assert order.status == "submitted"
    assert order.fund_code == "AA"
    html = buyer.get(page).get_data(as_text=True)
    assert "Waiting for approval by another purchaser" in html
    refused = buyer.submit(page, {}, action=f"{page}/approve")
    assert "another purchaser or an admin" in refused.get_data(as_text=True)
    assert latest_order().status == "submitted"

    approver = sign_in(app, "purchaser", [home])
    assert approver.submit(page, {}, action=f"{page}/approve").status_code == 302
    assert latest_order().status == "approved"

    materials = sign_in(app, "materials", [home])
    expiry = date.today() + timedelta(days=500)
    line_id = latest_order().lines[0].id
    response = materials.submit(
        page,
        {
            "lines-0-scan": gs1_hri(TEST_GTIN, "RX-1", expiry),
            "lines-0-line_id": line_id,
            "lines-0-packs": 1,
        },
        action=f"{page}/receive",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = materials.submit(
        page,
        {
            "lines-0-line_id": line_id,
            "lines-0-packs": 1,
            "lines-0-lot_number": "RX-2",
            "lines-0-expiry_date": expiry.isoformat(),
        },
        action=f"{page}/receive",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert latest_order().status == "received"
    balances = db.session.scalars(select(StockBalance).where(StockBalance.facility_id == home.id))
    assert sorted((b.lot.lot_number, b.on_hand, b.value_cents) for b in balances) == [
        ("RX-1", 5, 125_000),
        ("RX-2", 5, 125_000),
    ]
    exported = buyer.get(f"{page}/ecat.csv")
    assert exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [(r["part_number"], r["quantity"], r["extended_price"]) for r in rows] == [
        ("STT2190-5", "2", "2500.00")
    ]

    # RX-2 was the wrong lot: the ledger sends the user to the order, which undoes it.
    ledger = materials.get(f"/stock/movements?facility={home.id}").get_data(as_text=True)
    assert "undo on the order" in ledger
    receipt_line = latest_order().receipts[1].lines[0]
    assert f"/orders/{order.id}/receipts/{receipt_line.id}/undo" in materials.get(page).get_data(
        as_text=True
    )
    undo = f"{page}/receipts/{receipt_line.id}/undo"
    response = materials.submit(undo, {"reason": "scanned the wrong lot"}, action=undo)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert latest_order().status == "partially_received"
    assert latest_order().lines[0].outstanding_packs == 1
    assert "undone" in materials.get(page).get_data(as_text=True)


def test_over_receipt_is_shown_beside_the_form(app):
    """Receiving more packs than outstanding keeps the input and books nothing."""
    parts = sync_parts(app)
    price_part(parts["CRX2111-10"], 30_000)
    home = make_facility()
    buyer = sign_in(app, "purchaser", [home])
    order = start_order(buyer, home, parts["CRX2111-10"])
    page = f"/orders/{order.id}"
    buyer.submit(page, {}, action=f"{page}/submit")
    sign_in(app, "purchaser", [home]).submit(page, {}, action=f"{page}/approve")
    response = buyer.submit(
        page,
        {
            "lines-0-line_id": latest_order().lines[0].id,
            "lines-0-packs": 3,
            "lines-0-lot_number": "OV-1",
            "lines-0-expiry_date": (date.today() + timedelta(days=300)).isoformat(),
        },
        action=f"{page}/receive",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "CRX2111-10 has 2 pack(s) outstanding on this order; 3 cannot be received" in html
    assert 'href="#lines-0-packs"' in html  # the summary links to the packs typed
    assert 'value="OV-1"' in html
    assert inventory.on_hand_by_part(db.session, home.id) == {}


def test_unpriced_part_blocks_submit_with_message(app):
    """Submitting a line with no contract price names the part and leaves a draft."""
    parts = sync_parts(app)
    home = make_facility()
    buyer = sign_in(app, "purchaser", [home])
    order = start_order(buyer, home, parts["IST2221"])
    page = f"/orders/{order.id}"
    response = buyer.submit(page, {}, action=f"{page}/submit")
    assert "IST2221" in response.get_data(as_text=True)
    assert latest_order().status == "draft"


def test_suggestions_become_a_draft(app):
    """With a par level and no stock, the suggestion fills to max in whole packs."""
    parts = sync_parts(app)
    price_part(parts["CRX2111-10"], 30_000)
    home = make_facility()
    inventory.set_par_levels(
        db.session,
        facility=home,
        levels=[{"part_id": parts["CRX2111-10"].id, "min_eaches": 10, "max_eaches": 25}],
        actor=None,
    )
    db.session.commit()
    buyer = sign_in(app, "purchaser", [home])
    html = buyer.get(f"/orders?facility={home.id}").get_data(as_text=True)
    assert re.search(r"<strong>3 PK</strong> \(30 EA\)", html)
    response = buyer.submit(
        f"/orders?facility={home.id}",
        {
            "facility_id": home.id,
            "fund_code": "AB",
            "priority": "05",
            "required_delivery_date": SOON,
        },
        action="/orders/from-suggestions",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    order = latest_order()
    assert [(line.part.part_number, line.packs) for line in order.lines] == [("CRX2111-10", 3)]


def test_other_facility_order_is_404(app):
    """An order of a facility the user does not belong to is not found."""
    parts = sync_parts(app)
    home, other = make_facility(), make_facility()
    start_order(sign_in(app, "purchaser", [home]), home, parts["CRX2111-10"])
    outsider = sign_in(app, "purchaser", [other])
    assert outsider.get(f"/orders/{latest_order().id}").status_code == 404
    assert outsider.get(f"/orders/{latest_order().id}/ecat.csv").status_code == 404


def test_cancel_records_reason_and_blocks_submit(app):
    """A cancelled draft keeps who/why, and cannot be submitted afterwards."""
    parts = sync_parts(app)
    home = make_facility()
    buyer = sign_in(app, "purchaser", [home])
    page = f"/orders/{start_order(buyer, home, parts['CRX2111-10']).id}"
    response = buyer.submit(page, {"reason": "duplicate"}, action=f"{page}/cancel")
    assert response.status_code == 302
    order = latest_order()
    assert (order.status, order.cancel_reason, order.cancelled_by_id) == (
        "cancelled",
        "duplicate",
        buyer.user.id,
    )
    refused = buyer.submit(page, {}, action=f"{page}/submit")
    assert refused.status_code == 409
    assert "cancelled" in refused.get_data(as_text=True)


def test_order_list_filters_by_a_known_status_and_ignores_an_unknown_one(app):
    """?status=cancelled lists only cancelled orders; an unknown status lists them all."""
    parts = sync_parts(app)
    home = make_facility()
    buyer = sign_in(app, "purchaser", [home])
    draft = start_order(buyer, home, parts["CRX2111-10"])
    cancelled = start_order(buyer, home, parts["STT2190-5"])
    page = f"/orders/{cancelled.id}"
    assert buyer.submit(page, {"reason": "dup"}, action=f"{page}/cancel").status_code == 302

    def listed(query: str) -> set[int]:
        html = buyer.get(f"/orders?facility={home.id}{query}").get_data(as_text=True)
        return {int(n) for n in re.findall(r">Order (\d+)</a>", html)}

    assert listed("&status=cancelled") == {cancelled.id}
    assert listed("&status=draft") == {draft.id}
    assert listed("&status=lost") == {draft.id, cancelled.id}


def test_a_label_for_another_part_is_refused_on_receipt_in_words(app):
    """The server refuses a scanned item the line did not order, naming both parts; the
    message carries no field names."""
    parts = sync_parts(app)
    price_part(parts["CRX2111-10"], 30_000)
    give_gtin(parts["STT2190-5"])
    home = make_facility()
    buyer = sign_in(app, "purchaser", [home])
    order = start_order(buyer, home, parts["CRX2111-10"])
    page = f"/orders/{order.id}"
    buyer.submit(page, {}, action=f"{page}/submit")
    sign_in(app, "purchaser", [home]).submit(page, {}, action=f"{page}/approve")
    expiry = date.today() + timedelta(days=300)
    response = sign_in(app, "materials", [home]).submit(
        page,
        {
            "lines-0-line_id": latest_order().lines[0].id,
            "lines-0-packs": 1,
            "lines-0-scan": gs1_hri(TEST_GTIN, "WRONG-9", expiry),
        },
        action=f"{page}/receive",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This label is for STT2190-5, not CRX2111-10" in html
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "This label is for STT2190-5" in summary
    assert "lines.0" not in summary
    assert "part_id" not in summary
    assert latest_order().lines[0].received_packs == 0
