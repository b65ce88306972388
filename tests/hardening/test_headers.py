"""Security headers on every response: every UI page and every API operation.

Pages are enumerated from the URL map and operations from the published spec, so a page or
an endpoint added later is checked without touching this file. Every HTML page is also read
for inline script or style (which the content policy would block, and which is how injected
markup would run), including style attributes and inline event handlers.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.routing import AnyConverter

from supply_app.demo import demo_password
from supply_app.extensions import db
from tests.conftest import make_test_app
from tests.hardening.test_access import resolve_path
from tests.support.spec import operations
from tests.support.web import Browser, csrf_token, forget_cached_user

# A value for each UI path parameter: a row of the seeded data, or a literal.
UI_VALUES: dict[str, str | int] = {
    "case_id": "SELECT min(id) FROM procedure_case",
    "order_id": "SELECT min(id) FROM purchase_order",
    "line_id": "SELECT min(id) FROM purchase_order_line",
    "lot_id": "SELECT min(lot_id) FROM stock_balance",
    "user_id": "SELECT min(id) FROM app_user",
    "recall_id": "SELECT min(id) FROM recall",
    "return_id": "SELECT min(id) FROM vendor_return",
    "movement_id": "SELECT min(id) FROM stock_movement WHERE kind = 'receipt'",
    "link_id": "SELECT min(id) FROM part_gtin",
    "facility_id": "SELECT min(id) FROM facility",
    "payer_id": "SELECT min(id) FROM payer",
}
STATIC_FILES = {"web.static": "app.css", "swagger_ui_asset": "swagger-ui.css", "static": "x.css"}


def directives(policy: str) -> dict[str, str]:
    """A Content-Security-Policy as {directive: sources}."""
    found = {}
    for part in policy.split(";"):
        name, _, sources = part.strip().partition(" ")
        found[name] = sources.strip()
    return found


def assert_security_headers(response: Any, where: str, *, production: bool = False) -> None:
    """The headers every response carries, whatever its status or type."""
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    parsed = directives(policy)
    assert parsed.get("frame-ancestors") == "'none'", (where, policy)
    assert "default-src" in parsed, (where, policy)
    assert "unsafe-inline" not in policy, (where, policy)
    assert "unsafe-eval" not in policy, (where, policy)
    if response.mimetype == "text/html":
        assert parsed["script-src"] == "'self'", where
        assert parsed["style-src"] == "'self'", where
        assert parsed["object-src"] == "'none'", where
    else:
        assert parsed["default-src"] == "'none'", (where, response.mimetype)
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    assert headers.get("Cache-Control"), where
    if production:
        assert headers.get("Strict-Transport-Security", "").startswith("max-age=31536000"), where
    else:
        assert "Strict-Transport-Security" not in headers, where


class InlineCode(HTMLParser):
    """Collects what a strict content policy would block: inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note <style>, scripts without src, style="" and on*="" attributes."""
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        self.found += [f"<{tag} {name}=>" for name in names if name == "style"]
        self.found += [f"<{tag} {name}=>" for name in names if name.startswith("on")]
        for name, value in attrs:
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:>")


def inline_code(html: str) -> list[str]:
    """Inline scripts, styles and handlers in a page."""
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def ui_get_urls(app: Flask) -> list[str]:
    """A URL for every GET rule outside /api/v1, its parameters filled from the seed."""
    adapter = app.url_map.bind("localhost")
    urls = []
    with app.app_context():
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith("/api/v1") or "GET" not in (rule.methods or ()):
                continue
            values: dict[str, Any] = {}
            for name, converter in rule._converters.items():
                if isinstance(converter, AnyConverter):
                    values[name] = sorted(converter.items)[0]
                elif name == "filename":
                    values[name] = STATIC_FILES[rule.endpoint]
                else:
                    values[name] = db.session.scalar(text(UI_VALUES[name]))
            urls.append(adapter.build(rule.endpoint, values, method="GET"))
        db.session.remove()
    return sorted(set(urls))


def signed_in_admin(app: Flask) -> Browser:
    """The demo admin (every facility) signed in through the form."""
    client = app.test_client()
    with app.app_context():
        forget_cached_user()
        html = client.get("/login").get_data(as_text=True)
        response = client.post(
            "/login",
            data={
                "username": "admin",
                "password": demo_password("admin"),
                "csrf_token": csrf_token(html),
            },
        )
    assert response.status_code == 302, response.status_code
    return Browser(client, None)


def test_every_ui_page_carries_the_headers_and_no_inline_code(seeded_app):
    """Signed in or not, every page (and file) answers with the headers; no page has inline
    script or style for the policy to block."""
    urls = ui_get_urls(seeded_app)
    assert {"/login", "/overview", "/reports/margin", "/api/docs"} <= set(urls)
    browser = signed_in_admin(seeded_app)
    anonymous = seeded_app.test_client()
    pages = 0
    for url in urls:
        for client in (browser.client, anonymous):
            with seeded_app.app_context():
                forget_cached_user()
                response = client.get(url)
                html = response.get_data(as_text=True)  # streamed exports end here
            assert_security_headers(response, url)
            assert response.status_code < 500, (url, response.status_code)
            if response.mimetype == "text/html":
                pages += 1
                assert inline_code(html) == [], url
    assert pages > len(urls)  # most pages were rendered, not only redirects
    with seeded_app.app_context():
        forget_cached_user()
        for missing in ("/no-such-page", "/cases/2147483647"):
            response = browser.client.get(missing)
            assert response.status_code == 404
            assert_security_headers(response, missing)


API_OPERATIONS = operations()


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    API_OPERATIONS,
    ids=[f"{m.upper()} {p}" for m, p, _ in API_OPERATIONS],
)
def test_every_api_operation_carries_the_headers(seeded_app, admin_token, method, path, operation):
    """Success, validation failure or refusal: every API answer has the headers."""
    world = {"app": seeded_app}
    params = resolve_path(world, path, facility_of_admin(seeded_app))
    body = {} if "requestBody" in operation else None
    client = seeded_app.test_client()
    for token in (admin_token, None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.open(
            path.format(**params), method=method.upper(), headers=headers, json=body
        )
        response.get_data()  # a streamed export ends here
        assert_security_headers(response, f"{method.upper()} {path} ({response.status_code})")
        assert response.headers["Cache-Control"] == "no-store"


def facility_of_admin(app: Flask) -> int:
    """A seeded facility (the demo admin holds them all)."""
    with app.app_context():
        found = db.session.scalar(text("SELECT min(id) FROM facility WHERE code = 'DEMO-HOPD'"))
        db.session.remove()
    return found


def test_production_adds_hsts(database_factory):
    """Outside development every response also tells browsers to use HTTPS only."""
    app = make_test_app(
        database_factory("headers-prod"), ENV_NAME="production", SECRET_KEY="k" * 48
    )
    client = app.test_client()
    for path in (
        "/login",
        "/api/docs",
        "/api/openapi.json",
        "/api/v1/parts",
        "/static/web/app.css",
    ):
        assert_security_headers(client.get(path), path, production=True)
