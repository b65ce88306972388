"""Browser tests: Debian's Chromium drives a live server on its own fresh database.

The server is a threaded werkzeug server on 127.0.0.1 (port chosen by the OS) in a thread of
this process, with its own app bound to a database made for this run (SQLite file or a
PostgreSQL database, as the rest of the suite). Every journey starts from an empty database
seeded through the services. Screenshots of the main pages go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from werkzeug.serving import make_server

from supply_app.extensions import db
from tests.conftest import make_test_app, wipe_database

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    """Every test in this folder drives a browser."""
    for item in items:
        if "/tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch the system Chromium; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (not playwright install)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A laptop-sized window that accepts downloads."""
    return {
        **browser_context_args,
        "viewport": {"width": 1360, "height": 900},
        "accept_downloads": True,
    }


@pytest.fixture(scope="session")
def e2e_app(database_factory) -> Iterator[Flask]:
    """The app under test on its own migrated database."""
    app = make_test_app(database_factory("e2e"))
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(e2e_app) -> Iterator[str]:
    """Serve the app on 127.0.0.1 with a free port for the whole run."""
    server = make_server("127.0.0.1", 0, e2e_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """pytest-playwright resolves page.goto('/x') against the live server."""
    return live_server


@pytest.fixture
def fresh_db(e2e_app) -> Iterator[Flask]:
    """An empty database for one journey, with an app context for seeding and checks."""
    wipe_database(e2e_app)
    with e2e_app.app_context():
        yield e2e_app
        db.session.remove()


@pytest.fixture(scope="session")
def shoot():
    """Save a full-page screenshot of the current page under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(autouse=True)
def no_content_policy_violations(request) -> Iterator[None]:
    """Fail any browser test whose pages broke the content policy (inline code, outside
    sources): Chromium reports each refusal on the console."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield
    assert refused == [], refused
