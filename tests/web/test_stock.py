"""Stock pages and forms: balances, alerts, ledger, receive/adjust/transfer/waste/count, scan."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.inventory.models import StockBalance, StockMovement
from tests.support.factories import make_facility, price_part, sync_parts
from tests.support.inventory import hold
from tests.support.web import sign_in
from tests.support.web_seed import TEST_GTIN, give_gtin, gs1_hri, stock_lot


def on_hand(facility, lot_number: str) -> int:
    """Eaches of a lot at a facility, read from the balance table."""
    rows = db.session.scalars(select(StockBalance).where(StockBalance.facility_id == facility.id))
    return sum(b.on_hand for b in rows if b.lot.lot_number == lot_number)


def movement_count() -> int:
    """Rows in the stock ledger."""
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def test_balances_show_packs_eaches_and_expiry(app):
    """The stock page lists lots with packs + eaches, value and an expiry badge."""
    parts = sync_parts(app)
    home = make_facility()
    stock_lot(home, parts["STT2190-5"], "FRESH-1", 12, 300_000, days_to_expiry=400)
    stock_lot(home, parts["STT2190-5"], "SOON-1", 5, 125_000, days_to_expiry=10)
    browser = sign_in(app, "viewer", [home])
    html = browser.get(f"/stock?facility={home.id}").get_data(as_text=True)
    assert "2 PK + 2 EA" in html
    assert "$3,000.00" in html
    assert "FRESH-1" in html
    assert "SOON-1" in html
    assert 'class="badge warn">expiring' in html
    alerts = browser.get(f"/stock/alerts?facility={home.id}").get_data(as_text=True)
    assert "SOON-1" in alerts
    assert "FRESH-1" not in alerts


def test_other_facility_stock_is_404(app):
    """A facility the user does not belong to answers 404, never 403."""
    mine, other = make_facility(), make_facility()
    browser = sign_in(app, "materials", [mine])
    assert browser.get(f"/stock?facility={other.id}").status_code == 404
    assert browser.get(f"/stock/movements?facility={other.id}").status_code == 404
    assert browser.get("/stock?facility=99999999999999").status_code == 404


def test_receive_form_books_stock_at_contract_price(app):
    """Receiving 2 packs + 1 each with no typed cost values them at today's contract price."""
    parts = sync_parts(app)
    price_part(parts["CRX2111-10"], 30_000)
    home = make_facility()
    browser = sign_in(app, "materials", [home])
    response = browser.submit(
        f"/stock/receive?facility={home.id}",
        {
            "facility_id": home.id,
            "part_id": parts["CRX2111-10"].id,
            "lot_number": "CR-100",
            "expiry_date": (date.today() + timedelta(days=300)).isoformat(),
            "packs": 2,
            "eaches": 1,
            "reason": "opening_balance",
            "pack_cost": "",
            "note": "",
        },
        action="/stock/receive",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert on_hand(home, "CR-100") == 21
    balance = db.session.scalar(select(StockBalance).where(StockBalance.facility_id == home.id))
    assert balance.value_cents == 63_000  # 21 eaches at $30.00


def test_transfer_too_many_keeps_input_and_writes_nothing(app):
    """Asking for more than is on hand shows the message beside the form, input kept."""
    parts = sync_parts(app)
    home, away = make_facility(), make_facility()
    stock_lot(home, parts["STT2309-5"], "T-1", 5, 125_000)
    browser = sign_in(app, "materials", [home, away])
    before = movement_count()
    response = browser.submit(
        "/stock/transfer",
        {
            "facility_id": home.id,
            "to_facility_id": away.id,
            "part_id": parts["STT2309-5"].id,
            "lot_number": "T-1",
            "packs": 2,
            "eaches": 0,
            "note": "",
        },
    )
    assert response.status_code == 409  # too little stock: the state refused it, as in the API
    html = response.get_data(as_text=True)
    assert "Insufficient" in html or "on hand" in html
    assert 'value="T-1"' in html
    assert movement_count() == before


def test_unknown_lot_error_sits_next_to_lot_field(app):
    """A lot number the part never had is reported on the lot field."""
    parts = sync_parts(app)
    home = make_facility()
    browser = sign_in(app, "materials", [home])
    response = browser.submit(
        "/stock/adjust",
        {
            "facility_id": home.id,
            "part_id": parts["STT2309-5"].id,
            "lot_number": "NOPE",
            "change": 1,
            "reason": "found",
            "note": "",
        },
    )
    html = response.get_data(as_text=True)
    assert 'id="lot_number-error"' in html
    assert "No lot NOPE of STT2309-5" in html


def test_count_with_difference_posts_adjustment(app):
    """Counting 3 where the books say 5 posts a −2 adjustment."""
    parts = sync_parts(app)
    home = make_facility()
    stock_lot(home, parts["STT2309-5"], "C-1", 5, 125_000)
    browser = sign_in(app, "materials", [home])
    response = browser.submit(
        "/stock/count",
        {
            "facility_id": home.id,
            "part_id": parts["STT2309-5"].id,
            "lot_number": "C-1",
            "packs": 0,
            "eaches": 3,
            "note": "",
        },
    )
    assert response.status_code == 302
    assert on_hand(home, "C-1") == 3
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "difference -2 eaches" in page


def test_viewer_cannot_move_stock(app):
    """Stock forms are for materials managers and admins: others get the 403 page."""
    home = make_facility()
    browser = sign_in(app, "viewer", [home])
    response = browser.get("/stock/receive")
    assert response.status_code == 403
    assert "not open to your role" in response.get_data(as_text=True)


def test_scan_reads_gs1_and_maps_gtin_to_part(app):
    """The scan endpoint fills part, lot and expiry from a GS1 label."""
    parts = sync_parts(app)
    give_gtin(parts["STT2190-5"])
    browser = sign_in(app, "clinician", [make_facility()])
    expiry = date(2027, 12, 31)
    data = browser.get("/scan", query_string={"code": gs1_hri(TEST_GTIN, "L-9", expiry)}).json
    assert data["part_id"] == parts["STT2190-5"].id
    assert data["lot_number"] == "L-9"
    assert data["expiry_date"] == "2027-12-31"
    bad = browser.get("/scan", query_string={"code": "(01)00812345000019(10)X"})
    assert bad.status_code == 422
    assert "check digit" in bad.json["error"]


def test_plain_lot_scan_finds_its_part(app):
    """A label without a GTIN still names the part when only one part has that lot."""
    parts = sync_parts(app)
    home = make_facility()
    stock_lot(home, parts["CRX2111-10"], "10D9T", 10, 30_000)
    browser = sign_in(app, "materials", [home])
    data = browser.get("/scan", query_string={"code": "10D9T", "facility": home.id}).json
    assert data["lot_number"] == "10D9T"
    assert data["part_number"] == "CRX2111-10"


def test_a_scan_warns_at_once_of_a_lot_that_must_not_go_where_the_form_sends_it(app):
    """Scanned for a case or a transfer, a held, expired or absent lot is flagged in words
    before anything is submitted; scanned to receive, a held or expired one is; a count or
    waste (no purpose) is never warned off."""
    parts = sync_parts(app)
    tips = parts["STT2190-5"]
    home, away = make_facility(), make_facility()
    stock_lot(home, tips, "GOOD-1", 5, 10_000)
    stock_lot(home, tips, "HELD-1", 5, 10_000)
    stock_lot(home, tips, "OLD-1", 5, 10_000)
    stock_lot(away, tips, "AWAY-1", 5, 10_000)
    recall = hold([(tips, "HELD-1")], notice="SCAN-1")
    inventory.find_lot(db.session, part=tips, lot_number="OLD-1").expiry_date = date.today() - (
        timedelta(days=1)
    )  # found on the shelf the day after it expired
    db.session.commit()
    browser = sign_in(app, "clinician", [home])

    def warning(code: str, purpose: str | None) -> str | None:
        query = {"code": code, "facility": home.id, **({"purpose": purpose} if purpose else {})}
        return browser.get("/scan", query_string=query).json["warning"]

    assert warning("GOOD-1", "use") is None
    assert (
        warning("HELD-1", "use")
        == f"ON HOLD under recall {recall.id} ({recall.label}): do not use it"
    )
    assert warning("OLD-1", "use").startswith("EXPIRED on ")
    give_gtin(tips)
    away_label = gs1_hri(TEST_GTIN, "AWAY-1", date.today() + timedelta(days=90))
    assert warning(away_label, "use").startswith("not on the shelf here")
    assert warning(away_label, "receive") is None
    assert "it cannot be received" in warning("HELD-1", "receive")
    assert warning("HELD-1", None) is None  # a count or a waste of it is fine


def test_par_levels_form_saves_and_audits(app):
    """Materials set a min/max; a half-filled pair is refused beside the field."""
    parts = sync_parts(app)
    home = make_facility()
    browser = sign_in(app, "materials", [home])
    page = f"/stock/par-levels?facility={home.id}"
    cart = parts["CRX2111-10"].id
    refused = browser.submit(page, {f"min_{cart}": 10})
    assert "Give both minimum and maximum" in refused.get_data(as_text=True)
    assert inventory.par_levels(db.session, home.id) == []
    saved = browser.submit(page, {f"min_{cart}": 10, f"max_{cart}": 30})
    assert saved.status_code == 302
    levels = inventory.par_levels(db.session, home.id)
    assert [(lv.part_id, lv.min_eaches, lv.max_eaches) for lv in levels] == [(cart, 10, 30)]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "par_level.set"))
    assert audit.actor_id == browser.user.id
    assert 'value="30"' in browser.get(page).get_data(as_text=True)


def test_viewer_sees_but_cannot_change_par_levels(app):
    """Viewers read the par levels page; posting it is a 403."""
    home = make_facility()
    browser = sign_in(app, "viewer", [home])
    page = f"/stock/par-levels?facility={home.id}"
    assert browser.get(page).status_code == 200
    assert browser.submit(page, {}).status_code == 403


def test_movement_history_pages_newest_first(app, monkeypatch):
    """The ledger page shows the newest movement first and pages back to older ones."""
    from supply_app.web import stock_views

    monkeypatch.setattr(stock_views, "MOVEMENTS_PER_PAGE", 2)
    parts = sync_parts(app)
    home = make_facility()
    for n in range(1, 6):
        stock_lot(home, parts["STT2190-5"], f"LOT-{n}", 5, 125_000, days_to_expiry=400)
    ids = sorted(db.session.scalars(select(StockMovement.id)))
    browser = sign_in(app, "viewer", [home])
    first = browser.get(f"/stock/movements?facility={home.id}").get_data(as_text=True)
    assert first.index("LOT-5") < first.index("LOT-4")
    assert "LOT-3" not in first
    assert f"before={ids[3]}" in first
    older = browser.get(f"/stock/movements?facility={home.id}&before={ids[3]}").get_data(
        as_text=True
    )
    assert "LOT-3" in older
    assert "LOT-2" in older
    assert "LOT-5" not in older
    last = browser.get(f"/stock/movements?facility={home.id}&before={ids[1]}").get_data(
        as_text=True
    )
    assert "LOT-1" in last
    assert "Older movements" not in last
