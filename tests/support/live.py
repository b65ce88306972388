"""A real threaded HTTP server for race tests, and clients that call it at the same moment."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import flask_migrate
import pytest
from flask import Flask
from werkzeug.serving import make_server

from supply_app.catalog.service import load_catalog_file, sync_catalog
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.facilities.service import create_facility

T = TypeVar("T")

# A race's PostgreSQL run: skipped (saying so) when the suite runs on SQLite.
on_postgresql = pytest.mark.skipif(
    not os.environ.get("SUPPLY_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the suite is running on SQLite; this race runs when it runs on PostgreSQL",
)


def migrated_facility(app: Flask, code: str, dodaac: str) -> Facility:
    """Migrate app's fresh database, load the catalog and add one UTC facility (inside an
    app context; the caller commits)."""
    flask_migrate.upgrade()
    sync_catalog(db.session, load_catalog_file(app.config["CATALOG_PATH"]))
    return create_facility(
        db.session,
        data={
            "code": code,
            "name": f"Race test {code}",
            "site_of_service": "HOPD",
            "dodaac": dodaac,
            "ship_to_address": "1 Test Road",
            "time_zone": "UTC",
        },
        actor=None,
    )


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve app on a free loopback port; yields its base URL; disposes the engine after."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        with app.app_context():
            db.engine.dispose()


def call(
    base: str, token: str, method: str, path: str, body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    """Send JSON with a bearer token (and an Idempotency-Key); (status, parsed body)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(  # noqa: S310 - http to our loopback server
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class FormBrowser:
    """A cookie-keeping client of the UI on a live server, posting forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def open(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        """GET a page, or POST form to it; (status, body). Redirects are not followed."""
        data = None if form is None else urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def csrf(self, path: str = "/login") -> str:
        """The CSRF token of the form on a page (which also starts this browser's session)."""
        status, html = self.open(path)
        found = CSRF_FIELD.search(html)
        assert found, (path, status)
        return found.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report a redirect as its own status (a sign-in answers 302) instead of following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call on its own thread, all released at the same moment; their results."""
    barrier = threading.Barrier(len(calls))
    results: list[T] = []
    lock = threading.Lock()

    def run(one: Callable[[], T]) -> None:
        barrier.wait()
        outcome = one()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(one,)) for one in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
