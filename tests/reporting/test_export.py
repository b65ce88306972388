"""Margin exports: the same text on both databases, a TOTAL row that proves the file whole,
XLSX with number formats, Excel's row limit, one snapshot, and the SQL text helpers."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from sqlalchemy import BigInteger, Date, cast, literal, select, update
from werkzeug.test import EnvironBuilder

from supply_app.cases.models import ProcedureCase
from supply_app.extensions import db
from supply_app.money import format_cents
from supply_app.reporting import api as reporting_api
from supply_app.reporting import export
from supply_app.reporting.columns import (
    FIGURES,
    LABELS,
    cents_text,
    columns_for,
    excel_day,
    fraction_text,
    percent_of,
)
from tests.support.cases import case_body
from tests.support.web import sign_in

EXPORT = "/api/v1/reports/case-margin/export"
DB_INTS = st.integers(min_value=-(10**12), max_value=10**12)


def _text(value: object) -> str:
    """A JSON report value as the CSV writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _expected_csv(report: dict, group_by: list[str]) -> str:
    """The CSV the JSON report implies: header, its rows, its TOTAL row."""
    names = [column.name for column in columns_for(group_by)]
    keys = len(names) - len(FIGURES)
    lines = [names]
    lines += [[_text(row[name]) for name in names] for row in report["items"]]
    totals = report["totals"]
    lines.append(["TOTAL", *[""] * (keys - 1), *[_text(totals[n]) for n in names[keys:]]])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(lines)
    return out.getvalue()


@pytest.mark.parametrize("group_by", ["case", "facility,month", "code_mix"])
def test_csv_export_is_the_json_report_as_text(world, group_by):
    """Every row and the TOTAL row carry exactly the JSON figures, as the same text."""
    finance = world["finance"]
    report = finance.get(f"/api/v1/reports/case-margin?group_by={group_by}&per_page=100").json
    response = finance.get(f"{EXPORT}?group_by={group_by}&format=csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    # A byte-order mark first, so Excel reads the file as UTF-8 (iovera°, not ioveraÂ°).
    assert text == "\ufeff" + _expected_csv(report, group_by.split(","))
    assert response.headers["X-Export-Rows"] == str(len(report["items"]))
    assert response.headers["Cache-Control"] == "no-store"
    assert export.check_csv(text) is None


def test_a_cut_anywhere_in_the_csv_is_detected(world):
    """Cut after any byte (between rows, inside a row, inside the TOTAL row): not whole."""
    text = world["finance"].get(f"{EXPORT}?format=csv").get_data(as_text=True)
    assert export.check_csv(text) is None
    for cut in range(len(text)):
        assert export.check_csv(text[:cut]) is not None, repr(text[:cut][-40:])


def test_a_total_that_disagrees_with_its_rows_is_detected(world):
    """A TOTAL row whose figures are not the rows' sums means rows are missing."""
    text = world["finance"].get(f"{EXPORT}?format=csv").get_data(as_text=True)
    *lines, total = text.splitlines(keepends=True)
    without_a_row = "".join([lines[0], *lines[2:], total])
    assert "the rows add up to" in export.check_csv(without_a_row)


def test_csv_text_cells_never_start_a_formula(world, app):
    """Text a spreadsheet would run gets an apostrophe in the CSV; XLSX keeps it as text."""
    hostile = ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx"]
    ids = [case["id"] for case in world["cases"]][: len(hostile)]
    # Validation never lets such a reference in; rows written some other way still export safely.
    for case_id, reference in zip(ids, hostile, strict=False):
        db.session.execute(
            update(ProcedureCase).where(ProcedureCase.id == case_id).values(reference=reference)
        )
    db.session.execute(update(ProcedureCase).values(code_mix="=cmd|' /C calc'!A0"))
    db.session.commit()
    finance = world["finance"]
    rows = list(csv.DictReader(io.StringIO(finance.get(f"{EXPORT}?format=csv").text)))
    assert {row["reference"] for row in rows[:-1]} == {"'=HYPERLINK(1)", "'+1", "'-2"}
    assert {row["code_mix"] for row in rows[:-1]} == {"'=cmd|' /C calc'!A0"}
    sheet = openpyxl.load_workbook(io.BytesIO(finance.get(f"{EXPORT}?format=xlsx").data)).active
    assert {sheet.cell(row=r, column=2).value for r in (2, 3, 4)} == {"=HYPERLINK(1)", "+1", "-2"}
    assert all(sheet.cell(row=r, column=2).data_type == "s" for r in (2, 3, 4))


def test_xlsx_has_the_figures_as_numbers_with_currency_percent_and_date_formats(world):
    """Money is currency, margin % a percent, dates dates; the header is frozen; TOTAL last."""
    finance = world["finance"]
    report = finance.get("/api/v1/reports/case-margin?group_by=case").json
    response = finance.get(f"{EXPORT}?format=xlsx")
    assert response.status_code == 200
    assert response.headers["X-Export-Rows"] == "3"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet.freeze_panes == "A2"
    columns = columns_for(["case"])
    # Readable headers, wide enough to read; a filter on the header over the data rows only.
    assert [cell.value for cell in sheet[1]] == [LABELS[column.name] for column in columns]
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(columns))}4"
    assert all(
        sheet.column_dimensions[get_column_letter(i)].width >= len(LABELS[column.name])
        for i, column in enumerate(columns, start=1)
    )
    header = [column.name for column in columns]
    for want, cells in zip(report["items"], sheet.iter_rows(min_row=2, max_row=4), strict=True):
        got = dict(zip(header, cells, strict=True))
        assert got["date_of_service"].value.date().isoformat() == want["date_of_service"]
        assert got["date_of_service"].number_format == "yyyy\\-mm\\-dd"
        for name in ("supply_cost", "margin", "medicare_benchmark"):
            assert Decimal(str(got[name].value)).quantize(Decimal("0.01")) == Decimal(want[name])
            assert got[name].number_format == '"$"#,##0.00'
        assert Decimal(str(got["margin_pct"].value)) * 100 == Decimal(want["margin_pct"])
        assert got["margin_pct"].number_format == "0.00%"
        assert got["reimbursement_complete"].value is True
        assert got["cases"].value == 1
    total = dict(zip(header, (cell.value for cell in sheet[5]), strict=True))
    assert total["case_id"] == "TOTAL"
    assert Decimal(str(total["margin"])).quantize(Decimal("0.01")) == Decimal(
        report["totals"]["margin"]
    )
    assert sheet.max_row == 5


def test_xlsx_over_excels_rows_is_refused_before_any_byte(world, app, monkeypatch):
    """An XLSX export with more rows than a sheet holds is a 422 naming the way out."""
    monkeypatch.setattr(export, "XLSX_DATA_ROWS", 2)
    finance = world["finance"]
    response = finance.get(f"{EXPORT}?format=xlsx")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["type"] == "/problems/too-many-rows-for-xlsx"
    assert (problem["rows"], problem["limit"]) == (3, 2)
    assert "CSV" in problem["detail"]
    assert finance.get(f"{EXPORT}?format=xlsx&site_of_service=HOPD").status_code == 200
    assert finance.get(f"{EXPORT}?format=csv").status_code == 200
    page = sign_in(app, "finance", all_facilities=True).get("/reports/margin.xlsx")
    assert page.status_code == 422
    assert "Download it as CSV" in page.get_data(as_text=True)


def test_an_export_reads_one_snapshot_while_cases_are_recorded(world):
    """A case recorded mid-download is not in that file, and its TOTAL still adds up."""
    finance, clinician = world["finance"], world["clinician"]
    response = finance.get(f"{EXPORT}?format=csv", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)  # the header: the export has counted its rows, nothing more
    recorded = clinician.post("/api/v1/cases", json=case_body(world["hopd"], "LATE-1"))
    assert recorded.status_code == 201, recorded.json
    text = (first + b"".join(chunks)).decode()
    response.close()
    assert response.headers["X-Export-Rows"] == "3"
    assert export.check_csv(text) is None
    assert "LATE-1" not in text
    cases_at = [column.name for column in columns_for(["case"])].index("cases")
    assert text.splitlines()[-1].split(",")[cases_at] == "3"
    after = finance.get(f"{EXPORT}?format=csv").get_data(as_text=True)
    assert "LATE-1" in after
    assert export.check_csv(after) is None


def test_an_export_nobody_reads_gives_its_connection_back(world, app, monkeypatch):
    """A server that closes the response before sending a byte still ends the export."""
    opened = []

    def recording(*args, **kwargs):
        opened.append(export.open_export(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(reporting_api, "open_export", recording)
    environ = EnvironBuilder(
        path=EXPORT, query_string="format=csv", headers=world["finance"].headers()
    ).get_environ()
    body = app.wsgi_app(environ, lambda status, headers, exc_info=None: None)
    assert not opened[0].closed
    body.close()  # what a WSGI server does when the client has gone
    assert opened[0].closed


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(part=DB_INTS, whole=DB_INTS)
def test_margin_percent_is_exact_and_rounds_half_away_from_zero(app, part, whole):
    """SQL's integer percent equals Decimal's ROUND_HALF_UP on both databases."""
    got = db.session.scalar(
        select(percent_of(cast(literal(part), BigInteger), cast(literal(whole), BigInteger)))
    )
    if whole == 0:
        assert got is None
    else:
        exact = Decimal(part) * 100 / Decimal(whole)
        assert Decimal(got).scaleb(-2) == exact.quantize(Decimal("0.01"), ROUND_HALF_UP)


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [(1, 20000, "0.01"), (-1, 20000, "-0.01"), (1, -20000, "-0.01"), (1, 3, "33.33"),
     (2, 3, "66.67"), (0, 7, "0.00"), (3, 20000, "0.02"), (-3, -20000, "0.02")],
)  # fmt: skip
def test_margin_percent_ties(app, part, whole, shown):
    """0.005% rounds to 0.01% (not to the even 0.00%), and signs follow the quotient."""
    value = select(cents_text(percent_of(cast(literal(part), BigInteger), whole)))
    assert db.session.scalar(value) == shown


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cents=DB_INTS, day=st.dates(date(1900, 3, 1), date(2199, 12, 31)))
def test_sql_cell_text_matches_python(app, cents, day):
    """Money text, percent fractions and Excel day numbers agree with Python's, per database."""
    number = cast(literal(cents), BigInteger)
    money, fraction, serial = db.session.execute(
        select(cents_text(number), fraction_text(number), excel_day(literal(day, Date)))
    ).one()
    assert money == format_cents(cents)
    assert Decimal(fraction) == Decimal(cents).scaleb(-4)
    assert len(fraction.partition(".")[2]) == 4
    assert int(serial) == (day - date(1899, 12, 30)).days
    assert date(1899, 12, 30) + timedelta(days=int(serial)) == day


def test_an_export_of_no_cases_is_a_header_and_a_zero_total(world):
    """Filters that match nothing still give a whole file: the header, then TOTAL of zeros."""
    finance = world["finance"]
    response = finance.get(f"{EXPORT}?format=csv&date_from=2030-01-01")
    text = response.get_data(as_text=True)
    assert response.headers["X-Export-Rows"] == "0"
    assert export.check_csv(text) is None
    header, total = text.splitlines()
    assert dict(zip(header.split(","), total.split(","), strict=True))["cases"] == "0"
    response = finance.get(f"{EXPORT}?format=xlsx&date_from=2030-01-01&group_by=month")
    rows = list(openpyxl.load_workbook(io.BytesIO(response.data)).active.values)
    assert [row[0] for row in rows] == ["Month of service", "TOTAL"]
