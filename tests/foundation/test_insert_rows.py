"""insert_rows: the hot-path bulk insert gives persistent objects without reading them back."""

from __future__ import annotations

import pytest
from sqlalchemy import event, inspect, select

from supply_app.cases.models import FeeOverride
from supply_app.clock import utcnow
from supply_app.db import insert_rows
from supply_app.extensions import db


def override_row(code: str, cents: int) -> dict:
    """A complete fee_override row (every column but the id)."""
    return {
        "year": 2026,
        "code": code,
        "site_of_service": "HOPD",
        "amount_cents": cents,
        "note": None,
        "updated_by_id": None,
        "updated_at": utcnow(),
    }


def test_rows_come_back_persistent_in_order_without_a_select(app):
    """Ids follow the rows' order; reading any attribute sends no SQL; the rows are stored."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.lstrip().split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        first, second = insert_rows(
            db.session, FeeOverride, [override_row("C9809", 25_000), override_row("64640", 1)]
        )
        written = list(statements)
        seen = [(o.code, o.amount_cents, o.note, o.updated_by_id) for o in (first, second)]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # PostgreSQL sends one batched INSERT; SQLite one per row to keep RETURNING in order.
    assert set(written) - {"BEGIN"} == {"INSERT"}
    assert statements == written, "reading the new objects went back to the database"
    assert first.id < second.id
    assert seen == [("C9809", 25_000, None, None), ("64640", 1, None, None)]
    assert first in db.session
    assert not db.session.new
    assert not db.session.dirty
    db.session.commit()
    stored = db.session.execute(
        select(FeeOverride.code, FeeOverride.amount_cents).order_by(FeeOverride.id)
    ).all()
    assert [tuple(r) for r in stored] == [("C9809", 25_000), ("64640", 1)]


def test_a_row_missing_a_column_is_refused_before_any_write(app):
    """An incomplete row would leave an attribute to be read back later: refuse it."""
    row = override_row("C9809", 25_000)
    del row["note"]
    with pytest.raises(ValueError, match="note"):
        insert_rows(db.session, FeeOverride, [row])
    assert db.session.scalar(select(FeeOverride.id)) is None


def test_no_rows_is_no_statement(app):
    """An empty batch returns nothing and writes nothing."""
    assert insert_rows(db.session, FeeOverride, []) == []


def test_a_rolled_back_savepoint_leaves_its_objects_transient(app):
    """Rows a savepoint wrote are gone after its rollback; their objects are not persistent."""
    (kept,) = insert_rows(db.session, FeeOverride, [override_row("C9809", 1)])
    savepoint = db.session.begin_nested()
    (gone,) = insert_rows(db.session, FeeOverride, [override_row("64640", 2)])
    gone_id = gone.id
    savepoint.rollback()
    assert inspect(gone).transient
    assert inspect(kept).persistent
    assert db.session.get(FeeOverride, gone_id) is None
    assert db.session.get(FeeOverride, kept.id) is kept


def test_a_full_rollback_undoes_released_savepoints_too(app):
    """A released savepoint's rows belong to the transaction; its rollback removes them."""
    (outer,) = insert_rows(db.session, FeeOverride, [override_row("C9809", 1)])
    with db.session.begin_nested():
        (inner,) = insert_rows(db.session, FeeOverride, [override_row("64640", 2)])
    db.session.rollback()
    assert inspect(outer).transient
    assert inspect(inner).transient


def test_an_id_reused_after_a_rollback_does_not_collide_with_the_old_object(app):
    """SQLite hands a rolled-back id out again; the old object must not still claim it."""
    (ghost,) = insert_rows(db.session, FeeOverride, [override_row("C9809", 1)])
    db.session.rollback()
    (fresh,) = insert_rows(db.session, FeeOverride, [override_row("C9809", 2)])
    db.session.commit()
    assert fresh is not ghost
    assert db.session.get(FeeOverride, fresh.id).amount_cents == 2


def test_pending_objects_are_written_first(app):
    """As autoflush would: a pending object goes in before the batch, so rows may use it."""
    pending = FeeOverride(**override_row("C9809", 1))
    db.session.add(pending)
    (inserted,) = insert_rows(db.session, FeeOverride, [override_row("64640", 2)])
    assert pending.id is not None
    assert pending.id < inserted.id
