"""The schema comes only from migrations, and they agree with the models."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import inspect

from supply_app.extensions import db
from tests.conftest import make_test_app


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
