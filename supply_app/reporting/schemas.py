"""Schemas for the margin report and the lot trace."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate
from webargs.fields import DelimitedList

from supply_app.cases.rules import DATE_OF_SERVICE, PROCEDURE_CODE
from supply_app.facilities.rules import SITE_OF_SERVICE
from supply_app.fields import Money, query_id, rule_field
from supply_app.http import PageArgs, PageMeta, page_envelope
from supply_app.inventory.rules import LOT_NUMBER
from supply_app.reporting.columns import FIGURES, KEY_COLUMNS, Column, Kind
from supply_app.reporting.rules import EXPORT_FORMAT, GROUPING


class MarginQuery(PageArgs):
    """Filters and grouping of the margin report."""

    facility_id = query_id()
    date_from = rule_field(DATE_OF_SERVICE)
    date_to = rule_field(DATE_OF_SERVICE)
    site_of_service = rule_field(SITE_OF_SERVICE)
    code = rule_field(PROCEDURE_CODE)
    payer_id = query_id()
    billed = ma.fields.Boolean(metadata={"description": "Billed cases only (true) or not (false)"})
    group_by = DelimitedList(
        rule_field(GROUPING),
        load_default=lambda: ["case"],
        validate=validate.Length(1, len(GROUPING.values)),
    )

    @ma.validates_schema
    def sane(self, data: dict, **_kwargs: object) -> None:
        """Dates in order; 'case' stands alone; no grouping twice."""
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ma.ValidationError("date_to must be on or after date_from.", "date_to")
        group_by = data.get("group_by", ["case"])
        if len(set(group_by)) != len(group_by):
            raise ma.ValidationError("Name each grouping once.", "group_by")
        if "case" in group_by and len(group_by) > 1:
            raise ma.ValidationError("'case' cannot be combined with other groupings.", "group_by")


class ExportQuery(MarginQuery):
    """The margin report as a file."""

    format = rule_field(EXPORT_FORMAT, required=True)


def report_field(column: Column) -> ma.fields.Field:
    """A report column's API field: money and percentages as decimal strings."""
    if column.kind is Kind.MONEY:
        return Money(allow_none=column.nullable)
    if column.kind is Kind.PERCENT:  # None when there is no reimbursement to divide by
        return ma.fields.Decimal(
            as_string=True, allow_none=True, metadata={"type": "string", "example": "79.42"}
        )
    if column.kind is Kind.FLAG:
        return ma.fields.Boolean()
    if column.kind is Kind.DATE:
        return ma.fields.Date()
    if column.kind is Kind.INTEGER:
        return ma.fields.Integer(allow_none=column.nullable)
    return ma.fields.String(allow_none=column.nullable)


# Both come from the column list, so a new figure reaches the API (and its spec) as it
# reaches the files. A row carries the keys of its grouping only.
_FIGURE_FIELDS = {column.name: report_field(column) for column in FIGURES}
_KEY_FIELDS = {
    column.name: report_field(column) for keys in KEY_COLUMNS.values() for column in keys
}
MarginFigures = ma.Schema.from_dict(_FIGURE_FIELDS, name="MarginFigures")
MarginRow = ma.Schema.from_dict({**_KEY_FIELDS, **_FIGURE_FIELDS}, name="MarginRow")


class MarginReport(ma.Schema):
    """A page of report rows with totals over every case in the filter."""

    group_by = ma.fields.List(ma.fields.String())
    items = ma.fields.List(ma.fields.Nested(MarginRow))
    totals = ma.fields.Nested(MarginFigures)
    meta = ma.fields.Nested(PageMeta)


class TracedLot(ma.Schema):
    """The lot traced."""

    id = ma.fields.Integer()
    part_id = ma.fields.Integer()
    lot_number = ma.fields.String()
    expiry_date = ma.fields.Date()
    serial = ma.fields.String(allow_none=True)
    batch = ma.fields.String(
        allow_none=True, metadata={"description": "A serialised unit's batch (AI 10)."}
    )


class TraceHolding(ma.Schema):
    """A facility holding the lot."""

    facility_id = ma.fields.Integer()
    facility_code = ma.fields.String()
    facility_name = ma.fields.String()
    on_hand = ma.fields.Integer()


class TracedCase(ma.Schema):
    """A case that used the lot."""

    case_id = ma.fields.Integer()
    reference = ma.fields.String()
    facility_id = ma.fields.Integer()
    facility_code = ma.fields.String()
    date_of_service = ma.fields.Date()
    status = ma.fields.String()
    lot_id = ma.fields.Integer()
    eaches = ma.fields.Integer()
    used_as = ma.fields.String(
        metadata={"description": "supply (eaches used) or handpiece (the device the case names)"}
    )


class LotTrace(ma.Schema):
    """Who holds a lot and which cases used it (recall support)."""

    lot = ma.fields.Nested(TracedLot)
    part_number = ma.fields.Function(lambda trace: trace["lot"].part.part_number)
    holdings = ma.fields.List(ma.fields.Nested(TraceHolding))
    cases = ma.fields.List(ma.fields.Nested(TracedCase))


class RecallQuery(PageArgs):
    """Which lots a recall names: a lot (or batch) number, optionally of one part."""

    lot_number = rule_field(LOT_NUMBER, required=True)
    part_id = query_id()


LotTracePage = page_envelope(LotTrace, "LotTracePage")
