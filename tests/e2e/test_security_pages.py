"""In Chromium: the API docs under the content policy, and what sign-out leaves behind."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.support.journeys import seed_world, sign_in, sign_out


def test_api_docs_work_under_the_content_policy(page: Page, fresh_db):
    """Swagger UI renders every operation and tries one out, with no policy refusals."""
    page.goto("/api/docs")
    health = page.locator(".opblock").filter(has_text="/api/v1/health")
    expect(health).to_be_visible()
    assert page.locator(".opblock").count() > 50
    health.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status")
    expect(status.first).to_have_text("200")


def test_after_sign_out_back_and_a_copied_cookie_show_nothing(
    page: Page, browser: Browser, base_url: str, fresh_db
):
    """Back after sign-out does not show the page from a cache, and the session cookie
    copied into another browser before sign-out opens nothing afterwards."""
    world = seed_world(fresh_db)
    sign_in(page, world.users["viewer"])
    page.goto("/catalog")
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    thief = browser.new_context(base_url=base_url)
    thief.add_cookies(page.context.cookies())
    stolen = thief.new_page()
    stolen.goto("/catalog")
    expect(stolen.get_by_role("heading", name="Catalog")).to_be_visible()
    sign_out(page)
    page.go_back()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    stolen.goto("/catalog")
    expect(stolen.get_by_role("heading", name="Sign in")).to_be_visible()
    thief.close()
