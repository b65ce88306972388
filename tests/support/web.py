"""Sign in through the real login form (CSRF on) and post forms with their CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, g
from flask.testing import FlaskClient

from tests.support.factories import TEST_PASSWORD, make_actor

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def forget_cached_user() -> None:
    """Drop Flask-Login's and Flask-WTF's per-context caches (user, CSRF token).

    The test's app context is shared by every request the test makes, so without this a
    second browser would inherit the first one's signed-in user and CSRF token from `g`.
    """
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


class Browser:
    """A test client signed in as one user, posting forms the way a browser does."""

    def __init__(self, client: FlaskClient, user: Any) -> None:
        self.client = client
        self.user = user

    def get(self, path: str, **kwargs: Any):
        """GET a page."""
        forget_cached_user()
        return self.client.get(path, **kwargs)

    def submit(self, page: str, data: dict[str, Any], action: str | None = None, **kwargs: Any):
        """Load page, take its CSRF token, post data to action (default: the page itself)."""
        html = self.get(page).get_data(as_text=True)
        form = {**data, "csrf_token": csrf_token(html)}
        forget_cached_user()
        return self.client.post(action or page, data=form, **kwargs)


def sign_in(app: Flask, role: str, facilities=(), all_facilities: bool = False) -> Browser:
    """Create a user and sign them in through /login."""
    actor = make_actor(app, role, list(facilities), all_facilities=all_facilities)
    return sign_in_as(app, actor.user)


def sign_in_as(app: Flask, user: Any) -> Browser:
    """Sign an existing user (with the test password) in through /login, in a new browser."""
    client = app.test_client()
    forget_cached_user()
    html = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(html),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return Browser(client, user)
