"""The schema comes only from migrations, and they agree with the models."""

from __future__ import annotations

import flask_migrate
from sqlalchemy import func, inspect, select, text

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


def test_0010_rewrites_code_mixes_and_rolls_back_with_its_columns_in_use(database_factory):
    """Down to 0007 and up again with a 64624-52 case, a taught barcode and a default
    facility in place: the code mix loses and regains its modifier; nothing else breaks."""
    from datetime import date

    from supply_app.auth.models import User as AppUser
    from supply_app.cases import service as cases
    from supply_app.cases.models import ProcedureCase
    from supply_app.catalog import gtins
    from tests.factories import sync_parts

    app = make_test_app(database_factory("migrations-0010"))
    with app.app_context():
        flask_migrate.upgrade()
        facility = make_facility()
        parts = sync_parts(app)
        admin = make_actor(app, "admin", [facility]).user
        admin.default_facility_id = facility.id
        gtins.teach_gtin(
            db.session, gtin="00812345000016", part=parts["STT2190-5"], level="each", actor=admin
        )
        case = cases.record_case(
            db.session,
            user=admin,
            data={
                "facility_id": facility.id,
                "date_of_service": date.today(),
                "reference": "MIG-52",
                "laterality": "RT",
                "procedures": [{"code": "64624", "nerves": ["superolateral", "superomedial"]}],
                "supplies": [],
            },
        )
        db.session.commit()
        case_id, admin_id = case.id, admin.id
        assert case.code_mix == "64624-52x1"
        db.session.remove()
        flask_migrate.downgrade(revision="0007_security")
        mix = db.session.execute(
            text("SELECT code_mix FROM procedure_case WHERE id = :i"), {"i": case_id}
        ).scalar()
        assert mix == "64624x1"
        db.session.remove()
        flask_migrate.upgrade()
        assert db.session.get(ProcedureCase, case_id).code_mix == "64624-52x1"
        assert db.session.get(AppUser, admin_id).default_facility_id is None  # column rebuilt
        flask_migrate.check()
        db.session.remove()
        db.engine.dispose()
