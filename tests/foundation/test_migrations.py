"""The schema comes only from migrations, and they agree with the models."""

from __future__ import annotations

from datetime import date, timedelta

import flask_migrate
import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from supply_app.auth.models import User
from supply_app.catalog.service import get_part_by_number
from supply_app.extensions import db
from supply_app.inventory import service
from tests.conftest import make_test_app
from tests.support.factories import make_actor, make_facility, sync_parts


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


def test_0009_widens_the_movement_kinds_and_refuses_to_drop_returns(database_factory):
    """After 0009 the kind CHECK takes return_to_vendor and still refuses anything else; a
    downgrade with returns in the (append-only) ledger is refused, leaving them in place."""
    app = make_test_app(database_factory("migrations-kinds"))
    with app.app_context():
        flask_migrate.upgrade()
        facility = make_facility()
        sync_parts(app)
        lot = service.receive(
            db.session,
            facility=facility,
            part=get_part_by_number(db.session, "CRX2111-10"),
            lot_number="MIG-1",
            expiry_date=date.today() + timedelta(days=200),
            eaches=5,
            value_cents=500,
            actor=None,
            reason="opening_balance",
        ).lot
        db.session.commit()
        insert = text(
            "INSERT INTO stock_movement (facility_id, lot_id, kind, eaches, value_cents, "
            "created_at) VALUES (:f, :l, :kind, -1, 0, CURRENT_TIMESTAMP)"
        )
        with pytest.raises(IntegrityError):
            db.session.execute(insert, {"f": facility.id, "l": lot.id, "kind": "teleport"})
        db.session.rollback()
        service.return_to_vendor(
            db.session,
            facility=facility,
            lot=lot,
            eaches=1,
            rga_number="RGA-MIG",
            rga_date=date.today(),
            actor=None,
        )
        db.session.commit()
        db.session.remove()
        # Down to 0008 first: on PostgreSQL a refused multi-step downgrade rolls back whole
        # (transactional DDL), on SQLite the steps before the refusal stay done.
        flask_migrate.downgrade(revision="0008_recalls_notices")
        with pytest.raises(SystemExit):  # flask_migrate logs the RuntimeError and exits 1
            flask_migrate.downgrade(revision="0007_security")
        db.session.remove()
        kinds = db.session.scalars(text("SELECT kind FROM stock_movement ORDER BY id")).all()
        assert kinds == ["receipt", "return_to_vendor"]
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == (
            "0008_recalls_notices"
        )


def test_0010_rewrites_code_mixes_and_rolls_back_with_its_columns_in_use(database_factory):
    """Down below 0010 and up again with a 64624-52 case, a taught barcode and a default
    facility in place: the code mix loses and regains its modifier; nothing else breaks."""
    from datetime import date

    from supply_app.auth.models import User as AppUser
    from supply_app.cases import service as cases
    from supply_app.cases.models import ProcedureCase
    from supply_app.catalog import gtins
    from tests.support.factories import sync_parts

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
        flask_migrate.downgrade(revision="0008_recalls_notices")
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


def test_0011_gives_every_case_medicare_and_refuses_to_drop_0441t(database_factory):
    """Down below 0011 and up again with a case in place: it comes back under Medicare
    national with its collection equal to its benchmark; a 0441T line blocks the downgrade."""
    from supply_app.cases import service as cases
    from supply_app.cases.models import ProcedureCase
    from supply_app.facilities.models import Facility

    app = make_test_app(database_factory("migrations-0011"))
    with app.app_context():
        flask_migrate.upgrade()
        facility = make_facility()
        admin = make_actor(app, "admin", [facility]).user
        facility_id = facility.id
        body = {
            "facility_id": facility_id,
            "date_of_service": date.today(),
            "laterality": "RT",
            "supplies": [],
        }
        case = cases.record_case(
            db.session,
            user=admin,
            data={
                **body,
                "reference": "MIG-11",
                "procedures": [{"code": "64640", "nerves": ["afcn"]}],
            },
        )
        db.session.commit()
        case_id, benchmark = case.id, case.reimbursement_cents
        db.session.remove()
        flask_migrate.downgrade(revision="0010_ui")
        columns = {c["name"] for c in inspect(db.engine).get_columns("procedure_case")}
        assert "payer_id" not in columns
        assert "payer" not in set(inspect(db.engine).get_table_names())
        db.session.remove()
        flask_migrate.upgrade()
        flask_migrate.check()
        case = db.session.get(ProcedureCase, case_id)
        assert (case.payer.name, case.billed, case.collection_cents) == (
            "Medicare national",
            True,
            benchmark,
        )
        facility = db.session.get(Facility, facility_id)
        assert facility.default_payer_id == case.payer_id
        cases.record_case(
            db.session,
            user=make_actor(app, "admin", [facility]).user,
            data={
                **body,
                "reference": "MIG-0441T",
                "procedures": [{"code": "0441T", "nerves": ["afcn", "superomedial"]}],
            },
        )
        db.session.commit()
        db.session.remove()
        # One step at a time: PostgreSQL rolls a refused multi-step downgrade back whole.
        flask_migrate.downgrade(revision="0011_payers")
        with pytest.raises(SystemExit):  # flask_migrate logs the RuntimeError and exits 1
            flask_migrate.downgrade(revision="0010_ui")
        db.session.remove()
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == "0011_payers"
        db.session.remove()
        db.engine.dispose()


def test_0012_marks_a_contractor_priced_benchmark_incomplete(database_factory):
    """Cases recorded before 0012 get the benchmark's own completeness from their stored
    explanation: a 0441T case (no national amount) is incomplete, a 64640 case complete."""
    from supply_app.cases import service as cases
    from supply_app.cases.models import ProcedureCase

    app = make_test_app(database_factory("migrations-0012"))
    with app.app_context():
        flask_migrate.upgrade()
        facility = make_facility()
        admin = make_actor(app, "admin", [facility]).user
        ids = {}
        for code, nerves in (("64640", ["afcn"]), ("0441T", ["afcn", "superomedial"])):
            case = cases.record_case(
                db.session,
                user=admin,
                data={
                    "facility_id": facility.id,
                    "date_of_service": date.today(),
                    "laterality": "RT",
                    "supplies": [],
                    "reference": f"MIG-12-{code}",
                    "procedures": [{"code": code, "nerves": nerves}],
                },
            )
            ids[code] = case.id
        db.session.commit()
        assert db.session.get(ProcedureCase, ids["0441T"]).device_priced is True
        db.session.remove()
        flask_migrate.downgrade(revision="0011_payers")
        columns = {c["name"] for c in inspect(db.engine).get_columns("procedure_case")}
        assert "reimbursement_complete" not in columns
        db.session.remove()
        flask_migrate.upgrade()
        flask_migrate.check()
        complete = {
            code: db.session.get(ProcedureCase, case_id).reimbursement_complete
            for code, case_id in ids.items()
        }
        assert complete == {"64640": True, "0441T": False}
        db.session.remove()
        db.engine.dispose()
