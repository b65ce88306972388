"""The schema comes only from migrations, and they agree with the models."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import func, inspect, select

from supply_app.auth.models import User
from supply_app.extensions import db
from tests.conftest import make_test_app
from tests.factories import make_actor, make_facility


def test_upgrade_check_downgrade_upgrade(database_factory):
    """Empty → head matches the models; head → base → head works."""
    app = make_test_app(database_factory("migrations"))
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.check()  # raises if autogenerate would find any difference
        tables = set(inspect(db.engine).get_table_names())
        assert {"part", "facility", "app_user", "api_token", "audit_event"} <= tables
        flask_migrate.downgrade(revision="base")
        db.session.remove()
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        flask_migrate.check()
        db.engine.dispose()


def test_the_newest_migration_rolls_back_with_data_in_place(database_factory):
    """head → previous → head with users, memberships and tokens that point at app_user."""
    app = make_test_app(database_factory("migrations-data"))
    with app.app_context():
        flask_migrate.upgrade()
        facility = make_facility()
        make_actor(app, "viewer", [facility])
        db.session.remove()
        flask_migrate.downgrade(revision="-1")
        flask_migrate.upgrade()
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        flask_migrate.check()
        db.session.remove()
        db.engine.dispose()
