"""Marshmallow schemas for the catalog file and the catalog API."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from marshmallow import validate

from supply_app.catalog import rules
from supply_app.fields import Money, id_field, query_id, rule_field
from supply_app.http import PageArgs, page_envelope
from supply_app.money import PRICE


class CatalogGtinIn(ma.Schema):
    """A GTIN printed on a part's packaging, as listed in the catalog file."""

    gtin = rule_field(rules.GTIN, required=True)
    units = rule_field(rules.UNITS_PER_PACK, required=True)


class CatalogPartIn(ma.Schema):
    """One part record of catalog/ecat_parts.json."""

    part_number = rule_field(rules.PART_NUMBER, required=True)
    generation = rule_field(rules.GENERATION, required=True)
    description = rule_field(rules.DESCRIPTION, required=True)
    category = rule_field(rules.CATEGORY, required=True)
    units_per_pack = rule_field(rules.UNITS_PER_PACK, required=True)
    unit_of_issue = rule_field(rules.UNIT_OF_ISSUE, required=True)
    tip_spec = rule_field(rules.TIP_SPEC, required=True, allow_none=True)
    nerve_stimulation = ma.fields.Boolean(required=True)
    contract_number = rule_field(rules.CONTRACT_NUMBER, required=True)
    contract_vehicle = rule_field(rules.CONTRACT_VEHICLE, required=True)
    gtins = ma.fields.List(ma.fields.Nested(CatalogGtinIn), required=True)


class CatalogFileIn(ma.Schema):
    """The whole catalog file."""

    contract_number = rule_field(rules.CONTRACT_NUMBER, required=True)
    contract_vehicle = rule_field(rules.CONTRACT_VEHICLE, required=True)
    source = rule_field(rules.SOURCE, required=True)
    parts = ma.fields.List(ma.fields.Dict(), required=True, validate=validate.Length(1, 500))


class GtinOut(ma.Schema):
    """A GTIN mapped to a part."""

    gtin = ma.fields.String()
    units = ma.fields.Integer()


class PartOut(ma.Schema):
    """A catalog part as the API shows it."""

    id = ma.fields.Integer()
    part_number = ma.fields.String()
    generation = ma.fields.String()
    description = ma.fields.String()
    category = ma.fields.String()
    units_per_pack = ma.fields.Integer()
    unit_of_issue = ma.fields.String()
    tip_spec = ma.fields.String(allow_none=True)
    nerve_stimulation = ma.fields.Boolean()
    contract_number = ma.fields.String()
    contract_vehicle = ma.fields.String()
    active = ma.fields.Boolean()
    gtins = ma.fields.List(ma.fields.Nested(GtinOut))


class PartQuery(PageArgs):
    """Filters and paging for the parts list."""

    q = rule_field(rules.SEARCH, metadata={"description": "Text in the part number or description"})
    category = rule_field(rules.CATEGORY)


PartPage = page_envelope(PartOut, "PartPage")


class ContractPriceIn(ma.Schema):
    """A new contract price for one pack (unit of issue) of a part."""

    part_id = id_field(required=True)
    unit_price = Money(PRICE, required=True, metadata={"description": "Price per unit of issue"})
    effective_from = rule_field(rules.PRICE_DATE, required=True)
    effective_to = rule_field(rules.PRICE_DATE, allow_none=True, load_default=None)
    note = rule_field(rules.PRICE_NOTE, allow_none=True, load_default=None)

    @ma.validates_schema
    def check_dates(self, data: dict, **_kwargs: object) -> None:
        """End date may not precede the start date."""
        end = data.get("effective_to")
        if end is not None and end < data["effective_from"]:
            raise ma.ValidationError(
                "effective_to must be on or after effective_from.", "effective_to"
            )
        if data.get("unit_price") == 0:
            raise ma.ValidationError("A contract price must be above zero.", "unit_price")


class ContractPriceOut(ma.Schema):
    """A contract price with its validity."""

    id = ma.fields.Integer()
    part_id = ma.fields.Integer()
    part_number = ma.fields.Function(lambda price: price.part.part_number)
    unit_price = Money(attribute="unit_price_cents")
    unit_price_per_each = ma.fields.Function(
        lambda price: str(
            (Decimal(price.unit_price_cents) / 100 / price.part.units_per_pack).quantize(
                Decimal("0.0001")
            )
        ),
        metadata={"description": "Pack price divided by eaches per pack (display only)"},
    )
    effective_from = ma.fields.Date()
    effective_to = ma.fields.Date(allow_none=True)
    note = ma.fields.String(allow_none=True)


class ContractPriceQuery(PageArgs):
    """Filters for contract prices."""

    part_id = query_id()
    on = rule_field(
        rules.PRICE_DATE, metadata={"description": "Only the price in effect on this date"}
    )


ContractPricePage = page_envelope(ContractPriceOut, "ContractPricePage")
