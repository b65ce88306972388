"""Issue 14, items 2 and 8: the facility follows the user; users look after themselves."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from supply_app.auth.models import AuditEvent, User
from supply_app.extensions import db
from supply_app.ordering.models import PurchaseOrder
from tests.e2e.test_journeys import latest
from tests.support.factories import TEST_PASSWORD, make_order
from tests.support.journeys import seed_world, sign_in, sign_out


def _submitted(world, facility, user):
    return make_order(facility, user, [(world.parts["CRX2111-10"], 2)], submit=True)


def test_the_facility_follows_the_purchaser_and_their_approvals_wait_on_landing(
    page: Page, fresh_db, shoot
):
    """Orders awaiting approval at both facilities on the landing page; one click switches the
    facility, and every menu page and form then works in it."""
    world = seed_world(fresh_db)
    orders = [_submitted(world, f, world.users["purchaser2"]) for f in (world.home, world.other)]

    sign_in(page, world.users["purchaser"])
    waiting = page.get_by_role("region", name="Needs your attention today")
    expect(waiting).to_contain_text("Orders awaiting your approval (2)")
    for order in orders:
        expect(waiting).to_contain_text(order.document_number)
    header = page.locator(".facility-bar")
    expect(header).to_contain_text(f"Working in {world.home.code}")
    shoot(page, "facility-landing")
    header.get_by_role("button", name=world.other.code).click()
    expect(page.get_by_text(f"Now working in {world.other.code}")).to_be_visible()
    expect(header).to_contain_text(f"Working in {world.other.code}")
    for link, heading in (
        ("Orders", f"Orders for {world.other.code}"),
        ("Stock", f"Stock at {world.other.code}"),
        ("Alerts", f"Stock alerts at {world.other.code}"),
    ):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.goto("/orders/new")
    expect(page.get_by_label("Facility", exact=True)).to_have_value(str(world.other.id))

    page.goto("/orders")
    waiting.get_by_role("link", name="Review and approve").first.click()
    page.get_by_role("button", name="Approve order").click()
    expect(page.get_by_text("Order approved")).to_be_visible()
    latest()
    approved = db.session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.status == "approved")
    ).all()
    assert [o.approved_by_id for o in approved] == [world.users["purchaser"].id]


def test_users_choose_their_default_facility_and_change_their_password(page: Page, fresh_db, shoot):
    """The account page: a default facility that starts the next sign-in, and a new password
    (the old one then fails); the admin's user list names each user's facilities."""
    world = seed_world(fresh_db)
    clinician = world.users["clinician"]
    sign_in(page, clinician)
    page.get_by_role("link", name=f"{clinician.display_name} (clinician)").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_label("Start each sign-in at").select_option(str(world.other.id))
    page.get_by_role("button", name="Save default facility").click()
    expect(page.get_by_text("Your default facility is saved")).to_be_visible()
    page.get_by_label("Current password").fill("wrong-password")
    page.get_by_label("New password", exact=True).fill("a-brand-new-pass")
    page.get_by_label("New password again").fill("a-brand-new-pass")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("current password is not right")
    page.get_by_label("Current password").fill(TEST_PASSWORD)
    page.get_by_label("New password", exact=True).fill("a-brand-new-pass")
    page.get_by_label("New password again").fill("a-brand-new-pass")
    shoot(page, "account")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    sign_out(page)

    page.get_by_label("Username").fill(clinician.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_text("Username or password is wrong")).to_be_visible()
    sign_in(page, clinician, "a-brand-new-pass")
    expect(page.locator(".facility-bar")).to_contain_text(f"Working in {world.other.code}")
    expect(page.get_by_label("Facility", exact=True)).to_have_value(str(world.other.id))
    latest()
    assert db.session.get(User, clinician.id).default_facility_id == world.other.id
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.default_facility", "user.password_change"} <= actions
    sign_out(page)

    sign_in(page, world.users["admin"])
    page.get_by_role("link", name="Users").click()
    row = page.get_by_role("row").filter(has_text=clinician.username)
    expect(row).to_contain_text(f"{world.home.code} {world.other.code}")
    shoot(page, "users-facilities")
