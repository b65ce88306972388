"""`supply-app payers list` and `load-fees`: the file checked whole, hostile input refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from supply_app.payers.service import create_payer

HEADER = "code,site_of_service,component,modifier,amount,effective_from,effective_to\n"


@pytest.fixture
def table_payer(app):
    """A fee-table payer with no rows yet."""
    payer = create_payer(db.session, data={"name": "CLI table", "basis": "fee_table"}, actor=None)
    db.session.commit()
    return payer


def load(app, tmp_path, payer_id: str, text: str):
    """Run load-fees on a file holding text."""
    path = tmp_path / "fees.csv"
    path.write_text(text, encoding="utf-8")
    return app.test_cli_runner().invoke(args=["payers", "load-fees", payer_id, str(path)])


def test_a_bad_file_lists_every_problem_and_loads_nothing(app, tmp_path, table_payer):
    """Each problem with its row and column; exit 1; the table and revision unchanged."""
    text = HEADER + (
        "64640,HOPD,facility,,1e3,2026-01-01,\n"
        "64640,HOPD,professional,,１００.00,2026-01-01,\n"
        "9999X,HOPD,facility,,10.00,2026-01-01,\n"
        "64624,HOPD,facility,,10.00,2026-02-30,\n"
    )
    result = load(app, tmp_path, str(table_payer.id), text)
    assert result.exit_code == 1
    for where in ("row 2, amount", "row 3, amount", "row 4, code", "row 5, effective_from"):
        assert where in result.output, result.output
    db.session.expire_all()
    assert (len(table_payer.fees), table_payer.revision) == (0, 1)


def test_a_good_file_replaces_the_table_and_is_audited(app, tmp_path, table_payer):
    """The rows load in one go (a spreadsheet's BOM is fine), the revision goes up, audited."""
    text = "\ufeff" + HEADER + "64640,HOPD,facility,,850.00,2026-01-01,\n"
    result = load(app, tmp_path, str(table_payer.id), text)
    assert result.exit_code == 0, result.output
    assert "1 fee row(s) loaded; revision 2" in result.output
    db.session.expire_all()
    assert [f.amount_cents for f in table_payer.fees] == [85_000]
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == "payer", AuditEvent.entity_id == str(table_payer.id))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["payer.create", "payer.fees.replace"]
    listed = app.test_cli_runner().invoke(args=["payers", "list"])
    assert "CLI table: fee_table, 1 fee row(s), revision 2" in listed.output


@pytest.mark.parametrize("payer_id", ["１", "1.0", "-1", "0x1", "1 ", "99999999999"])
def test_a_hostile_payer_id_is_a_usage_error(app, tmp_path, table_payer, payer_id):
    """Only ASCII digits name a payer; anything else is refused before the file is read."""
    result = load(app, tmp_path, payer_id, HEADER + "64640,HOPD,facility,,1.00,2026-01-01,\n")
    assert result.exit_code == 2, result.output
    db.session.expire_all()
    assert table_payer.revision == 1


def test_an_unknown_payer_is_named(app, tmp_path, table_payer):
    """A payer that does not exist: exit 1 saying so."""
    result = load(app, tmp_path, "424242", HEADER + "64640,HOPD,facility,,1.00,2026-01-01,\n")
    assert result.exit_code == 1
    assert "No payer with id 424242" in result.output
