"""Database base class, naming convention, UTC timestamps and SQLite transaction hooks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, Insert, MetaData, Table, event, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Session,
    SessionTransaction,
    make_transient,
    make_transient_to_detached,
    scoped_session,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose constraints get stable names in every dialect."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


ModelT = TypeVar("ModelT")


def current_session(session: Session | scoped_session) -> Session:
    """The Session itself, for APIs a scoped_session does not proxy."""
    return session() if isinstance(session, scoped_session) else session


@functools.cache
def lock_row(session: Session, entity: ModelT) -> ModelT:
    """Lock the entity's row for this transaction (FOR UPDATE) and reload it, so a state
    check that follows sees what any writer that held the lock committed."""
    model = type(entity)
    return session.scalars(
        select(model)
        .where(model.id == entity.id)
        .with_for_update(of=model)  # its own row: eager joins may add outer-joined tables
        .execution_options(populate_existing=True)
    ).one()


def _insert_returning_id(table: Table) -> tuple[Insert, frozenset[str]]:
    """A table's INSERT .. RETURNING id and the columns a row must name, built once."""
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return statement, frozenset(table.columns.keys()) - {"id"}


# session.info key: (the session's transaction, [(transaction or savepoint, objects)]) for
# each insert_rows batch, so a rollback can tell which objects lost their rows.
_INSERTED_ROWS = "supply_app.inserted_rows"


def insert_rows(session: Session, model: type[ModelT], rows: list[dict[str, Any]]) -> list[ModelT]:
    """Insert complete rows with INSERT .. RETURNING id; the persistent objects, in row order.

    For hot write paths: a Core insert skips the unit-of-work bookkeeping a flush does for
    each object, and the objects are built from the values in hand rather than read back,
    so every row names every column but the id. PostgreSQL gets one batched statement,
    SQLite one per row (to keep RETURNING in row order). Pending ORM changes are flushed
    first; relationships are not populated and ORM insert events do not fire. If the
    transaction (or savepoint) that wrote the rows rolls back, the objects become
    transient again, as flushed objects do.
    """
    if not rows:
        return []
    session = current_session(session)
    statement, columns = _insert_returning_id(model.__table__)  # type: ignore[attr-defined]
    for row in rows:
        if row.keys() != columns:
            raise ValueError(
                f"{model.__name__} rows must name exactly these columns: {sorted(columns)}"
            )
    session.flush()  # rows may point at objects still pending, as autoflush would allow
    # Core on the session's connection: no ORM execution layer, and one row is a plain
    # execute rather than a batch of one.
    result = session.connection().execute(statement, rows[0] if len(rows) == 1 else rows)
    ids = result.scalars().all()
    objects = []
    for row_id, row in zip(ids, rows, strict=True):
        obj = model(id=row_id, **row)
        make_transient_to_detached(obj)  # its state is the row just written, not pending
        session.add(obj)
        objects.append(obj)
    _inserted_batches(session).append(
        (session.get_nested_transaction() or session.get_transaction(), objects)
    )
    return objects


def _inserted_batches(session: Session) -> list[tuple[SessionTransaction, list[Any]]]:
    """This transaction's insert_rows batches (an earlier transaction's are dropped)."""
    root = session.get_transaction()
    tracked = session.info.get(_INSERTED_ROWS)
    if tracked is None or tracked[0] is not root:
        tracked = session.info[_INSERTED_ROWS] = (root, [])
    return tracked[1]


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    """True when transaction is `ended` or a savepoint inside it."""
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_rows(session: Session, previous_transaction: SessionTransaction) -> None:
    """insert_rows objects whose rows a rollback removed become transient, as flushed ones do.

    Otherwise they would stay in the identity map as persistent objects with no row, and
    on SQLite a later insert that reuses the id would collide with them.
    """
    tracked = session.info.get(_INSERTED_ROWS)
    if tracked is None:
        return
    batches = tracked[1]
    kept = []
    for writer, objects in batches:
        if _within(writer, previous_transaction):
            for obj in objects:
                make_transient(obj)
        else:
            kept.append((writer, objects))
    batches[:] = kept


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite drops tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Normalise to UTC before storing; naive datetimes are rejected as ambiguous."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite keeps the text as given; store naive UTC so ordering by text is correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Attach UTC to values read back."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def install_sqlite_hooks(engine: Engine) -> None:
    """Turn on WAL and foreign keys, and let SQLAlchemy (not pysqlite) emit BEGIN.

    Python 3.11's sqlite3 module defers BEGIN until the first write, so a read-then-write
    unit could not take the write lock up front; emitting BEGIN ourselves lets a write
    request ask for BEGIN IMMEDIATE and serialise cleanly instead of failing with
    "database is locked".
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=15000",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def begin_write(session: Any) -> None:
    """Start the request's unit of work as a writer (BEGIN IMMEDIATE on SQLite).

    Call before the first statement of a unit that reads and then writes, with nothing
    written yet. A read-only transaction already open (the token lookup) is ended first,
    because SQLite cannot upgrade a reader to a writer without risking "database is
    locked". On PostgreSQL it is a no-op; row locks and conditional UPDATEs do the work.
    """
    session = current_session(session)
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def edit_sqlite_table_sql(bind: Any, table: str, edit: Callable[[str], str]) -> None:
    """Rewrite a SQLite table's CREATE statement in place, for constraint changes only.

    SQLite cannot alter a constraint, and rebuilding a table others hold foreign keys on
    would break them. Changing only a CHECK or a NOT NULL leaves the stored rows as they
    are, so SQLite's documented procedure applies (lang_altertable, "Making Other Kinds Of
    Table Schema Changes"): edit the table's SQL in the schema, bump schema_version, and
    check the database. A migration calls it after making the rows satisfy the new rule.
    """
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    new_sql = edit(sql)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (new_sql, table)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    if bind.exec_driver_sql("PRAGMA integrity_check").scalar() != "ok":
        raise RuntimeError(f"the database failed its integrity check after changing {table}")
