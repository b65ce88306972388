"""Recall, return-to-vendor and notification pages, and the refusals of held lots in forms."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.inventory.models import Lot, Recall, StockMovement, VendorReturn
from supply_app.notifications.models import NotificationPreference
from tests.support.factories import make_facility, price_part, sync_parts
from tests.support.web import sign_in
from tests.support.web_seed import TEST_GTIN, give_gtin, gs1_hri, stock_lot
from tests.web.test_cases import case_form
from tests.web.test_orders import latest_order, start_order


def ledger() -> int:
    """Rows in the stock ledger, as committed."""
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def world(app):
    """Two facilities with lot REC-1 at home (10 eaches) and a materials manager."""
    parts = sync_parts(app)
    tips = parts["STT2190-5"]
    price_part(tips, 125_000)
    home, away = make_facility(), make_facility()
    stock_lot(home, tips, "REC-1", 10, 250_000)
    stock_lot(home, parts["CRX2111-10"], "CART-1", 10, 30_000)
    return home, away, parts


def place_by_form(browser, tips) -> Recall:
    """Record a recall through its form."""
    response = browser.submit(
        "/recalls/new",
        {
            "source": "fda",
            "notice_number": "Z-0420-2026",
            "notice_date": (date.today() - timedelta(days=1)).isoformat(),
            "reason": "Sterile barrier may be compromised",
            "lots": f"{tips.part_number} REC-1\n\n",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.commit()
    return db.session.scalar(select(Recall))


def test_recall_from_notice_to_closing_in_pages(app):
    """Place by form, see holders, forms refuse the held lot, dispose, close (audited)."""
    home, away, parts = world(app)
    tips = parts["STT2190-5"]
    materials = sign_in(app, "materials", [home, away])
    recall = place_by_form(materials, tips)
    page = materials.get(f"/recalls/{recall.id}").get_data(as_text=True)
    assert "FDA notice Z-0420-2026" in page
    assert "awaiting disposition" in page
    stock = materials.get(f"/stock?facility={home.id}").get_data(as_text=True)
    assert f"on hold: recall {recall.id}" in stock

    before = ledger()
    base = {"facility_id": home.id, "part_id": tips.id, "lot_number": "REC-1", "note": ""}
    refusals = [
        ("/stock/transfer", {**base, "to_facility_id": away.id, "packs": 0, "eaches": 1}),
        ("/stock/adjust", {**base, "change": 1, "reason": "found"}),
        ("/stock/count", {**base, "packs": 1, "eaches": 0}),
        (
            "/stock/receive",
            {
                **base,
                "expiry_date": (date.today() + timedelta(days=365)).isoformat(),
                "packs": 1,
                "eaches": 0,
                "reason": "donation",
                "pack_cost": "",
            },
        ),
    ]
    for path, data in refusals:
        response = materials.submit(path, data)
        assert response.status_code == 409, path  # as the API answers: the hold refused it
        html = response.get_data(as_text=True)
        assert f"on hold under recall {recall.id}" in html, path
        assert ledger() == before

    held = db.session.scalar(select(Lot.id).where(Lot.lot_number == "REC-1"))
    waste_form = materials.get(f"/stock/waste?facility={home.id}&lot={held}").get_data(as_text=True)
    assert 'value="REC-1"' in waste_form
    wasted = materials.submit(
        "/stock/waste", {**base, "packs": 0, "eaches": 4, "reason": "recalled"}
    )
    assert wasted.status_code == 302
    refused = materials.submit(
        f"/recalls/{recall.id}", {"close-note": "done"}, action=f"/recalls/{recall.id}/close"
    )
    assert refused.status_code == 409  # the recall's state (stock still held) refused it
    assert "still held at" in refused.get_data(as_text=True)
    returned = materials.submit(
        "/stock/return",
        {
            **base,
            "packs": 1,
            "eaches": 1,
            "rga_number": "RGA-1",
            "rga_date": date.today().isoformat(),
        },
    )
    assert returned.status_code == 302, returned.get_data(as_text=True)
    closed = materials.submit(
        f"/recalls/{recall.id}",
        {"close-note": "All disposed"},
        action=f"/recalls/{recall.id}/close",
    )
    assert closed.status_code == 302, closed.get_data(as_text=True)
    db.session.commit()
    assert db.session.get(Recall, recall.id).status == "closed"
    actions = set(
        db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "recall"))
    )
    assert actions == {"recall.place", "recall.close"}
    page = materials.get(f"/recalls/{recall.id}").get_data(as_text=True)
    assert "done" in page
    assert "Close the recall" not in page


def test_release_is_for_admins_and_lifts_the_hold(app):
    """Materials managers and an admin of one facility cannot release; an admin holding
    every facility can, and the lot is usable again."""
    home, _, parts = world(app)
    materials = sign_in(app, "materials", [home])
    recall = place_by_form(materials, parts["STT2190-5"])
    page = materials.get(f"/recalls/{recall.id}").get_data(as_text=True)
    assert "Release the hold" not in page
    assert (
        materials.submit(
            f"/recalls/{recall.id}", {"release-note": "x"}, action=f"/recalls/{recall.id}/release"
        ).status_code
        == 403
    )
    local_admin = sign_in(app, "admin", [home])  # the lots would be usable everywhere
    assert "Release the hold" not in local_admin.get(f"/recalls/{recall.id}").get_data(as_text=True)
    refused = local_admin.submit(
        f"/recalls/{recall.id}", {"release-note": "x"}, action=f"/recalls/{recall.id}/release"
    )
    assert refused.status_code == 403
    assert "holds every facility" in refused.get_data(as_text=True)
    admin = sign_in(app, "admin", all_facilities=True)
    released = admin.submit(
        f"/recalls/{recall.id}",
        {"release-note": "Notice withdrawn by FDA"},
        action=f"/recalls/{recall.id}/release",
    )
    assert released.status_code == 302
    db.session.commit()
    assert (
        inventory.holds_on(
            db.session, [r.lot_id for r in db.session.scalars(select(StockMovement))]
        )
        == {}
    )


def test_recall_form_errors_keep_input(app):
    """A bad lot line or an unknown part is reported on the lots field; nothing is placed."""
    home, _, _ = world(app)
    materials = sign_in(app, "materials", [home])
    for lots, message in (("STT2190-5", "part number and a lot number"), ("NOPE-1 X1", "No part")):
        response = materials.submit(
            "/recalls/new",
            {
                "source": "fda",
                "notice_number": "Z-1",
                "notice_date": date.today().isoformat(),
                "reason": "r",
                "lots": lots,
            },
        )
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        assert 'value="Z-1"' in html
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Recall)) == 0
    clinician = sign_in(app, "clinician", [home])
    assert clinician.get("/recalls/new").status_code == 403


def test_return_to_vendor_and_credit(app):
    """A return under a stale RGA is refused; a fresh one lists credit expected until paid."""
    home, _, parts = world(app)
    materials = sign_in(app, "materials", [home])
    base = {
        "facility_id": home.id,
        "part_id": parts["CRX2111-10"].id,
        "lot_number": "CART-1",
        "packs": 0,
        "eaches": 4,
        "note": "",
    }
    stale = (date.today() - timedelta(days=31)).isoformat()
    refused = materials.submit("/stock/return", {**base, "rga_number": "RGA-9", "rga_date": stale})
    assert refused.status_code == 422
    assert "31 days old" in refused.get_data(as_text=True)
    done = materials.submit(
        "/stock/return", {**base, "rga_number": "RGA-9", "rga_date": date.today().isoformat()}
    )
    assert done.status_code == 302
    listing = materials.get(f"/stock/returns?facility={home.id}").get_data(as_text=True)
    assert "Credit expected: $120.00" in listing
    ledger_page = materials.get(f"/stock/movements?facility={home.id}").get_data(as_text=True)
    assert "return to vendor" in ledger_page
    assert "RGA RGA-9" in ledger_page
    finance = sign_in(app, "finance", all_facilities=True)
    record = db.session.scalar(select(VendorReturn))
    credited = finance.submit(
        f"/stock/returns/{record.id}/credit",
        {"credit_memo": "CM-77", "credited_on": date.today().isoformat()},
    )
    assert credited.status_code == 302, credited.get_data(as_text=True)
    listing = finance.get(f"/stock/returns?facility={home.id}").get_data(as_text=True)
    assert "Credit expected: $0.00" in listing
    assert "CM-77" in listing


def test_notification_settings_page(app):
    """A user sets an address and opts in; a bad address is refused beside the field."""
    home = make_facility()
    user = sign_in(app, "clinician", [home])
    bad = user.submit("/notifications", {"email": "not an address", "daily_digest": "y"})
    assert bad.status_code == 422
    assert "an address such as" in bad.get_data(as_text=True)
    assert (
        user.submit("/notifications", {"email": "c@example.mil", "daily_digest": "y"}).status_code
        == 302
    )
    db.session.commit()
    pref = db.session.get(NotificationPreference, user.user.id)
    assert (pref.email, pref.daily_digest) == ("c@example.mil", True)
    assert user.submit("/notifications", {"email": "c@example.mil"}).status_code == 302
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(NotificationPreference, user.user.id).daily_digest is False


def test_case_form_and_order_receipt_refuse_a_held_lot(app):
    """The UI's case form (scanned or picked) and order receipt are doors too."""
    home, _, parts = world(app)
    tips = parts["STT2190-5"]
    give_gtin(tips)
    materials = sign_in(app, "materials", [home])
    recall = place_by_form(materials, tips)
    clinician = sign_in(app, "clinician", [home])
    before = ledger()
    label = gs1_hri(TEST_GTIN, "REC-1", date.today() + timedelta(days=365))
    scanned = clinician.submit("/cases/new", case_form(home, parts, scans=label))
    assert scanned.status_code == 409
    assert f"on hold under recall {recall.id}" in scanned.get_data(as_text=True)
    picked = clinician.submit("/cases/new", case_form(home, parts, **{f"pick_{tips.id}": 1}))
    assert picked.status_code == 409  # FEFO has no usable tip: the held lot is not usable
    assert "usable eaches (unexpired, not on hold)" in picked.get_data(as_text=True)
    assert ledger() == before

    buyer, approver = sign_in(app, "purchaser", [home]), sign_in(app, "purchaser", [home])
    order = start_order(buyer, home, tips)
    page = f"/orders/{order.id}"
    assert buyer.submit(page, {}, action=f"{page}/submit").status_code == 302
    assert approver.submit(page, {}, action=f"{page}/approve").status_code == 302
    expiry = (date.today() + timedelta(days=365)).isoformat()
    line_id = latest_order().lines[0].id
    received = materials.submit(
        page,
        {
            "lines-0-line_id": line_id,
            "lines-0-packs": 1,
            "lines-0-lot_number": "REC-1",
            "lines-0-expiry_date": expiry,
        },
        action=f"{page}/receive",
    )
    assert f"on hold under recall {recall.id}" in received.get_data(as_text=True)
    assert latest_order().status == "approved"
    assert ledger() == before


def test_a_held_lot_offers_waste_and_return_never_transfer(app):
    """On the stock page and the alerts, a held lot's row offers Waste (reason recalled) and
    Return to the vendor; Transfer, which a hold refuses, is not offered."""
    home, _, parts = world(app)
    materials = sign_in(app, "materials", [home])
    place_by_form(materials, parts["STT2190-5"])
    lot = inventory.find_lot(db.session, part=parts["STT2190-5"], lot_number="REC-1")
    for page in (f"/stock?facility={home.id}", f"/stock/alerts?facility={home.id}"):
        html = materials.get(page).get_data(as_text=True)
        assert 'aria-label="Return STT2190-5 lot REC-1 to the vendor"' in html, page
        assert f"/stock/return?facility={home.id}&amp;lot={lot.id}" in html, page
        assert f"lot={lot.id}&amp;reason=recalled" in html, page
        assert 'aria-label="Transfer STT2190-5 lot REC-1"' not in html, page
        assert 'aria-label="Transfer CRX2111-10 lot CART-1"' in html or "alerts" in page
