"""A fee table loaded from CSV through the API: checked whole, every problem named by row
and column, nothing changed by a refused file."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from supply_app.payers.models import PayerFee
from tests.support.factories import make_actor
from tests.support.payers import HEADER, TRICARE_CSV, load_fees, new_payer, ok


@pytest.fixture
def finance(app):
    """Finance holding every facility."""
    return make_actor(app, "finance", all_facilities=True)


@pytest.fixture
def tricare(finance):
    """A fee-table payer with the TRICARE table loaded (revision 2, two rows)."""
    payer = new_payer(finance, "TRICARE", "fee_table")
    ok(load_fees(finance, payer["id"], TRICARE_CSV))
    return payer


def _unchanged(finance, payer: dict) -> None:
    """The payer still has the TRICARE table at revision 2, and one fee replace audited."""
    table = ok(finance.get(f"/api/v1/payers/{payer['id']}/fees"))
    assert table["revision"] == 2
    assert [(r["component"], r["amount"]) for r in table["items"]] == [
        ("facility", "850.00"),
        ("professional", "101.50"),
    ]
    assert db.session.scalar(select(func.count()).select_from(PayerFee)) == 2
    replaced = db.session.scalar(
        select(func.count()).where(AuditEvent.action == "payer.fees.replace")
    )
    assert replaced == 1


BAD_FILE = HEADER + "\n".join(
    [
        "64640,HOPD,facility,,850.00,2026-01-01,",  # row 2: fine
        "64640,HOPD,facility,,900.00,2026-06-01,",  # row 3: overlaps row 2 (open-ended)
        "64640,HOPD,professional,,1e3,2026-01-01,",  # row 4: an exponent is not an amount
        "64640,HOPD,professional,50,\uff18\uff15\uff10.00,2026-01-01,",  # row 5: fullwidth
        "99999,HOPD,facility,,10.00,2026-01-01,",  # row 6: no such code
        "64624,ASC,facility,59,10.00,2026-01-01,",  # row 7: modifier 59 prices nothing
        "64624,HOPD,facility,,10.00,2026-05-01,2026-04-01",  # row 8: ends before it starts
        "64624,HOPD,facility",  # row 9: 3 cells, the header has 7
        "0441T,office,professional,,,2026-01-01,",  # row 10: no amount
        "C9809,clinic,device,,10.00,2026-13-01,",  # row 11: a site and a date that are not
    ]
)
EXPECTED = [
    (3, "effective_from"),
    (4, "amount"),
    (5, "amount"),
    (6, "code"),
    (7, "modifier"),
    (8, "effective_to"),
    (9, ""),
    (10, "amount"),
    (11, "site_of_service"),
    (11, "effective_from"),
]


def test_every_problem_is_named_by_row_and_column_and_nothing_changes(finance, tricare):
    """One upload lists all ten problems; the table, its revision and the audit stay put."""
    response = load_fees(finance, tricare["id"], BAD_FILE)
    assert response.status_code == 422, response.json
    problem = response.json
    assert [(p["row"], p["column"]) for p in problem["problems"]] == EXPECTED  # in row order
    assert all(p["message"] for p in problem["problems"])
    assert "10 problem(s)" in problem["detail"]
    assert "csv" in problem["errors"]["json"]
    by_place = {(p["row"], p["column"]): p["message"] for p in problem["problems"]}
    assert "overlaps row 2" in by_place[(3, "effective_from")]
    assert "digits 0-9" in by_place[(4, "amount")]
    assert "digits 0-9" in by_place[(5, "amount")]
    assert "ends before it starts" in by_place[(8, "effective_to")]
    assert "header has 7" in by_place[(9, "")]
    _unchanged(finance, tricare)


NEVER_PRICES = HEADER + "\n".join(
    [
        "C9809,office,device,,250.00,2026-01-01,",  # row 2: no device payment in the office
        "64624,ASC,device,,250.00,2026-01-01,",  # row 3: only C9809 has a device amount
        "C9809,HOPD,professional,,25.00,2026-01-01,",  # row 4: C9809 is paid as a device
        "64640,office,facility,,300.00,2026-01-01,",  # row 5: the office has no facility fee
        "C9809,HOPD,device,52,125.00,2026-01-01,",  # row 6: 52 does not apply to C9809
        "64640,HOPD,facility,,850.00,2026-01-01,",  # row 7: fine
    ]
)


def test_rows_that_could_never_price_a_claim_are_refused(finance, tricare):
    """A row for a payment the schedule never makes (a code, site, component or modifier
    that no claim can use) is a mistake in the file: named where it is, nothing loaded."""
    response = load_fees(finance, tricare["id"], NEVER_PRICES)
    assert response.status_code == 422, response.json
    by_place = {(p["row"], p["column"]): p["message"] for p in response.json["problems"]}
    assert list(by_place) == [
        (2, "component"),
        (3, "component"),
        (4, "component"),
        (5, "component"),
        (6, "modifier"),
    ]
    assert "Nothing pays a device amount in the office setting" in by_place[(2, "component")]
    assert "64624 has no device amount in the ASC setting" in by_place[(3, "component")]
    assert "it has facility and professional amounts there" in by_place[(3, "component")]
    assert "C9809 has no professional amount" in by_place[(4, "component")]
    assert "Modifier 52 does not apply to C9809" in by_place[(6, "modifier")]
    assert all("would never price a claim" in message for message in by_place.values())
    _unchanged(finance, tricare)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # The header lacks effective_to: named on row 1, at the missing column.
        (
            "code,site_of_service,component,modifier,amount,effective_from\n"
            "64640,HOPD,facility,,850.00,2026-01-01\n",
            [(1, "effective_to")],
        ),
        (HEADER.replace("amount", "price") + "64640,HOPD,facility,,1.00,2026-01-01,\n",
         [(1, "amount"), (1, "price")]),
        (HEADER, [(2, "")]),  # a header and no rows
        (HEADER + "\n\n", [(2, "")]),  # blank lines are not rows
        (",,\n", [(1, "code"), (1, "")]),  # a header of empty names
        ('64640,"HOPD\n', [(1, "")]),  # not CSV: an unterminated quote
    ],
)  # fmt: skip
def test_a_file_without_a_usable_header_or_rows_is_refused(finance, tricare, text, where):
    """A missing or unknown column, an empty table, text that is not CSV: 422 naming where."""
    response = load_fees(finance, tricare["id"], text)
    assert response.status_code == 422, response.json
    assert [(p["row"], p["column"]) for p in response.json["problems"]] == where
    _unchanged(finance, tricare)


@pytest.mark.parametrize("text", ["", "\n", "\ufeff"])
def test_an_empty_file_is_refused_by_the_field(finance, tricare, text):
    """An empty file (nothing, a blank line, a lone byte-order mark) names the csv field."""
    response = load_fees(finance, tricare["id"], text)
    assert response.status_code == 422
    assert "csv" in response.json["errors"]["json"]
    _unchanged(finance, tricare)


@pytest.mark.parametrize("column", ["code", "site_of_service", "component", "modifier", "amount",
                                    "effective_from", "effective_to"])  # fmt: skip
@pytest.mark.parametrize(
    "value",
    ["\uff11\uff12\uff13", "\u0661\u0662", "1\u200b0", "\u202e10", "10\x0b", "\x1b[31m"],
    ids=["fullwidth", "arabic-indic", "zero-width", "bidi", "vertical tab", "escape"],
)
def test_look_alike_and_control_characters_in_any_cell_are_named(finance, tricare, column, value):
    """A hostile cell is a problem at its own row and column; the table stays as it was."""
    cells = dict(
        zip(
            HEADER.strip().split(","),
            ["64624", "HOPD", "facility", "", "10.00", "2026-01-01", ""],
            strict=True,
        )
    )
    cells[column] = value
    response = load_fees(finance, tricare["id"], HEADER + ",".join(cells.values()) + "\n")
    assert response.status_code == 422, response.json
    places = {(p["row"], p["column"]) for p in response.json.get("problems", [])}
    assert (2, column) in places or "csv" in response.json["errors"]["json"], response.json
    _unchanged(finance, tricare)


def test_a_byte_order_mark_and_spreadsheet_line_ends_are_accepted(finance, tricare):
    """Excel's UTF-8 CSV (BOM, CRLF, a trailing blank line) loads; the table is replaced."""
    text = (
        "\ufeff"
        + (
            HEADER + "64640,HOPD,facility,,900.00,2026-01-01,2026-06-30\n"
            "64640,HOPD,facility,,925.00,2026-07-01,\n"
            "64640,HOPD,professional,52,60.00,2026-01-01,\n"
            "0441T,HOPD,facility,,600.00,2026-01-01,\n"
        ).replace("\n", "\r\n")
        + "\r\n"
    )
    table = ok(load_fees(finance, tricare["id"], text))
    assert table["revision"] == 3
    assert [
        (r["code"], r["component"], r["modifier"], r["amount"], r["effective_from"],
         r["effective_to"])
        for r in table["items"]
    ] == [
        ("0441T", "facility", None, "600.00", "2026-01-01", None),
        ("64640", "facility", None, "900.00", "2026-01-01", "2026-06-30"),
        ("64640", "facility", None, "925.00", "2026-07-01", None),
        ("64640", "professional", "52", "60.00", "2026-01-01", None),
    ]  # fmt: skip
    payer = ok(finance.get(f"/api/v1/payers/{tricare['id']}"))
    assert (payer["fee_rows"], payer["revision"]) == (4, 3)


def test_loading_a_table_is_audited_with_its_row_counts(finance, tricare):
    """payer.create and payer.fees.replace, with who did it and the rows before and after."""
    ok(load_fees(finance, tricare["id"], HEADER + "64640,ASC,facility,,200.00,2026-01-01,\n"))
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "payer").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "payer.create",
        "payer.fees.replace",
        "payer.fees.replace",
    ]
    assert {e.actor_id for e in events} == {finance.user.id}
    assert events[-1].before == {"rows": 2}
    assert events[-1].after == {"rows": 1, "revision": 3}
    assert events[0].after["name"] == "TRICARE"
