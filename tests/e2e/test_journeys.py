"""One journey per role in Chromium, each checked on the page and in the database."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.journeys import seed_world, sign_in, sign_out


def test_admin_overview_catalog_and_friendly_errors(page: Page, fresh_db, shoot):
    """An admin lands on the overview, reads the catalog, and meets a readable 404."""
    world = seed_world(fresh_db)
    sign_in(page, world.users["admin"])
    expect(page).to_have_url(f"{page.url.split('/overview')[0]}/overview")
    expect(page.get_by_role("cell", name=world.home.code)).to_be_visible()
    shoot(page, "overview-admin")
    page.get_by_role("link", name="Catalog").click()
    expect(page.get_by_role("cell", name="CRX2111-10")).to_be_visible()
    expect(page.get_by_text("$1,250.00").first).to_be_visible()
    shoot(page, "catalog")
    page.get_by_role("link", name="Facilities").click()
    expect(page.get_by_role("cell", name=world.other.code)).to_be_visible()
    shoot(page, "facilities")
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    shoot(page, "error-404")
    sign_out(page)
