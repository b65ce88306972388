"""Schemas for the facilities API."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app

from supply_app.facilities import rules
from supply_app.fields import Money, id_field, rule_field
from supply_app.http import PageArgs, page_envelope


def _default_time_zone() -> str:
    return current_app.config["DEFAULT_TIME_ZONE"]


class FacilityIn(ma.Schema):
    """A new facility."""

    code = rule_field(rules.FACILITY_CODE, required=True)
    name = rule_field(rules.FACILITY_NAME, required=True)
    site_of_service = rule_field(rules.SITE_OF_SERVICE, required=True)
    dodaac = rule_field(rules.DODAAC, required=True)
    ship_to_address = rule_field(rules.SHIP_TO_ADDRESS, required=True)
    cf_track = rule_field(rules.CF_TRACK, load_default="non_qualifying")
    expiry_window_days = rule_field(rules.EXPIRY_WINDOW_DAYS, load_default=60)
    lead_time_days = rule_field(rules.LEAD_TIME_DAYS, load_default=14)
    time_zone = rule_field(
        rules.TIME_ZONE,
        load_default=_default_time_zone,
        metadata={"description": "IANA zone; default: the deployment's SUPPLY_DEFAULT_TIME_ZONE"},
    )
    bill_device_by_default = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Whether new cases here bill the device (C9809) unless unticked"},
    )
    default_payer_id = id_field(
        metadata={"description": "The payer new cases take; default: Medicare national"}
    )
    wage_index = rule_field(
        rules.WAGE_INDEX,
        allow_none=True,
        metadata={"description": "Hospital wage index, such as 1.0842, for locality payers"},
    )
    bills_0441t = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "The Medicare contractor requires 0441T (CGS, J15)"},
    )


class FacilityPatch(ma.Schema):
    """Fields of a facility that can be edited (the code is permanent)."""

    name = rule_field(rules.FACILITY_NAME)
    site_of_service = rule_field(rules.SITE_OF_SERVICE)
    dodaac = rule_field(rules.DODAAC)
    ship_to_address = rule_field(rules.SHIP_TO_ADDRESS)
    cf_track = rule_field(rules.CF_TRACK)
    expiry_window_days = rule_field(rules.EXPIRY_WINDOW_DAYS)
    lead_time_days = rule_field(rules.LEAD_TIME_DAYS)
    time_zone = rule_field(rules.TIME_ZONE)
    active = ma.fields.Boolean()
    bill_device_by_default = ma.fields.Boolean()
    default_payer_id = id_field()
    wage_index = rule_field(rules.WAGE_INDEX, allow_none=True)
    bills_0441t = ma.fields.Boolean()


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
    time_zone = ma.fields.String()
    active = ma.fields.Boolean()
    bill_device_by_default = ma.fields.Boolean()
    default_payer_id = ma.fields.Integer()
    wage_index = Money(rules.WAGE_INDEX, allow_none=True)
    bills_0441t = ma.fields.Boolean()


class FacilityQuery(PageArgs):
    """Filters for the facility list."""

    include_inactive = ma.fields.Boolean(load_default=False)


FacilityPage = page_envelope(FacilityOut, "FacilityPage")
