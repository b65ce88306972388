"""Fixtures for the hardening checks: a seeded app on its own database, and tokens."""

from __future__ import annotations

from collections.abc import Iterator

import flask_migrate
import pytest
from flask import Flask

from supply_app.auth.service import create_user, issue_token
from supply_app.demo import demo_token_secret, load_demo
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from tests.conftest import make_test_app
from tests.factories import TEST_PASSWORD, Actor


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


def member_actor(app: Flask, username: str, role: str, facilities: list[Facility]) -> Actor:
    """A user of role holding only `facilities`, with a live token (inside an app context)."""
    user = create_user(
        db.session,
        username=username,
        display_name=username,
        role=role,
        password=TEST_PASSWORD,
        facility_ids=[f.id for f in facilities],
    )
    _, secret = issue_token(db.session, user=user, name="hardening", days=30)
    db.session.commit()
    return Actor(user=user, token=secret, client=app.test_client())
