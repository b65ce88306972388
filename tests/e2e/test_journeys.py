"""One journey per role in Chromium, each checked on the page and in the database."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from supply_app.cases import service as cases
from supply_app.cases.models import ProcedureCase
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.inventory.models import StockBalance, StockCount
from supply_app.ordering.models import PurchaseOrder
from supply_app.reporting.columns import LABELS
from tests.support.journeys import (
    PACK_PRICES,
    add_gtin,
    hri,
    scan_into,
    seed_world,
    sign_in,
    sign_out,
)

TIP_GTIN = "00812345000016"
CART_GTIN = "00812345000023"


def latest() -> None:
    """End the test's read transaction so the next query sees what the server committed.

    SQLite (WAL) and PostgreSQL both read from the snapshot a transaction started with.
    """
    db.session.rollback()


def balance(facility, lot_number: str) -> int:
    """Eaches of a lot at a facility, read fresh from the database."""
    latest()
    rows = db.session.scalars(select(StockBalance).where(StockBalance.facility_id == facility.id))
    return sum(b.on_hand for b in rows if b.lot.lot_number == lot_number)


def opening_stock(world, facility, number: str, lot: str, eaches: int, days: int = 365):
    """Put an opening balance of a lot on a facility's shelf; commit."""
    part = world.parts[number]
    inventory.receive(
        db.session,
        facility=facility,
        part=part,
        lot_number=lot,
        expiry_date=date.today() + timedelta(days=days),
        eaches=eaches,
        value_cents=eaches * PACK_PRICES[number] // part.units_per_pack,
        actor=None,
        reason="opening_balance",
    )
    db.session.commit()


def test_admin_overview_catalog_and_friendly_errors(page: Page, fresh_db, shoot):
    """An admin lands on the overview, reads the catalog, and meets a readable 404."""
    world = seed_world(fresh_db)
    sign_in(page, world.users["admin"])
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.keyboard.press("Tab")  # the first stop is the skip link, then the menu in order
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="supply_app")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Overview")).to_be_focused()
    expect(page.get_by_role("cell", name=world.home.code, exact=True)).to_be_visible()
    shoot(page, "overview-admin")
    page.get_by_role("link", name="Catalog").click()
    expect(page.get_by_role("cell", name="CRX2111-10", exact=True)).to_be_visible()
    expect(page.get_by_text("$1,250.00").first).to_be_visible()
    shoot(page, "catalog")
    page.get_by_role("link", name="Facilities").click()
    expect(page.get_by_role("cell", name=world.other.code, exact=True)).to_be_visible()
    shoot(page, "facilities")
    page.get_by_role("link", name="Fee schedules").click()
    expect(page.get_by_role("heading", name="C9809", exact=True)).to_be_visible()
    shoot(page, "fee-schedules")
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    shoot(page, "error-404")
    sign_out(page)


def test_purchaser_suggestions_order_approval_and_scanned_receipt(page: Page, fresh_db, shoot):
    """Suggestions → draft → submit; a second purchaser approves; materials receive by scan."""
    world = seed_world(fresh_db)
    cartridges = world.parts["CRX2111-10"]
    add_gtin(cartridges, CART_GTIN, 10)
    inventory.set_par_levels(
        db.session,
        facility=world.home,
        levels=[{"part_id": cartridges.id, "min_eaches": 10, "max_eaches": 25}],
        actor=None,
    )
    db.session.commit()

    sign_in(page, world.users["purchaser"])
    expect(page.get_by_role("heading", name="Reorder suggestions")).to_be_visible()
    page.get_by_label("Facility").select_option(str(world.home.id))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("3 PK", exact=True)).to_be_visible()
    shoot(page, "orders-suggestions")
    page.get_by_label("Fund code").fill("AA")
    page.get_by_role("button", name="Create draft from suggestions").click()
    expect(page.get_by_text("created from the reorder suggestions")).to_be_visible()
    shoot(page, "order-draft")
    page.get_by_role("button", name="Submit order").click()
    expect(page.get_by_text("Order submitted")).to_be_visible()
    expect(page.get_by_text("Waiting for approval by another purchaser")).to_be_visible()
    order_url = page.url
    sign_out(page)

    latest()
    order = db.session.scalar(select(PurchaseOrder))
    assert order.status == "submitted"
    assert [(line.part_id, line.packs) for line in order.lines] == [(cartridges.id, 3)]
    assert order.document_number.startswith(world.home.dodaac)

    sign_in(page, world.users["purchaser2"])
    page.goto(order_url)
    page.get_by_role("button", name="Approve order").click()
    expect(page.get_by_text("Order approved")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download ECAT CSV").click()
    csv_text = download.value.path().read_text(encoding="utf-8")
    assert "CRX2111-10" in csv_text
    assert order.document_number in csv_text
    sign_out(page)

    sign_in(page, world.users["materials"])
    page.goto(order_url)
    expiry = date.today() + timedelta(days=400)
    scan_into(page, "Scan barcode", "scan", hri(CART_GTIN, "E2E-CART-1", expiry))
    expect(page.get_by_label("Lot number of CRX2111-10")).to_have_value("E2E-CART-1")
    expect(page.get_by_label("Expiry date of CRX2111-10")).to_have_value(expiry.isoformat())
    page.get_by_label("Packs received of CRX2111-10").fill("3")
    shoot(page, "order-receive")
    page.get_by_role("button", name="Receive into stock").click()
    expect(page.get_by_text("Received into stock: 3 × CRX2111-10 lot E2E-CART-1")).to_be_visible()
    expect(page.get_by_text("received", exact=True).first).to_be_visible()
    shoot(page, "order-received")

    latest()
    assert db.session.get(PurchaseOrder, order.id).status == "received"
    assert balance(world.home, "E2E-CART-1") == 30
    assert db.session.get(PurchaseOrder, order.id).approved_by_id == world.users["purchaser2"].id


def test_materials_count_with_difference_and_transfer(page: Page, fresh_db, shoot):
    """Materials manager lands on alerts, counts a lot short, then transfers some away."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "STT2190-5", "TIP-COUNT", 10)
    opening_stock(world, world.home, "STT2309-5", "TIP-SOON", 5, days=20)

    sign_in(page, world.users["materials"])
    expect(page.get_by_role("heading", name="Stock alerts")).to_be_visible()
    page.get_by_label("Facility").select_option(str(world.home.id))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("cell", name="TIP-SOON", exact=True)).to_be_visible()
    shoot(page, "stock-alerts")

    page.get_by_role("link", name="Count a lot").click()
    page.get_by_label("Facility").select_option(str(world.home.id))
    page.get_by_label("Part", exact=True).select_option(str(world.parts["STT2190-5"].id))
    page.get_by_label("Lot number").fill("TIP-COUNT")
    page.get_by_label("Packs").fill("1")
    page.get_by_label("Loose eaches").fill("3")
    shoot(page, "stock-count")
    page.get_by_role("button", name="Count a lot").click()
    expect(page.get_by_text("books said 10")).to_be_visible()
    expect(page.get_by_text("difference -2 eaches")).to_be_visible()
    shoot(page, "stock-balances")
    latest()
    count = db.session.scalar(select(StockCount))
    assert (count.counted, count.previous_on_hand) == (8, 10)
    assert balance(world.home, "TIP-COUNT") == 8

    page.get_by_role("link", name="Transfer", exact=True).click()
    page.get_by_label("Facility", exact=True).select_option(str(world.home.id))
    page.get_by_label("To facility").select_option(str(world.other.id))
    page.get_by_label("Part", exact=True).select_option(str(world.parts["STT2190-5"].id))
    page.get_by_label("Lot number").fill("TIP-COUNT")
    page.get_by_label("Packs").fill("5")  # more than the 8 on hand: refused, input kept
    page.get_by_role("button", name="Transfer stock").click()
    expect(page.get_by_role("alert").first).to_contain_text("8")
    expect(page.get_by_label("Lot number")).to_have_value("TIP-COUNT")
    shoot(page, "stock-transfer-error")
    page.get_by_label("Packs").fill("1")
    page.get_by_label("Loose eaches").fill("0")
    page.get_by_role("button", name="Transfer stock").click()
    expect(page.get_by_text("Transfer posted")).to_be_visible()
    assert balance(world.home, "TIP-COUNT") == 3
    assert balance(world.other, "TIP-COUNT") == 5
    page.get_by_role("link", name="Movement history").click()
    expect(page.get_by_role("cell", name="transfer out", exact=True)).to_be_visible()
    shoot(page, "stock-movements")


def test_clinician_records_case_by_scanning_a_tip(page: Page, fresh_db, shoot):
    """The clinician lands on the case form, scans a tip and sees the priced result."""
    world = seed_world(fresh_db)
    tips = world.parts["STT2190-5"]
    add_gtin(tips, TIP_GTIN, 1)
    opening_stock(world, world.home, "STT2190-5", "TIP-SCAN", 5)
    expiry = date.today() + timedelta(days=365)

    sign_in(page, world.users["clinician"])
    expect(page.get_by_role("heading", name="Record a case")).to_be_visible()
    page.get_by_label("Facility", exact=True).select_option(str(world.home.id))
    page.get_by_label("Case reference").fill("E2E-0001")
    page.get_by_label("Side").select_option("LT")
    page.get_by_label("lateral femoral cutaneous nerve (LFCN)", exact=True).check()
    page.get_by_label("anterior femoral cutaneous nerve (AFCN)", exact=True).check()
    page.get_by_label("superolateral genicular nerve", exact=True).check()
    expect(page.locator("#codes")).to_contain_text("64640 × 2")
    scans = page.get_by_label("Scanned supplies")
    scans.fill(hri(TIP_GTIN, "TIP-SCAN", expiry))
    scans.press("Enter")
    shoot(page, "case-form")
    page.get_by_role("button", name="Record and price case").click()
    expect(page.get_by_text("recorded and priced")).to_be_visible()
    expect(page.get_by_role("heading", name="How it was priced")).to_be_visible()
    expect(page.get_by_role("cell", name="TIP-SCAN", exact=True)).to_be_visible()
    shoot(page, "case-priced")

    latest()
    case = db.session.scalar(select(ProcedureCase))
    assert case.reference == "E2E-0001"
    assert case.laterality == "LT"
    assert "64640x2" in case.code_mix
    assert "64624-52x1" in case.code_mix  # one genicular nerve of three
    assert [(s.eaches, s.source) for s in case.supplies] == [(1, "scan")]
    assert balance(world.home, "TIP-SCAN") == 4
    expect(page.get_by_text(f"${case.reimbursement_cents // 100:,}").first).to_be_visible()


def test_finance_filters_margin_and_downloads_xlsx(page: Page, fresh_db, shoot):
    """Finance filters the margin report to HOPD and reads the XLSX back with openpyxl."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "CRX2111-10", "CART-H", 10)
    opening_stock(world, world.other, "CRX2111-10", "CART-A", 10)
    recorded = ((world.home, "H-1", 2), (world.home, "H-2", 1), (world.other, "A-1", 1))
    for facility, reference, eaches in recorded:
        cases.record_case(
            db.session,
            user=world.users["admin"],
            data={
                "facility_id": facility.id,
                "date_of_service": date.today(),
                "reference": reference,
                "laterality": "RT",
                "procedures": [{"code": "64640", "nerves": ["lfcn", "mfcn", "afcn"]}],
                "supplies": [{"part_id": world.parts["CRX2111-10"].id, "eaches": eaches}],
            },
        )
    db.session.commit()
    hopd_cases = db.session.scalars(
        select(ProcedureCase).where(ProcedureCase.facility_id == world.home.id)
    ).all()

    sign_in(page, world.users["finance"])
    expect(page.get_by_role("heading", name="Per-case margin")).to_be_visible()
    expect(page.get_by_role("link", name="A-1")).to_be_visible()
    page.get_by_label("Site of service", exact=True).select_option("HOPD")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("link", name="A-1")).to_have_count(0)
    expect(page.get_by_text("Total (2 cases; 2 billed)")).to_be_visible()
    shoot(page, "margin-report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    data = download.value.path().read_bytes()
    rows = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    names = {label: name for name, label in LABELS.items()}  # the sheet's headers are in words
    header = [names[label] for label in rows[0]]
    body, total = rows[1:-1], dict(zip(header, rows[-1], strict=True))
    assert sorted(dict(zip(header, r, strict=True))["reference"] for r in body) == ["H-1", "H-2"]
    assert total["case_id"] == "TOTAL"
    assert float(total["supply_cost"]) == 90.00  # three cartridges at $30.00
    assert round(float(total["medicare_benchmark"]) * 100) == sum(
        c.reimbursement_cents for c in hopd_cases
    )
    page.get_by_label("Group by", exact=True).select_option("month")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("figure.chart svg")).to_have_count(4)
    shoot(page, "margin-by-month")
