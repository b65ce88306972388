"""Schemas for the facilities API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from supply_app.facilities.models import CF_TRACKS, SITES_OF_SERVICE
from supply_app.http import PageArgs, bounded_int, bounded_str, page_envelope

DODAAC = validate.Regexp(
    r"^[A-Z0-9]{6}$", error="A DoDAAC is exactly six capital letters or digits, e.g. W81XWH."
)
FACILITY_CODE = validate.Regexp(
    r"^[A-Z0-9][A-Z0-9-]{1,19}$",
    error="A facility code is 2-20 capital letters, digits or dashes.",
)


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


class FacilityIn(ma.Schema):
    """A new facility."""

    code = ma.fields.String(required=True, validate=FACILITY_CODE, pre_load=_upper)
    name = bounded_str(200, required=True)
    site_of_service = ma.fields.String(required=True, validate=validate.OneOf(SITES_OF_SERVICE))
    dodaac = ma.fields.String(required=True, validate=DODAAC, pre_load=_upper)
    ship_to_address = bounded_str(500, required=True)
    cf_track = ma.fields.String(load_default="non_qualifying", validate=validate.OneOf(CF_TRACKS))
    expiry_window_days = bounded_int(1, 730, load_default=60)
    lead_time_days = bounded_int(0, 365, load_default=14)


class FacilityPatch(ma.Schema):
    """Fields of a facility that can be edited (the code is permanent)."""

    name = bounded_str(200)
    site_of_service = ma.fields.String(validate=validate.OneOf(SITES_OF_SERVICE))
    dodaac = ma.fields.String(validate=DODAAC, pre_load=_upper)
    ship_to_address = bounded_str(500)
    cf_track = ma.fields.String(validate=validate.OneOf(CF_TRACKS))
    expiry_window_days = bounded_int(1, 730)
    lead_time_days = bounded_int(0, 365)
    active = ma.fields.Boolean()


class FacilityOut(ma.Schema):
    """A facility as the API shows it."""

    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    site_of_service = ma.fields.String()
    dodaac = ma.fields.String()
    ship_to_address = ma.fields.String()
    cf_track = ma.fields.String()
    expiry_window_days = ma.fields.Integer()
    lead_time_days = ma.fields.Integer()
    active = ma.fields.Boolean()


class FacilityQuery(PageArgs):
    """Filters for the facility list."""

    include_inactive = ma.fields.Boolean(load_default=False)


FacilityPage = page_envelope(FacilityOut, "FacilityPage")
