"""Schemas for the ordering API: every number and string bounded, unknown fields refused."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from supply_app.http import (
    MAX_INT32,
    Money,
    PageArgs,
    bounded_int,
    bounded_str,
    format_cents,
    page_envelope,
)
from supply_app.ordering.models import MAX_PACKS, STATUSES

FUND_CODE = validate.Regexp(
    r"^[A-Z0-9]{2}$", error="A fund code is two capital letters or digits, e.g. 2F."
)
PRIORITY = validate.Regexp(
    r"^(0[1-9]|1[0-5])$", error="A priority designator is 01 to 15 (two digits)."
)
PART_NUMBER = validate.Regexp(r"^[A-Z0-9-]+$", error="Part numbers are capitals, digits, dashes.")


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class PriorityField(ma.fields.String):
    """A MILSTRIP priority designator: "01".."15" in JSON, an int 1..15 in Python."""

    def __init__(self, **kwargs: Any) -> None:
        # The pattern is documented, not passed as a validator: validators would see the int.
        super().__init__(metadata={"pattern": PRIORITY.regex.pattern}, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{int(value):02d}"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        # Validators run on the deserialised value, so check the text form here.
        text = super()._deserialize(value, attr, data, **kwargs)
        return int(PRIORITY(text))


class OrderHeaderIn(ma.Schema):
    """The DoD fields of an order."""

    fund_code = ma.fields.String(required=True, validate=FUND_CODE, pre_load=_upper)
    priority = PriorityField(required=True)
    required_delivery_date = ma.fields.Date(required=True)
    notes = bounded_str(1000, allow_none=True)


class OrderLineIn(ma.Schema):
    """Packs of one catalog part, named by id or by part number (exactly one)."""

    part_id = bounded_int(1, MAX_INT32)
    part_number = bounded_str(40, validate=PART_NUMBER, pre_load=_upper)
    packs = bounded_int(1, MAX_PACKS, required=True)

    @ma.validates_schema
    def _one_part_reference(self, data: dict, **kwargs: Any) -> None:
        if ("part_id" in data) == ("part_number" in data):
            raise ma.ValidationError("Give exactly one of part_id or part_number.", "part_id")


class OrderIn(OrderHeaderIn):
    """A new draft order for a facility, optionally with its lines."""

    facility_id = bounded_int(1, MAX_INT32, required=True)
    lines = ma.fields.List(
        ma.fields.Nested(OrderLineIn), load_default=list, validate=validate.Length(0, 50)
    )


class OrderPatch(ma.Schema):
    """Header fields of a draft that may be changed."""

    fund_code = ma.fields.String(validate=FUND_CODE, pre_load=_upper)
    priority = PriorityField()
    required_delivery_date = ma.fields.Date()
    notes = bounded_str(1000, allow_none=True)


class OrderLinePatch(ma.Schema):
    """The new pack count of a draft line."""

    packs = bounded_int(1, MAX_PACKS, required=True)


class OrderCancelIn(ma.Schema):
    """Why an order is cancelled."""

    reason = bounded_str(500, allow_none=True)


class OrderReceiptLineIn(ma.Schema):
    """Packs of an order line received as one lot: lot_number + expiry_date, or a GS1 scan.

    Which of the two was given is checked by the service, after the order is found, so a
    foreign order answers 404 whatever the body holds.
    """

    line_id = bounded_int(1, MAX_INT32, required=True)
    packs = bounded_int(1, MAX_PACKS, required=True)
    lot_number = bounded_str(40)
    expiry_date = ma.fields.Date()
    scan = bounded_str(200, metadata={"description": "A GS1 barcode (GTIN, lot, expiry)"})


class OrderReceiptIn(ma.Schema):
    """One delivery against an order."""

    lines = ma.fields.List(
        ma.fields.Nested(OrderReceiptLineIn), required=True, validate=validate.Length(1, 50)
    )
    note = bounded_str(500, allow_none=True)


class OrderUserRef(ma.Schema):
    """Who did a step."""

    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()


class OrderLineOut(ma.Schema):
    """An order line with packs, eaches and money."""

    id = ma.fields.Integer()
    part_id = ma.fields.Integer()
    part_number = ma.fields.String(attribute="part.part_number")
    description = ma.fields.String(attribute="part.description")
    unit_of_issue = ma.fields.String(attribute="part.unit_of_issue")
    units_per_pack = ma.fields.Integer()
    packs = ma.fields.Integer()
    eaches = ma.fields.Method("_eaches")
    received_packs = ma.fields.Integer()
    outstanding_packs = ma.fields.Integer()
    unit_price = Money(attribute="unit_price_cents", allow_none=True)
    extended_price = Money(attribute="extended_cents", allow_none=True)

    def _eaches(self, line: Any) -> int:
        return line.packs * line.units_per_pack


class OrderOut(ma.Schema):
    """An order with its DoD fields, lines, totals and who did each step when."""

    id = ma.fields.Integer()
    facility_id = ma.fields.Integer()
    facility_code = ma.fields.String(attribute="facility.code")
    contract_number = ma.fields.String()
    status = ma.fields.String()
    document_number = ma.fields.String(allow_none=True)
    ship_to_dodaac = ma.fields.String(allow_none=True)
    fund_code = ma.fields.String()
    priority = PriorityField()
    required_delivery_date = ma.fields.Date()
    notes = ma.fields.String(allow_none=True)
    total = Money(attribute="total_cents", allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(OrderLineOut))
    created_by = ma.fields.Nested(OrderUserRef)
    created_at = ma.fields.DateTime()
    submitted_by = ma.fields.Nested(OrderUserRef, allow_none=True)
    submitted_at = ma.fields.DateTime(allow_none=True)
    approved_by = ma.fields.Nested(OrderUserRef, allow_none=True)
    approved_at = ma.fields.DateTime(allow_none=True)
    cancelled_by = ma.fields.Nested(OrderUserRef, allow_none=True)
    cancelled_at = ma.fields.DateTime(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    received_at = ma.fields.DateTime(allow_none=True)


class OrderQuery(PageArgs):
    """Filters for the order list."""

    facility_id = bounded_int(1, MAX_INT32, strict=False)
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    created_from = ma.fields.Date()
    created_to = ma.fields.Date()


OrderPage = page_envelope(OrderOut, "OrderPage")


class OrderReceiptLineOut(ma.Schema):
    """Packs of one line received as one lot."""

    id = ma.fields.Integer()
    order_line_id = ma.fields.Integer()
    part_number = ma.fields.String(attribute="order_line.part.part_number")
    packs = ma.fields.Integer()
    eaches = ma.fields.Integer()
    lot_number = ma.fields.String()
    expiry_date = ma.fields.Date()
    value = Money(attribute="value_cents")
    movement_id = ma.fields.Integer()


class OrderReceiptOut(ma.Schema):
    """A delivery received against an order, with the order's status after it."""

    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    order_status = ma.fields.String(attribute="order.status")
    received_by = ma.fields.Nested(OrderUserRef)
    received_at = ma.fields.DateTime()
    note = ma.fields.String(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(OrderReceiptLineOut))
    value = ma.fields.Method("_value")

    def _value(self, receipt: Any) -> str:
        return format_cents(sum(line.value_cents for line in receipt.lines))


class OrderReceiptList(ma.Schema):
    """Every receipt of an order, oldest first."""

    items = ma.fields.List(ma.fields.Nested(OrderReceiptOut))


class EcatLineOut(ma.Schema):
    """One ECAT order-entry row."""

    contract_number = ma.fields.String()
    document_number = ma.fields.String()
    ship_to_dodaac = ma.fields.String()
    fund_code = ma.fields.String()
    priority = ma.fields.String()
    required_delivery_date = ma.fields.String()
    line_number = ma.fields.Integer()
    part_number = ma.fields.String()
    description = ma.fields.String()
    unit_of_issue = ma.fields.String()
    units_per_pack = ma.fields.Integer()
    quantity = ma.fields.Integer()
    unit_price = ma.fields.String()
    extended_price = ma.fields.String()


class EcatOut(ma.Schema):
    """The ECAT export as JSON: the same rows as the CSV, plus the header and total."""

    contract_number = ma.fields.String()
    document_number = ma.fields.String()
    ship_to_dodaac = ma.fields.String()
    fund_code = ma.fields.String()
    priority = ma.fields.String()
    required_delivery_date = ma.fields.String()
    lines = ma.fields.List(ma.fields.Nested(EcatLineOut))
    total = ma.fields.String()


class ReorderSuggestionOut(ma.Schema):
    """A reorder suggestion for one part and the figures behind it (eaches unless packs)."""

    part_id = ma.fields.Integer(attribute="part.id")
    part_number = ma.fields.String(attribute="part.part_number")
    description = ma.fields.String(attribute="part.description")
    units_per_pack = ma.fields.Integer(attribute="part.units_per_pack")
    par_min = ma.fields.Integer()
    par_max = ma.fields.Integer()
    on_hand = ma.fields.Integer(metadata={"description": "Unexpired eaches on the shelf"})
    on_order = ma.fields.Integer(metadata={"description": "Unreceived eaches on open orders"})
    issued_in_window = ma.fields.Integer()
    window_days = ma.fields.Integer()
    burn_rate_per_day = ma.fields.Decimal(as_string=True, metadata={"type": "string"})
    lead_time_days = ma.fields.Integer()
    lead_time_demand = ma.fields.Integer()
    projected = ma.fields.Integer(metadata={"description": "on_hand + on_order - demand"})
    packs = ma.fields.Integer()
    eaches = ma.fields.Integer()
    unit_price = Money(attribute="unit_price_cents", allow_none=True)
    estimated_cost = Money(attribute="estimated_cents", allow_none=True)
    reason = ma.fields.String()


class ReorderSuggestionList(ma.Schema):
    """Every par-level part of a facility, with what to order (bounded by the catalog)."""

    facility_id = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(ReorderSuggestionOut))


class DraftFromSuggestionsIn(OrderHeaderIn):
    """The DoD fields of the draft, and optionally which suggested parts to include."""

    part_ids = ma.fields.List(bounded_int(1, MAX_INT32), validate=validate.Length(1, 100))
