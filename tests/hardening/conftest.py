"""Fixtures for the hardening checks: a seeded app on its own database, and tokens."""

from __future__ import annotations

from collections.abc import Iterator

import flask_migrate
import pytest
from flask import Flask

from supply_app.demo import demo_token_secret, load_demo
from supply_app.extensions import db
from tests.conftest import make_test_app


@pytest.fixture(scope="module")
def seeded_app(database_factory) -> Iterator[Flask]:
    """An app on a fresh migrated database holding every domain's demo data.

    Module-scoped and separate from the suite's `app` database, so fuzzing can write freely
    without the per-test wipe and other tests never see what it wrote.
    """
    app = make_test_app(database_factory("seeded"))
    with app.app_context():
        flask_migrate.upgrade()
        load_demo(db.session)
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def admin_token(seeded_app) -> str:
    """The demo admin's bearer token (all facilities, every admin right)."""
    with seeded_app.app_context():
        return demo_token_secret("admin")
