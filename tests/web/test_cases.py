"""Case pages: record at the point of use (scan or pick list), priced result, void."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from supply_app.cases.models import ProcedureCase
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.inventory.models import StockMovement
from tests.support.factories import make_facility, sync_parts
from tests.support.web import sign_in
from tests.support.web_seed import TEST_GTIN, give_gtin, gs1_hri, stock_lot


def case_form(facility, parts, **changes):
    """A valid case: right knee, two anterior nerves, no supplies yet."""
    data = {
        "facility_id": facility.id,
        "date_of_service": date.today().isoformat(),
        "reference": "CASE-001",
        "laterality": "RT",
        "anterior": ["lfcn", "afcn"],
        "scans": "",
        **{f"pick_{p.id}": 0 for p in parts.values() if p.category != "handpiece_system"},
    }
    data.update(changes)
    used = data["scans"] or any(v for k, v in data.items() if k.startswith("pick_"))
    if not used:
        data.setdefault("no_supplies", "y")  # the form asks to confirm a case without any
    return data


def counts() -> tuple[int, int]:
    """Cases and stock movements in the database."""
    return (
        db.session.scalar(select(func.count()).select_from(ProcedureCase)),
        db.session.scalar(select(func.count()).select_from(StockMovement)),
    )


def test_record_case_by_scan_and_pick_list_shows_priced_result(app):
    """A scanned tip and a FEFO cartridge are consumed; the page shows price and explanation."""
    parts = sync_parts(app)
    give_gtin(parts["STT2190-5"])
    home = make_facility("HOPD")
    stock_lot(home, parts["STT2190-5"], "TIP-1", 5, 125_000)
    stock_lot(home, parts["CRX2111-10"], "CART-1", 10, 30_000)
    clinician = sign_in(app, "clinician", [home])
    label = gs1_hri(TEST_GTIN, "TIP-1", date.today() + timedelta(days=365))
    response = clinician.submit(
        "/cases/new",
        case_form(home, parts, scans=label, **{f"pick_{parts['CRX2111-10'].id}": 1}),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = clinician.get(response.headers["Location"]).get_data(as_text=True)
    assert "64640x2" in page
    assert "Medicare national benchmark" in page
    assert "How it was priced" in page
    assert "lateral femoral cutaneous nerve" in page
    assert "$280.00" in page  # supply cost: one tip $250.00 + one cartridge $30.00
    on_hand = inventory.on_hand_by_part(db.session, home.id)
    assert on_hand[parts["STT2190-5"].id] == 4
    assert on_hand[parts["CRX2111-10"].id] == 9


def test_no_nerves_is_an_error_on_the_nerves(app):
    """A case with nothing treated is refused next to the nerve list; input kept."""
    parts = sync_parts(app)
    home = make_facility()
    clinician = sign_in(app, "clinician", [home])
    before = counts()
    response = clinician.submit(
        "/cases/new", case_form(home, parts, anterior=[], reference="KEEP-ME")
    )
    html = response.get_data(as_text=True)
    assert "Tick the nerves treated" in html
    assert 'value="KEEP-ME"' in html
    assert counts() == before


def test_short_stock_rejects_whole_case(app):
    """Picking more than is on hand writes no case and no movement."""
    parts = sync_parts(app)
    home = make_facility()
    stock_lot(home, parts["CRX2111-10"], "CART-1", 2, 6_000)
    clinician = sign_in(app, "clinician", [home])
    before = counts()
    response = clinician.submit(
        "/cases/new", case_form(home, parts, **{f"pick_{parts['CRX2111-10'].id}": 3})
    )
    html = response.get_data(as_text=True)
    assert "2 usable eaches (unexpired, not on hold) on hand at" in html
    assert counts() == before


def test_void_returns_supplies(app):
    """Voiding puts the supplies back and marks the case voided."""
    parts = sync_parts(app)
    home = make_facility()
    stock_lot(home, parts["CRX2111-10"], "CART-1", 10, 30_000)
    clinician = sign_in(app, "clinician", [home])
    response = clinician.submit(
        "/cases/new", case_form(home, parts, **{f"pick_{parts['CRX2111-10'].id}": 2})
    )
    case_url = response.headers["Location"]
    voided = clinician.submit(case_url, {"reason": "wrong patient side"}, action=f"{case_url}/void")
    assert voided.status_code == 302
    assert "voided" in clinician.get(case_url).get_data(as_text=True)
    assert inventory.on_hand_by_part(db.session, home.id)[parts["CRX2111-10"].id] == 10


def test_viewer_cannot_record_and_other_facility_case_is_404(app):
    """Viewers get 403 on the case form; another facility's case is 404."""
    parts = sync_parts(app)
    home, other = make_facility(), make_facility()
    clinician = sign_in(app, "clinician", [home])
    response = clinician.submit("/cases/new", case_form(home, parts))
    assert response.status_code == 302
    assert sign_in(app, "viewer", [home]).get("/cases/new").status_code == 403
    outsider = sign_in(app, "clinician", [other])
    assert outsider.get(response.headers["Location"]).status_code == 404


def test_lot_trace_lists_holders_and_cases_of_my_facilities(app):
    """The lot page names who holds the lot and which case used it; outsiders get 404."""
    parts = sync_parts(app)
    home, other = make_facility(), make_facility()
    stock_lot(home, parts["CRX2111-10"], "TRACE-1", 10, 30_000)
    clinician = sign_in(app, "clinician", [home])
    response = clinician.submit(
        "/cases/new", case_form(home, parts, **{f"pick_{parts['CRX2111-10'].id}": 2})
    )
    assert response.status_code == 302
    lot = inventory.find_lot(db.session, part=parts["CRX2111-10"], lot_number="TRACE-1")
    html = clinician.get(f"/lots/{lot.id}").get_data(as_text=True)
    assert "8 EA" in html
    assert "CASE-001" in html
    assert sign_in(app, "clinician", [other]).get(f"/lots/{lot.id}").status_code == 404


def test_case_list_filters_by_a_known_status_and_ignores_an_unknown_one(app):
    """?status=voided lists only voided cases; a status that does not exist lists them all."""
    parts = sync_parts(app)
    home = make_facility()
    clinician = sign_in(app, "clinician", [home])
    kept = clinician.submit("/cases/new", case_form(home, parts, reference="KEPT-1"))
    voided = clinician.submit("/cases/new", case_form(home, parts, reference="VOID-1"))
    assert kept.status_code == voided.status_code == 302
    case_url = voided.headers["Location"]
    clinician.submit(case_url, {"reason": "entered twice"}, action=f"{case_url}/void")

    def listed(query: str) -> set[str]:
        page = clinician.get(f"/cases?facility={home.id}{query}").get_data(as_text=True)
        return {ref for ref in ("KEPT-1", "VOID-1") if ref in page}

    assert listed("&status=voided") == {"VOID-1"}
    assert listed("&status=recorded") == {"KEPT-1"}
    assert listed("&status=lost") == {"KEPT-1", "VOID-1"}
    assert listed("") == {"KEPT-1", "VOID-1"}
