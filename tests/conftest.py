"""Shared fixtures: one migrated database per test run, cleaned after every test.

Set SUPPLY_TEST_DATABASE_URL to a PostgreSQL URL (postgresql+psycopg://user@host/db) to run
the suite on PostgreSQL: a fresh database is created beside the named one for this run and
dropped afterwards. An unreachable server stops the run with an error; it never skips.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import flask_migrate
import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import inspect, text

from supply_app import create_app
from supply_app.auth import service as auth_service
from supply_app.clock import set_source
from supply_app.extensions import db
from tests.support.databases import create_database, drop_database

# Real argon2 parameters cost ~50 ms a hash; tests create hundreds of users.
auth_service.password_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory) -> Iterator[Any]:
    """Make fresh, empty databases of the dialect under test."""
    base = os.environ.get("SUPPLY_TEST_DATABASE_URL", "")
    made: list[str] = []

    def make(suffix: str = "db") -> str:
        if base.startswith("postgresql"):
            try:
                url = create_database(base, f"test_{suffix}")
            except Exception as exc:
                pytest.exit(f"PostgreSQL at {base} is unreachable or refused: {exc}", returncode=3)
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp(suffix)}/supply.sqlite3"
        made.append(url)
        return url

    yield make
    for url in made:
        drop_database(url)


def make_test_app(url: str, **extra: Any) -> Flask:
    """An app bound to url with test settings (CSRF stays on for the UI)."""
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key",
            "LOG_LEVEL": "WARNING",
            # Test facilities keep UTC's calendar unless a test names a zone (the zone edge
            # tests pin the clock in Guam and Germany).
            "DEFAULT_TIME_ZONE": "UTC",
            **extra,
        }
    )


@pytest.fixture(scope="session")
def migrated_app(database_factory) -> Iterator[Flask]:
    """The app on a database built by running every migration."""
    app = make_test_app(database_factory("main"))
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def wipe_database(app: Flask) -> None:
    """Delete every row of every table (the schema stays)."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            existing = set(inspect(conn).get_table_names())
            tables = [t for t in db.metadata.sorted_tables if t.name in existing]
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())


@pytest.fixture
def app(migrated_app) -> Iterator[Flask]:
    """The migrated app inside an app context, with an empty database after the test."""
    with migrated_app.app_context():
        yield migrated_app
        db.session.remove()
    wipe_database(migrated_app)


class PinnedClock:
    """The app's clock, pinned to an instant a test chooses."""

    def at(self, instant: datetime) -> datetime:
        """Make every "now" in the app (and so every facility's today) this aware instant."""
        set_source(lambda: instant)
        return instant


@pytest.fixture
def clock() -> Iterator[PinnedClock]:
    """Pin supply_app.clock for one test (the real clock comes back afterwards)."""
    yield PinnedClock()
    set_source(None)


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()
