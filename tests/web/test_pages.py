"""Sign-in, landing pages per role, catalog, facilities and the friendly error pages."""

from __future__ import annotations

import re

import pytest

from tests.support.factories import make_facility, price_part, sync_parts
from tests.support.web import csrf_token, sign_in


def test_login_page_has_labels_and_csrf(client):
    """The sign-in form labels every input and carries a CSRF token."""
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="username">' in html
    assert '<label for="password">' in html
    assert csrf_token(html)


def test_login_without_csrf_is_refused(app, client):
    """A sign-in post without the CSRF token is a 400 and signs nobody in."""
    response = client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_wrong_password_keeps_username_and_shows_error(app, client):
    """A wrong password re-renders the form with the message beside it and the name kept."""
    html = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": "nobody-here", "password": "nope", "csrf_token": csrf_token(html)},
    )
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert 'value="nobody-here"' in page
    assert "Username or password is wrong" in page


def test_anonymous_is_sent_to_login(client):
    """Pages need a session; the login page remembers where you were going."""
    response = client.get("/catalog")
    assert response.status_code == 302
    assert "/login?next=%2Fcatalog" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("admin", "/overview"),
        ("viewer", "/overview"),
        ("purchaser", "/orders"),
        ("materials", "/stock/alerts"),
        ("clinician", "/cases/new"),
        ("finance", "/reports/margin"),
    ],
)
def test_role_lands_on_its_page(app, role, landing):
    """After sign-in the start page redirects each role to what it needs first."""
    sync_parts(app)
    facility = make_facility()
    browser = sign_in(app, role, [facility], all_facilities=role in ("admin", "finance"))
    response = browser.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(landing)
    assert browser.get(landing).status_code == 200


def test_catalog_shows_pack_sizes_and_current_price(app):
    """Parts appear with eaches per pack, unit of issue and the price in effect today."""
    parts = sync_parts(app)
    price_part(parts["STT2190-5"], 125_000)
    browser = sign_in(app, "viewer", [make_facility()])
    html = browser.get("/catalog").get_data(as_text=True)
    assert "STT2190-5" in html
    assert "$1,250.00" in html
    assert "$250.00" in html  # per each of a 5-pack
    assert "no price in effect" in html  # the other parts are unpriced here
    assert "CRX2111-10" in html


def test_facilities_page_lists_only_mine(app):
    """A member sees their facility and not another one."""
    mine, other = make_facility(), make_facility()
    browser = sign_in(app, "materials", [mine])
    html = browser.get("/facilities").get_data(as_text=True)
    assert mine.code in html
    assert other.code not in html


def test_unknown_page_is_friendly_404(app):
    """An unknown URL answers a readable 404 page, never a stack trace."""
    browser = sign_in(app, "viewer", [make_facility()])
    response = browser.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "We could not find that page" in page
    assert "Traceback" not in page


def test_sign_out_needs_csrf_and_ends_session(app):
    """Signing out is a CSRF-protected POST; afterwards pages redirect to login."""
    browser = sign_in(app, "viewer", [make_facility()])
    assert browser.client.post("/logout").status_code == 400
    assert browser.submit("/overview", {}, action="/logout").status_code == 302
    assert browser.get("/overview").status_code == 302


ROLES = ["admin", "purchaser", "materials", "clinician", "finance", "viewer"]


@pytest.mark.parametrize("role", ROLES)
def test_every_nav_page_opens_for_its_role(app, role):
    """Each link in a role's menu opens (200) with that role, with no data at all."""
    sync_parts(app)
    browser = sign_in(app, role, [make_facility()], all_facilities=role in ("admin", "finance"))
    html = browser.get("/overview").get_data(as_text=True)
    links = re.findall(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)[0]
    hrefs = re.findall(r'href="([^"]+)"', links)
    assert hrefs
    for href in hrefs:
        assert browser.get(href).status_code == 200, href


def test_unexpected_error_is_a_friendly_500_without_trace(tmp_path):
    """Outside test mode an unhandled error renders the error page, never a stack trace."""
    from supply_app import create_app

    prod_like = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3",
            "SECRET_KEY": "another-test-secret",
            "LOG_LEVEL": "CRITICAL",
        }
    )

    @prod_like.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = prod_like.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "secret internals" not in page
    assert "Traceback" not in page
