"""The margin report's columns, each defined once: its SQL, its kind, and how files show it.

Every row of the report (a case, a group, or the totals) comes from a *source*: a query
whose columns are the grouping's keys and every figure that is not derived (the summed
figures and `supply_cost`, which comes from the ledger). Everything a user sees is then
worked out in SQL from that source by the lists below: the JSON report, the CSV text (the
same statement feeds PostgreSQL's COPY and SQLite's cursor) and the XLSX cells. Adding a
figure is one entry in FIGURES; `queries` sums it per group and every format follows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    func,
    literal,
    null,
    or_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from supply_app.cases.fees import PriceVersions, stale_condition
from supply_app.cases.models import ProcedureCase
from supply_app.cells import FORMULA_STARTS


class Kind(StrEnum):
    """What a column holds, which decides how each format shows it."""

    INTEGER = "integer"
    TEXT = "text"  # CSV cells are guarded against formula injection
    DATE = "date"
    MONEY = "money"  # integer cents in SQL; "903.63" in JSON and CSV; currency in XLSX
    PERCENT = "percent"  # integer hundredths of a percent in SQL; "79.42"; percent in XLSX
    FLAG = "flag"


@dataclass(frozen=True)
class Column:
    """One column of the report.

    Key columns and `supply_cost` are read from the source by name. A summed figure gives
    its per-case value (`summed(versions)`, the current schedule version of each year);
    a group sums it. A derived figure is worked out from the row's other figures.
    """

    name: str
    kind: Kind
    summed: Callable[[PriceVersions], Any] | None = None
    derived: Callable[[Figures], Any] | None = None
    # A group's sum stays NULL when every case's value is NULL; a key or derived figure
    # that may be NULL (a case naming no handpiece, a margin with no billed case).
    nullable: bool = False


def percent_of(part: Any, whole: Any) -> Any:
    """part / whole in hundredths of a percent, half away from zero; NULL when whole is 0.

    Integer arithmetic (2a·10000 + b) // 2b on absolute values, so both databases give the
    same answer to the last digit with no floating point.
    """
    a, b = func.abs(part), func.abs(whole)
    hundredths = (a * 20000 + b) // (b * 2)
    negative = or_(and_(part < 0, whole > 0), and_(part > 0, whole < 0))
    return case((whole == 0, null()), (negative, -hundredths), else_=hundredths)


KEY_COLUMNS: dict[str, tuple[Column, ...]] = {
    "case": (
        Column("case_id", Kind.INTEGER),
        Column("reference", Kind.TEXT),
        Column("date_of_service", Kind.DATE),
        Column("facility_id", Kind.INTEGER),
        Column("facility_code", Kind.TEXT),
        Column("site_of_service", Kind.TEXT),
        Column("code_mix", Kind.TEXT),
        Column("schedule_version", Kind.TEXT),
        Column("payer_id", Kind.INTEGER),
        Column("payer_name", Kind.TEXT),
        Column("handpiece_serial", Kind.TEXT, nullable=True),
    ),
    "facility": (Column("facility_id", Kind.INTEGER), Column("facility_code", Kind.TEXT)),
    "month": (Column("month", Kind.TEXT),),
    "site_of_service": (Column("site_of_service", Kind.TEXT),),
    "code_mix": (Column("code_mix", Kind.TEXT),),
    "payer": (Column("payer_id", Kind.INTEGER), Column("payer_name", Kind.TEXT)),
}

_c = ProcedureCase


def _billed(value: Any) -> Any:
    """A case's value when it is billed, else 0."""
    return case((_c.billed, value), else_=0)


def _when_billed(f: Figures, value: Any) -> Any:
    """A row's billed figure, NULL when it holds no billed case: never a loss of 0."""
    return case((f.billed_cases > 0, value), else_=null())


FIGURES: tuple[Column, ...] = (
    Column("cases", Kind.INTEGER, summed=lambda _v: literal(1, BigInteger)),
    Column("billed_cases", Kind.INTEGER, summed=lambda _v: _billed(literal(1, BigInteger))),
    Column("supply_cost", Kind.MONEY),  # from the ledger: the case's issues net of reversals
    Column("billed_supply_cost", Kind.MONEY),  # the same, of the billed cases only
    Column("equipment_cost", Kind.MONEY, summed=lambda _v: _c.equipment_cents),
    Column("billed_equipment_cost", Kind.MONEY, summed=lambda _v: _billed(_c.equipment_cents)),
    Column("expected_collection", Kind.MONEY, summed=lambda _v: _c.collection_cents),
    Column("facility_reimbursement", Kind.MONEY, summed=lambda _v: _c.facility_cents),
    Column("professional_reimbursement", Kind.MONEY, summed=lambda _v: _c.professional_cents),
    # NULL when no case in the row has a priced device: shown empty, never as $0.
    Column("device_reimbursement", Kind.MONEY, summed=lambda _v: _c.device_cents, nullable=True),
    Column("medicare_benchmark", Kind.MONEY, summed=lambda _v: _c.reimbursement_cents),
    # Billed cases only: a case that is not billed is a cost, never a loss against collections.
    Column(
        "margin",
        Kind.MONEY,
        derived=lambda f: _when_billed(f, f.expected_collection - f.billed_supply_cost),
        nullable=True,
    ),
    Column(
        "margin_pct", Kind.PERCENT, derived=lambda f: percent_of(f.margin, f.expected_collection)
    ),
    Column(
        "margin_after_equipment",
        Kind.MONEY,
        derived=lambda f: _when_billed(f, f.margin - f.billed_equipment_cost),
        nullable=True,
    ),
    Column(
        "not_billed_cost",
        Kind.MONEY,
        derived=lambda f: (
            f.supply_cost - f.billed_supply_cost + f.equipment_cost - f.billed_equipment_cost
        ),
    ),
    # An unpriced device or a contractor-priced code leaves the benchmark covering the priced
    # components only.
    Column("reimbursement_complete", Kind.FLAG, derived=lambda f: f.benchmark_unpriced_cases == 0),
    Column(
        "benchmark_unpriced_cases",
        Kind.INTEGER,
        summed=lambda _v: case((_c.reimbursement_complete, 0), else_=1),
    ),
    Column("device_unpriced", Kind.FLAG, derived=lambda f: f.device_unpriced_cases > 0),
    Column(
        "device_unpriced_cases",
        Kind.INTEGER,
        summed=lambda _v: case((_c.device_priced, 0), else_=1),
    ),
    # A payer's table that lacks a code leaves the collection covering the priced part.
    Column("collection_complete", Kind.FLAG, derived=lambda f: f.collection_unpriced_cases == 0),
    Column(
        "collection_unpriced_cases",
        Kind.INTEGER,
        summed=lambda _v: case((_c.collection_complete, 0), else_=1),
    ),
    Column("stale_price", Kind.FLAG, derived=lambda f: f.stale_price_cases > 0),
    Column(
        "stale_price_cases",
        Kind.INTEGER,
        summed=lambda versions: case((stale_condition(versions), 1), else_=0),
    ),
)
SUMMED = tuple(column for column in FIGURES if column.summed is not None)
#: What a spreadsheet's header row says of each column (files people read, not programs).
LABELS = {
    "case_id": "Case ID",
    "reference": "Case reference",
    "date_of_service": "Date of service",
    "facility_id": "Facility ID",
    "facility_code": "Facility",
    "site_of_service": "Site of service",
    "code_mix": "Codes billed",
    "schedule_version": "Fee schedule version",
    "payer_id": "Payer ID",
    "payer_name": "Payer",
    "handpiece_serial": "Handpiece serial",
    "month": "Month of service",
    "cases": "Cases",
    "billed_cases": "Billed cases",
    "supply_cost": "Supply cost",
    "billed_supply_cost": "Supply cost of billed cases",
    "equipment_cost": "Equipment cost",
    "billed_equipment_cost": "Equipment cost of billed cases",
    "expected_collection": "Expected collection",
    "facility_reimbursement": "Medicare facility payment",
    "professional_reimbursement": "Medicare professional payment",
    "device_reimbursement": "Device payment (C9809, by override)",
    "medicare_benchmark": "Medicare national benchmark",
    "margin": "Margin (billed cases)",
    "margin_pct": "Margin %",
    "margin_after_equipment": "Margin after equipment",
    "not_billed_cost": "Cost of cases not billed",
    "reimbursement_complete": "Benchmark complete",
    "benchmark_unpriced_cases": "Cases with a benchmark part unpriced",
    "device_unpriced": "Device not priced",
    "device_unpriced_cases": "Cases with the device not priced",
    "collection_complete": "Collection complete",
    "collection_unpriced_cases": "Cases with a collection part unpriced",
    "stale_price": "Stale: older schedule or payer terms",
    "stale_price_cases": "Cases to reprice",
}
_BY_NAME = {column.name: column for column in FIGURES}


class Figures:
    """A source's figures by name, derived ones worked out on demand (SQL expressions)."""

    def __init__(self, source: Any) -> None:
        self._source = source

    def __getattr__(self, name: str) -> Any:
        column = _BY_NAME[name]
        if column.derived is not None:
            return column.derived(self)
        return self._source.c[name]


def columns_for(group_by: Sequence[str]) -> tuple[Column, ...]:
    """Every column of a report grouped so, in order: the keys, then the figures."""
    keys: list[Column] = []
    for name in group_by:
        keys += [k for k in KEY_COLUMNS[name] if k.name not in {n.name for n in keys}]
    return (*keys, *FIGURES)


def value_of(column: Column, source: Any) -> Any:
    """A column's value in SQL over a source (its own type: cents, hundredths, booleans)."""
    if column.derived is not None:
        return column.derived(Figures(source))
    return source.c[column.name]


def typed(columns: Sequence[Column], source: Any) -> list[Any]:
    """The columns as SQL values, labelled with their names (for JSON and XLSX)."""
    return [value_of(column, source).label(column.name) for column in columns]


def as_text(columns: Sequence[Column], source: Any) -> list[Any]:
    """The columns as the CSV's text cells, labelled with their names."""
    return [
        text_cell(column.kind, value_of(column, source)).label(column.name) for column in columns
    ]


def as_sheet_cells(columns: Sequence[Column], source: Any) -> list[Any]:
    """The columns as XLSX cell values, labelled with their names."""
    return [
        sheet_cell(column.kind, value_of(column, source)).label(column.name) for column in columns
    ]


def labelled_total(columns: Sequence[Column], keys: int, figures: list[Any]) -> list[Any]:
    """A TOTAL row: 'TOTAL' under the first key, the other keys empty, then the figures."""
    labels = [literal("TOTAL", String).label(columns[0].name)]
    return labels + [null().label(column.name) for column in columns[1:keys]] + figures


class decimal_text(FunctionElement):
    """An integer count of 10^-PLACES as a decimal string: cents 12345 -> '123.45'."""

    type = String()
    inherit_cache = True
    PLACES = 2


class cents_text(decimal_text):
    """Integer cents (or hundredths of a percent) with two places: '-0.05', '903.63'."""

    inherit_cache = True


class fraction_text(decimal_text):
    """Hundredths of a percent as a fraction with four places: 7942 -> '0.7942'."""

    inherit_cache = True
    PLACES = 4


@compiles(decimal_text)
def _decimal_text_sqlite(element: decimal_text, compiler: Any, **kw: Any) -> str:
    x, unit = compiler.process(element.clauses, **kw), 10**element.PLACES
    return (
        f"CASE WHEN {x} IS NULL THEN NULL ELSE printf('%s%d.%0{element.PLACES}d', "
        f"CASE WHEN {x} < 0 THEN '-' ELSE '' END, abs({x}) / {unit}, abs({x}) % {unit}) END"
    )


@compiles(decimal_text, "postgresql")
def _decimal_text_pg(element: decimal_text, compiler: Any, **kw: Any) -> str:
    # An integer times numeric 0.01 (0.0001) has exactly two (four) decimal places.
    scale = f"0.{'0' * (element.PLACES - 1)}1"
    return f"CAST(({compiler.process(element.clauses, **kw)}) * {scale} AS TEXT)"


class excel_day(FunctionElement):
    """A date as Excel's day number (days since 1899-12-30), which a date format shows."""

    type = Integer()
    inherit_cache = True


@compiles(excel_day)
def _excel_day_sqlite(element: excel_day, compiler: Any, **kw: Any) -> str:
    # julianday('1899-12-30') is 2415018.5.
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2415018.5 AS INTEGER)"


@compiles(excel_day, "postgresql")
def _excel_day_pg(element: excel_day, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1899-12-30')"


class iso_date(FunctionElement):
    """A date column as 'YYYY-MM-DD' whatever the server's DateStyle."""

    type = String()
    inherit_cache = True


@compiles(iso_date)
def _iso_date_sqlite(element: iso_date, compiler: Any, **kw: Any) -> str:
    # SQLite keeps dates as ISO text already.
    return compiler.process(element.clauses, **kw)


@compiles(iso_date, "postgresql")
def _iso_date_pg(element: iso_date, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


def guarded(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    return case(
        (func.substr(value, 1, 1).in_(FORMULA_STARTS), literal("'", String) + value),
        else_=value,
    )


def text_cell(kind: Kind, value: Any) -> ColumnElement:
    """A value of a kind as CSV text ('903.63', '79.42', '2026-03-02', 'true'); NULL stays NULL.

    Text a spreadsheet could run as a formula gets its apostrophe.
    """
    if kind in (Kind.MONEY, Kind.PERCENT):
        return cents_text(value)
    if kind is Kind.DATE:
        return iso_date(value)
    if kind is Kind.FLAG:
        return case((value, "true"), else_="false")
    if kind is Kind.TEXT:
        return guarded(value)
    return value


def sheet_cell(kind: Kind, value: Any) -> ColumnElement:
    """A value of a kind as the text an XLSX cell holds: the number behind its format.

    Money '903.63' (currency), a percentage as its fraction '0.7942' (percent), a date as
    Excel's day number (date), a flag 1 or 0. Text is typed text in a workbook, never run
    as a formula, so it goes without the CSV's guard.
    """
    if kind is Kind.MONEY:
        return cents_text(value)
    if kind is Kind.PERCENT:
        return fraction_text(value)
    if kind is Kind.DATE:
        return excel_day(value)
    if kind is Kind.FLAG:
        return case((value, 1), else_=0)
    return value


def api_value(kind: Kind, value: Any) -> Any:
    """A database value of a kind as the API carries it (Money fields format cents)."""
    if value is None:
        return None
    if kind is Kind.PERCENT:
        return Decimal(int(value)).scaleb(-2)
    if kind is Kind.FLAG:
        return bool(value)
    if kind in (Kind.MONEY, Kind.INTEGER):
        return int(value)
    return value


def api_row(columns: Sequence[Column], row: Any) -> dict[str, Any]:
    """A typed result row as the API shows it."""
    return {
        column.name: api_value(column.kind, value)
        for column, value in zip(columns, row, strict=True)
    }
