"""Marshmallow schemas for the catalog file and the catalog API."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from marshmallow import validate

from supply_app.catalog.models import CATEGORIES
from supply_app.http import Money, PageArgs, bounded_int, bounded_str, page_envelope

GTIN_PATTERN = r"^\d{8}$|^\d{12,14}$"


class CatalogGtinIn(ma.Schema):
    """A GTIN printed on a part's packaging, as listed in the catalog file."""

    gtin = ma.fields.String(required=True, validate=validate.Regexp(GTIN_PATTERN))
    units = bounded_int(1, 1000, required=True)


class CatalogPartIn(ma.Schema):
    """One part record of catalog/ecat_parts.json."""

    part_number = bounded_str(40, required=True, validate=validate.Regexp(r"^[A-Z0-9-]+$"))
    generation = bounded_str(20, required=True)
    description = bounded_str(300, required=True)
    category = ma.fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    units_per_pack = bounded_int(1, 1000, required=True)
    unit_of_issue = ma.fields.String(required=True, validate=validate.OneOf(("EA", "PK", "BX")))
    tip_spec = bounded_str(100, required=True, allow_none=True)
    nerve_stimulation = ma.fields.Boolean(required=True)
    contract_number = bounded_str(30, required=True)
    contract_vehicle = bounded_str(20, required=True)
    gtins = ma.fields.List(ma.fields.Nested(CatalogGtinIn), required=True)


class CatalogFileIn(ma.Schema):
    """The whole catalog file."""

    contract_number = bounded_str(30, required=True)
    contract_vehicle = bounded_str(20, required=True)
    source = bounded_str(500, required=True)
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

    q = bounded_str(100, metadata={"description": "Text in the part number or description"})
    category = ma.fields.String(validate=validate.OneOf(CATEGORIES))


PartPage = page_envelope(PartOut, "PartPage")


class ContractPriceIn(ma.Schema):
    """A new contract price for one pack (unit of issue) of a part."""

    part_id = bounded_int(required=True)
    unit_price = Money(required=True, metadata={"description": "Price per unit of issue"})
    effective_from = ma.fields.Date(required=True)
    effective_to = ma.fields.Date(allow_none=True, load_default=None)
    note = bounded_str(200, allow_none=True, load_default=None)

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

    part_id = bounded_int(strict=False)
    on = ma.fields.Date(metadata={"description": "Only the price in effect on this date"})


ContractPricePage = page_envelope(ContractPriceOut, "ContractPricePage")
