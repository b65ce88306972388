"""Issue 14, items 4 and 5: errors that help on long forms, and safe defaults."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from supply_app.auth.models import User
from supply_app.cases.models import ProcedureCase
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from tests.e2e.test_journeys import latest, opening_stock
from tests.support.factories import make_order
from tests.support.journeys import seed_world, sign_in, sign_out


def cases() -> int:
    latest()
    return db.session.scalar(select(func.count()).select_from(ProcedureCase))


def test_the_case_form_never_records_by_accident_and_says_what_to_fix(page: Page, fresh_db, shoot):
    """Enter in a text field or on a checkbox records nothing; a case with no supplies must
    say so; the error summary takes focus and links to the field."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "STT2190-5", "HELP-1", 5)
    sign_in(page, world.users["clinician"])
    page.get_by_label("Case reference").fill("HELP-0001")
    page.get_by_label("Case reference").press("Enter")
    box = page.get_by_label("lateral femoral cutaneous nerve (LFCN)", exact=True)
    box.check()
    box.press("Enter")
    page.get_by_label("Date of service").press("Enter")
    page.wait_for_timeout(300)
    assert page.url.endswith("/cases/new")
    assert cases() == 0
    page.get_by_role("button", name="Record and price case").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("This case names no supplies")
    shoot(page, "case-no-supplies")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Scanned supplies")).to_be_focused()
    page.get_by_label("No tips or cartridges were used in this case").check()
    page.get_by_role("button", name="Record and price case").click()
    expect(page.get_by_text("recorded and priced")).to_be_visible()
    assert cases() == 1
    expect(page.locator("main")).not_to_contain_text("[confirmed")
    expect(page.locator("main")).not_to_contain_text("[uncertain")

    # A void with no reason opens its section and says why.
    page.get_by_text("Void this case").click()
    page.get_by_role("button", name="Void case").click()
    expect(page.locator("details").filter(has_text="Void this case")).to_have_attribute("open", "")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("Reason for voiding")
    latest()
    assert db.session.scalar(select(ProcedureCase)).status == "recorded"


def test_a_bilateral_case_names_each_knees_nerves(page: Page, fresh_db):
    """The left knee's own nerves are billed on LT lines beside the right knee's RT lines."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "STT2190-5", "BI-1", 5)
    sign_in(page, world.users["clinician"])
    page.get_by_label("Case reference").fill("BI-0001")
    left = page.locator("#left-knee")
    expect(left).to_be_hidden()
    page.get_by_label("Side").select_option("bilateral")
    expect(left).to_be_visible()
    page.get_by_label("lateral femoral cutaneous nerve (LFCN)", exact=True).check()
    page.get_by_label("anterior femoral cutaneous nerve (AFCN)", exact=True).check()
    left.get_by_text("Bilateral, with other nerves on the left knee").click()
    page.get_by_label("lateral femoral cutaneous nerve (LFCN), left knee").check()
    expect(page.locator("#codes")).to_have_text("64640-RT × 2, 64640-LT × 1")
    page.get_by_label("STT2190-5 eaches").fill("2")
    page.get_by_role("button", name="Record and price case").click()
    expect(page.get_by_text("recorded and priced")).to_be_visible()
    latest()
    case = db.session.scalar(select(ProcedureCase))
    assert sorted((p.laterality, tuple(p.nerves)) for p in case.procedures) == [
        ("LT", ("lfcn",)),
        ("RT", ("lfcn", "afcn")),
    ]


def test_a_bilateral_case_with_the_same_nerves_on_both_knees(page: Page, fresh_db):
    """Both knees, the same two anterior nerves and all three genicular ones, the left-knee
    section left empty as its hint says: the preview and the record agree on 64640-RT and
    -LT lines of two nerves each and one 64624-50 (a -50 line of 64640 cannot hold two)."""
    world = seed_world(fresh_db)
    sign_in(page, world.users["clinician"])
    page.get_by_label("Case reference").fill("BI-SAME")
    page.get_by_label("Side").select_option("bilateral")
    for nerve in (
        "lateral femoral cutaneous nerve (LFCN)",
        "anterior femoral cutaneous nerve (AFCN)",
    ):
        page.get_by_label(nerve, exact=True).check()
    for nerve in ("superolateral", "superomedial", "inferomedial"):
        page.get_by_label(f"{nerve} genicular nerve", exact=True).check()
    expect(page.locator("#codes")).to_have_text("64640-RT × 2, 64640-LT × 2, 64624-50 × 1")
    page.get_by_label("No tips or cartridges were used in this case").check()
    page.get_by_role("button", name="Record and price case").click()
    expect(page.get_by_text("recorded and priced")).to_be_visible()
    latest()
    case = db.session.scalar(select(ProcedureCase).where(ProcedureCase.reference == "BI-SAME"))
    assert sorted((p.code, p.laterality or "", p.units) for p in case.procedures) == [
        ("64624", "50", 1),
        ("64640", "LT", 2),
        ("64640", "RT", 2),
    ]


def test_safe_defaults(page: Page, fresh_db, shoot):
    """No role chosen for a new user (and the confirmation names it); the C9809 box follows
    the facility's setting; no ECAT file before approval."""
    world = seed_world(fresh_db)
    sign_in(page, world.users["admin"])
    page.get_by_role("link", name="Users").click()
    role = page.get_by_label("Role")
    expect(role).to_have_value("")
    page.get_by_label("Username").fill("safe-new")
    page.get_by_label("Initial password").fill("long-enough-pass")
    page.get_by_label(f"{world.home.code} · {world.home.name}").check()
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".error-summary")).to_contain_text("Choose the role")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_label("Initial password").fill("long-enough-pass")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_text("User safe-new created as Viewer")).to_be_visible()
    latest()
    assert db.session.scalar(select(User.role).where(User.username == "safe-new")) == "viewer"

    page.get_by_role("link", name="Facilities").click()
    page.locator(f"#c9809-{world.other.id}").check()
    page.get_by_role("button", name=f"Save the C9809 default of {world.other.code}").click()
    expect(
        page.get_by_text(f"New cases at {world.other.code} start with C9809 ticked")
    ).to_be_visible()
    latest()
    assert db.session.get(Facility, world.other.id).bill_device_by_default
    sign_out(page)

    sign_in(page, world.users["clinician"])
    device = page.get_by_label("Bill the device (C9809)")
    expect(device).not_to_be_checked()
    page.get_by_label("Facility", exact=True).select_option(str(world.other.id))
    expect(device).to_be_checked()
    sign_out(page)

    latest()  # a fresh transaction: the server has written since this one began
    order = make_order(
        world.home, world.users["purchaser"], [(world.parts["CRX2111-10"], 1)], submit=True
    )
    sign_in(page, world.users["purchaser"])
    page.goto(f"/orders/{order.id}")
    expect(page.get_by_role("link", name="Download ECAT CSV")).to_have_count(0)
    expect(page.get_by_text("can be downloaded once the order is approved")).to_be_visible()


def test_on_a_tablet_an_error_brings_the_user_to_it(browser, base_url, fresh_db):
    """At 1024×768, a refused long form scrolls its error summary into view and focuses it."""
    world = seed_world(fresh_db)
    context = browser.new_context(base_url=base_url, viewport={"width": 1024, "height": 768})
    page = context.new_page()
    sign_in(page, world.users["clinician"])
    page.get_by_label("Case reference").fill("TAB-1")
    page.mouse.wheel(0, 2000)
    page.get_by_role("button", name="Record and price case").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("Tick the nerves treated")
    context.close()
