"""Every menu page opens for every demo user in Chromium, with the demo data loaded."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from supply_app.auth.models import User
from supply_app.demo import DEMO_USERS, demo_password, load_demo
from supply_app.extensions import db
from tests.support.journeys import sign_in, sign_out


def test_every_page_opens_for_every_demo_user(page: Page, fresh_db, shoot):
    """Sign in as each demo user, follow each menu link, and find a real page each time."""
    load_demo(db.session)
    db.session.commit()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    for username, role, _everywhere in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        sign_in(page, user, demo_password(username))
        shoot(page, f"demo-{username}-landing")
        links = page.get_by_role("navigation", name="Main").get_by_role("link")
        targets = [
            (links.nth(i).inner_text(), links.nth(i).get_attribute("href"))
            for i in range(links.count())
        ]
        assert targets, role
        for label, href in targets:
            response = page.goto(href)
            assert response is not None
            if response.status != 200:
                problems.append(f"{username} {href}: HTTP {response.status}")
            expect(page.locator("h1")).to_be_visible()
            assert "Traceback" not in page.content()
            if username in ("admin", "purchaser", "materials", "clinician", "finance"):
                shoot(page, f"demo-{username}-{label.lower().replace(' ', '-')}")
        sign_out(page)
    assert problems == []
