"""UI sessions: one revocable record per sign-in, ended by sign-out; no remember-me cookie."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from supply_app.auth.models import AuditEvent, UserSession
from supply_app.clock import utcnow
from supply_app.extensions import db
from tests.conftest import make_test_app
from tests.support.factories import TEST_PASSWORD, make_actor, make_facility
from tests.support.web import Browser, csrf_token, forget_cached_user, sign_in, sign_in_as

SESSION_COOKIE = "session"


def copy_of(app: Flask, browser: Browser) -> Browser:
    """Another client holding a copy of the browser's session cookie (a stolen cookie)."""
    thief = app.test_client()
    cookie = browser.client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    thief.set_cookie(SESSION_COOKIE, cookie.value)
    return Browser(thief, browser.user)


def sign_out(browser: Browser):
    """Press Sign out (the form in the page header)."""
    return browser.submit("/catalog", {}, action="/logout")


def signed_in(browser: Browser) -> bool:
    """True when the browser still opens a page instead of being sent to sign in."""
    return browser.get("/catalog").status_code == 200


def test_sign_out_ends_a_copied_session_cookie(app):
    """After sign-out the cookie copied before it opens nothing, on the server's word."""
    browser = sign_in(app, "viewer", [make_facility()])
    thief = copy_of(app, browser)
    assert signed_in(thief)
    assert sign_out(browser).status_code == 302
    assert not signed_in(browser)
    assert not signed_in(thief)
    assert "/login" in thief.get("/overview").headers["Location"]


def test_sign_out_leaves_the_users_other_browsers_signed_in(app):
    """Each sign-in is its own session: ending one ends no other."""
    laptop = sign_in(app, "viewer", [make_facility()])
    phone = sign_in_as(app, laptop.user)
    assert sign_out(laptop).status_code == 302
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_each_sign_in_is_a_new_session_and_both_are_audited(app):
    """Two sign-ins are two records; sign-in and sign-out are in the audit trail."""
    laptop = sign_in(app, "viewer", [make_facility()])
    sign_in_as(app, laptop.user)
    sessions = db.session.scalars(
        select(UserSession).where(UserSession.user_id == laptop.user.id)
    ).all()
    assert len(sessions) == 2
    assert len({s.token_hash for s in sessions}) == 2
    sign_out(laptop)
    db.session.expire_all()
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.actor_id == laptop.user.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [a for a in actions if a.startswith("session.")] == [
        "session.start",
        "session.start",
        "session.end",
    ]
    sign_in_as(app, laptop.user)  # the ended record is cleared away; the audit keeps it
    db.session.expire_all()
    left = db.session.scalars(
        select(UserSession.ended_at).where(UserSession.user_id == laptop.user.id)
    ).all()
    assert left == [None, None]


def test_a_session_ends_when_its_lifetime_runs_out(app):
    """A sign-in lasts SESSION_HOURS at most, whatever the browser keeps."""
    browser = sign_in(app, "viewer", [make_facility()])
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == browser.user.id))
    assert timedelta(hours=11) < row.expires_at - utcnow() <= timedelta(hours=12)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not signed_in(browser)


def test_a_session_ends_after_its_idle_minutes(app):
    """Fifteen minutes without a request end a sign-in (the page says why); a request within
    them keeps it going and moves the clock on. The time sits in the signed cookie, so a
    browser cannot move it and a copy of an idle cookie stays idle."""
    import time

    from supply_app.auth.sessions import LAST_SEEN

    browser = sign_in(app, "viewer", [make_facility()])
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with browser.client.session_transaction() as cookie:
        cookie[LAST_SEEN] = int(time.time()) - idle + 60  # a minute left
    assert signed_in(browser)
    with browser.client.session_transaction() as cookie:
        assert int(time.time()) - cookie[LAST_SEEN] < 5  # the request moved the clock on
        cookie[LAST_SEEN] = int(time.time()) - idle - 1
    forget_cached_user()
    page = browser.client.get("/stock", follow_redirects=True).get_data(as_text=True)
    assert "signed out after 15 minutes without activity" in page
    assert not signed_in(browser)


def test_no_remember_me_cookie_and_a_browser_session_cookie(app):
    """Sign-in sets one HttpOnly, SameSite=Lax session cookie that dies with the browser."""
    actor = make_actor(app, "viewer", [make_facility()])
    client = app.test_client()
    forget_cached_user()
    html = client.get("/login").get_data(as_text=True)
    assert "remember" not in html.lower()
    response = client.post(
        "/login",
        data={
            "username": actor.user.username,
            "password": TEST_PASSWORD,
            "remember": "y",
            "csrf_token": csrf_token(html),
        },
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert [c.split("=", 1)[0] for c in cookies] == [SESSION_COOKIE]
    flags = [part.strip().lower() for part in cookies[0].split(";")]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert not [f for f in flags if f.startswith(("expires", "max-age"))]
    assert "secure" not in flags  # plain HTTP in development; production: see below


def test_production_cookies_are_secure(database_factory):
    """Outside development the session cookie is sent over HTTPS only."""
    app = make_test_app(database_factory("prodcookie"), ENV_NAME="production", SECRET_KEY="x" * 48)
    response = app.test_client().get("/login")
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_rotating_the_secret_key_as_the_readme_says(app):
    """New key with the old one as a fallback: signed-in browsers stay signed in; new key
    alone: every session cookie is refused (what to do when the old key leaked)."""
    browser = sign_in(app, "viewer", [make_facility()])
    cookie = browser.client.get_cookie(SESSION_COOKIE).value
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    old = app.config["SECRET_KEY"]
    rotated = make_test_app(url, SECRET_KEY="a-new-secret-key", SECRET_KEY_FALLBACKS=[old])
    replaced = make_test_app(url, SECRET_KEY="a-new-secret-key")
    try:
        for other, still_in in ((rotated, True), (replaced, False)):
            client = other.test_client()
            client.set_cookie(SESSION_COOKIE, cookie)
            with other.app_context():
                assert (client.get("/catalog").status_code == 200) is still_in
    finally:
        for other in (rotated, replaced):
            with other.app_context():
                db.engine.dispose()
