"""POST /api/v1/cases stays cheap: a regression guard on the SQL it sends per case."""

from __future__ import annotations

from sqlalchemy import event

from supply_app.extensions import db
from tests.cases.test_record import hopd  # noqa: F401 - the stocked HOPD fixture
from tests.support.cases import case_body

# Two procedures, two supply lines by lot, no Idempotency-Key. PostgreSQL: token+user,
# facility (with its default payer and equipment cost)+scope, fee overrides, case,
# procedures, both lots, one lock of both balances,
# two conditional decrements, both ledger rows, both case-supply rows. SQLite also sends
# BEGIN IMMEDIATE (which ends the token read and so reloads the user) and inserts row by
# row rather than in batches.
MAX_STATEMENTS = {"postgresql": 10, "sqlite": 15}


def test_record_case_statement_count(hopd):  # noqa: F811 - pytest fixture
    """Recording a typical case sends no more statements than it did when last tuned."""
    facility, tips, carts = hopd["facility"], hopd["tips"], hopd["carts"]
    body = case_body(
        facility,
        "SQL-001",
        supplies=[
            {"part_id": tips.part_id, "lot_id": tips.id, "eaches": 1},
            {"part_id": carts.part_id, "lot_id": carts.id, "eaches": 1},
        ],
    )
    body["procedures"].append({"code": "C9809"})
    db.session.expunge_all()  # nothing cached from the fixture: count a cold request
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = hopd["clinician"].post("/api/v1/cases", json=body)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 201, response.json
    assert len(response.json["supplies"]) == 2
    limit = MAX_STATEMENTS[db.engine.dialect.name]
    assert len(statements) <= limit, "\n".join(statements)
