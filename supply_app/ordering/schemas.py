"""Schemas for the ordering API: every number and string bounded, unknown fields refused."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from supply_app.catalog.rules import PART_NUMBER
from supply_app.fields import Money, id_field, query_id, rule_field
from supply_app.http import PageArgs, page_envelope
from supply_app.inventory.rules import EXPIRY_DATE, LOT_NUMBER, SCAN
from supply_app.money import format_cents
from supply_app.ordering import rules
from supply_app.rules import RuleBroken


class PriorityField(ma.fields.String):
    """A MILSTRIP priority designator: "01".."15" in JSON, an int 1..15 in Python."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"enum": list(rules.PRIORITY.values)}, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else f"{int(value):02d}"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return int(rules.PRIORITY.clean(value))
        except RuleBroken as exc:
            raise ma.ValidationError(str(exc)) from exc


class OrderHeaderIn(ma.Schema):
    """The DoD fields of an order."""

    fund_code = rule_field(rules.FUND_CODE, required=True)
    priority = PriorityField(required=True)
    required_delivery_date = rule_field(rules.DELIVERY_DATE, required=True)
    notes = rule_field(rules.ORDER_NOTES, allow_none=True)


class OrderLineIn(ma.Schema):
    """Packs of one catalog part, named by id or by part number (exactly one)."""

    part_id = id_field()
    part_number = rule_field(PART_NUMBER)
    packs = rule_field(rules.PACKS, required=True)

    @ma.validates_schema
    def _one_part_reference(self, data: dict, **kwargs: Any) -> None:
        if ("part_id" in data) == ("part_number" in data):
            raise ma.ValidationError("Give exactly one of part_id or part_number.", "part_id")


class OrderIn(OrderHeaderIn):
    """A new draft order for a facility, optionally with its lines."""

    facility_id = id_field(required=True)
    lines = ma.fields.List(
        ma.fields.Nested(OrderLineIn), load_default=list, validate=validate.Length(0, 50)
    )


class OrderPatch(ma.Schema):
    """Header fields of a draft that may be changed."""

    fund_code = rule_field(rules.FUND_CODE)
    priority = PriorityField()
    required_delivery_date = rule_field(rules.DELIVERY_DATE)
    notes = rule_field(rules.ORDER_NOTES, allow_none=True)


class OrderLinePatch(ma.Schema):
    """The new pack count of a draft line."""

    packs = rule_field(rules.PACKS, required=True)


class OrderCancelIn(ma.Schema):
    """Why an order is cancelled."""

    reason = rule_field(rules.CANCEL_REASON, allow_none=True)


class OrderReceiptLineIn(ma.Schema):
    """Packs of an order line received as one lot: lot_number + expiry_date, a GS1 scan, or
    both (they must agree).

    What was given is checked by the service, after the order is found, so a foreign order
    answers 404 whatever the body holds.
    """

    line_id = id_field(required=True)
    packs = rule_field(rules.PACKS, required=True)
    lot_number = rule_field(LOT_NUMBER)
    expiry_date = rule_field(EXPIRY_DATE)
    scan = rule_field(SCAN, metadata={"description": "A GS1 barcode (GTIN, lot, expiry)"})


class OrderReceiptIn(ma.Schema):
    """One delivery against an order."""

    lines = ma.fields.List(
        ma.fields.Nested(OrderReceiptLineIn), required=True, validate=validate.Length(1, 50)
    )
    note = rule_field(rules.RECEIPT_NOTE, allow_none=True)


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

    facility_id = query_id()
    status = rule_field(rules.ORDER_STATUS)
    created_from = rule_field(rules.CREATED_DATE, metadata={"description": "UTC date"})
    created_to = rule_field(rules.CREATED_DATE, metadata={"description": "UTC date"})


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
    undone = ma.fields.Function(
        lambda line: line.undone, metadata={"type": "boolean", "description": "Undone since"}
    )


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

    part_ids = ma.fields.List(id_field(), validate=validate.Length(1, 100))
