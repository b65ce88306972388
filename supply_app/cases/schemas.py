"""Schemas for cases, fee schedules, overrides and what-if pricing."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from supply_app.cases import rules
from supply_app.coding import NERVE_LABELS
from supply_app.facilities.rules import CF_TRACK, SITE_OF_SERVICE, WAGE_INDEX
from supply_app.fields import Money, id_field, query_id, rule_field
from supply_app.http import PageArgs, page_envelope
from supply_app.inventory.rules import LOT_NUMBER, SCAN, SERIAL
from supply_app.money import PRICE


class ProcedureIn(ma.Schema):
    """A coded procedure: 64640 or 64624 with the nerves treated, or C9809."""

    code = rule_field(rules.PROCEDURE_CODE, required=True)
    nerves = ma.fields.List(
        rule_field(rules.NERVE),
        load_default=list,
        validate=validate.Length(max=len(rules.NERVE.options)),
    )
    laterality = rule_field(rules.LINE_LATERALITY)


class SupplyIn(ma.Schema):
    """A supply consumed: part + lot (id or number) + eaches, a GS1 scan, or part + eaches."""

    part_id = id_field()
    lot_id = id_field()
    lot_number = rule_field(LOT_NUMBER)
    scan = rule_field(SCAN)
    eaches = rule_field(rules.SUPPLY_EACHES)

    @ma.validates_schema
    def one_way(self, data: dict, **_kwargs: object) -> None:
        """Exactly one of the three ways to name a supply."""
        if "scan" in data:
            if {"part_id", "lot_id", "lot_number"} & data.keys():
                raise ma.ValidationError("Give a scan alone, or part_id (with a lot).", "scan")
            return
        if "part_id" not in data:
            raise ma.ValidationError(
                "Give part_id (with lot_id or lot_number) or a scan.", "part_id"
            )
        if "eaches" not in data:
            raise ma.ValidationError("Give how many eaches were used.", "eaches")
        if {"lot_id", "lot_number"} <= data.keys():
            raise ma.ValidationError("Give lot_id or lot_number, not both.", "lot_number")


class CaseIn(ma.Schema):
    """A case to record; no patient data of any kind."""

    facility_id = id_field(required=True)
    reference = rule_field(rules.CASE_REFERENCE, required=True)
    date_of_service = rule_field(rules.DATE_OF_SERVICE, required=True)
    laterality = rule_field(rules.LATERALITY, required=True)
    procedures = ma.fields.List(
        ma.fields.Nested(ProcedureIn), required=True, validate=validate.Length(1, 10)
    )
    supplies = ma.fields.List(
        ma.fields.Nested(SupplyIn), load_default=list, validate=validate.Length(max=20)
    )
    payer_id = id_field(
        metadata={"description": "The payer category; default: the facility's default payer"}
    )
    handpiece_serial = rule_field(
        SERIAL, metadata={"description": "The handpiece used (costs the case and traces it)"}
    )


class CasePayerIn(ma.Schema):
    """Another payer category for a recorded case; it is repriced under that payer."""

    payer_id = id_field(required=True)


class VoidIn(ma.Schema):
    """Why a case is voided (required; never patient details)."""

    reason = rule_field(rules.VOID_REASON, required=True)


class ProcedureOut(ma.Schema):
    """A stored procedure line."""

    code = ma.fields.String()
    laterality = ma.fields.String(allow_none=True)
    units = ma.fields.Integer()
    nerves = ma.fields.List(ma.fields.String())
    modifiers = ma.fields.List(ma.fields.String())


class SupplyOut(ma.Schema):
    """A stored supply line with the issue movement that consumed it."""

    part_id = ma.fields.Integer()
    lot_id = ma.fields.Integer()
    movement_id = ma.fields.Integer()
    eaches = ma.fields.Integer()
    source = ma.fields.String()


class CaseSummary(ma.Schema):
    """A case in a list."""

    id = ma.fields.Integer()
    facility_id = ma.fields.Integer()
    reference = ma.fields.String()
    date_of_service = ma.fields.Date()
    laterality = ma.fields.String()
    site_of_service = ma.fields.String()
    code_mix = ma.fields.String()
    status = ma.fields.String()
    schedule_version = ma.fields.String()
    payer_id = ma.fields.Integer()
    payer_name = ma.fields.Function(lambda case: case.payer.name)
    billed = ma.fields.Boolean()
    expected_collection = Money(
        attribute="collection_cents",
        metadata={"description": "What the payer is expected to pay; 0.00 when not billed"},
    )
    collection_complete = ma.fields.Boolean()
    facility_reimbursement = Money(attribute="facility_cents")
    professional_reimbursement = Money(attribute="professional_cents")
    device_reimbursement = Money(attribute="device_cents", allow_none=True)
    medicare_benchmark = Money(
        attribute="reimbursement_cents",
        metadata={"description": "Medicare national: the benchmark beside every payer"},
    )
    device_unpriced = ma.fields.Function(lambda case: not case.device_priced)
    reimbursement_complete = ma.fields.Boolean()
    estimated = ma.fields.Function(
        lambda case: bool(case.pricing.get("estimated") or case.collection.get("estimated")),
        metadata={"description": "An amount is the contractor's to set (PFS modifier 52)"},
    )
    equipment_cost = Money(attribute="equipment_cents")
    handpiece_serial = ma.fields.String(allow_none=True)
    # A case just priced (recorded, or given another payer) is current by construction.
    stale_price = ma.fields.Function(
        lambda case: getattr(case, "stale_price", False),
        metadata={
            "type": "boolean",
            "description": "Priced under an older schedule, payer terms or wage index: "
            "POST /cases/reprice brings it up to date",
        },
    )


class CaseOut(CaseSummary):
    """A case with its procedures, supplies, supply cost and priced snapshot."""

    cf_track = ma.fields.String()
    procedures = ma.fields.List(ma.fields.Nested(ProcedureOut))
    supplies = ma.fields.List(ma.fields.Nested(SupplyOut))
    supply_cost = Money(allow_none=True)
    warnings = ma.fields.List(ma.fields.String())
    pricing = ma.fields.Dict(metadata={"description": "The Medicare national benchmark, explained"})
    collection = ma.fields.Dict(metadata={"description": "The payer's price, explained"})
    wage_index = ma.fields.Function(
        lambda case: None if case.wage_index is None else WAGE_INDEX.format(case.wage_index),
        metadata={"type": "string", "nullable": True},
    )
    priced_at = ma.fields.DateTime()
    recorded_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    voided_at = ma.fields.DateTime(allow_none=True)
    voided_by_id = ma.fields.Integer(allow_none=True)
    void_reason = ma.fields.String(allow_none=True)


class CaseQuery(PageArgs):
    """Filters for the case list."""

    facility_id = query_id()
    status = rule_field(rules.CASE_STATUS)
    date_from = rule_field(rules.DATE_OF_SERVICE)
    date_to = rule_field(rules.DATE_OF_SERVICE)


class RepriceIn(ma.Schema):
    """Which schedule year to reprice (all years when omitted)."""

    year = rule_field(rules.SCHEDULE_YEAR)


class RepriceOut(ma.Schema):
    """What a bulk reprice did."""

    examined = ma.fields.Integer()
    repriced = ma.fields.Integer()
    changed = ma.fields.Integer()
    failed = ma.fields.List(ma.fields.Dict())
    versions = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


class OverrideIn(ma.Schema):
    """The amount a schedule should use for a code at a site (e.g. C9809 in the HOPD)."""

    amount = Money(PRICE, required=True)
    note = rule_field(rules.OVERRIDE_NOTE)


class OverrideOut(ma.Schema):
    """A stored override."""

    year = ma.fields.Integer()
    code = ma.fields.String()
    site_of_service = ma.fields.String()
    amount = Money(attribute="amount_cents")
    note = ma.fields.String(allow_none=True)
    updated_by_id = ma.fields.Integer(allow_none=True)
    updated_at = ma.fields.DateTime()


class ScheduleSummary(ma.Schema):
    """A year's schedule: published version and the version with current overrides."""

    year = ma.fields.Integer()
    published_version = ma.fields.String()
    current_version = ma.fields.String()
    overrides = ma.fields.List(ma.fields.Nested(OverrideOut))


class ScheduleList(ma.Schema):
    """Every year that has a schedule."""

    items = ma.fields.List(ma.fields.Nested(ScheduleSummary))


class ScheduleOut(ScheduleSummary):
    """A year's schedule in full, overrides applied, every figure with its source."""

    schedule = ma.fields.Dict()


class NerveOut(ma.Schema):
    """A nerve a code can name."""

    code = ma.fields.String()
    slug = ma.fields.String()
    label = ma.fields.String()


class PriceIn(ma.Schema):
    """A hypothetical claim: a facility's setting, or a site and CF track given directly."""

    facility_id = id_field()
    site_of_service = rule_field(SITE_OF_SERVICE)
    cf_track = rule_field(CF_TRACK)
    date_of_service = rule_field(rules.DATE_OF_SERVICE, required=True)
    laterality = rule_field(rules.LATERALITY, required=True)
    procedures = ma.fields.List(
        ma.fields.Nested(ProcedureIn), required=True, validate=validate.Length(1, 10)
    )
    use_overrides = ma.fields.Boolean(load_default=True)
    payer_id = id_field(metadata={"description": "Also price for this payer (needs facility_id)"})

    @ma.validates_schema
    def setting(self, data: dict, **_kwargs: object) -> None:
        """A facility, or a site of service (the CF track defaults to non-qualifying)."""
        if ("facility_id" in data) == ("site_of_service" in data):
            raise ma.ValidationError("Give facility_id or site_of_service.", "site_of_service")
        if "facility_id" in data and "cf_track" in data:
            raise ma.ValidationError("A facility sets its own CF track.", "cf_track")


class PricedOut(ma.Schema):
    """A priced claim as the coding module returns it, plus timely-filing warnings."""

    priced = ma.fields.Dict()
    collection = ma.fields.Dict(metadata={"description": "For the payer asked about"})
    warnings = ma.fields.List(ma.fields.String())


def nerve_list(code: str, slugs: tuple[str, ...]) -> list[dict[str, str]]:
    """The nerves a code names, with their labels, for forms."""
    return [{"code": code, "slug": slug, "label": NERVE_LABELS[slug]} for slug in slugs]


CasePage = page_envelope(CaseSummary, "CasePage")


class EquipmentCostIn(ma.Schema):
    """A handpiece's cost spread over its life and cases (no serial: the facility's figure)."""

    serial = rule_field(SERIAL, metadata={"description": "The handpiece; omit for the facility"})
    acquisition = Money(PRICE, required=True)
    salvage = Money(PRICE, load_default=0)
    life_years = rule_field(rules.LIFE_YEARS, required=True)
    cases_per_year = rule_field(rules.CASES_PER_YEAR, required=True)
    note = rule_field(rules.EQUIPMENT_NOTE)


class EquipmentCostRemove(ma.Schema):
    """Which figure to remove (no serial: the facility's own)."""

    serial = rule_field(SERIAL)


class EquipmentCostOut(ma.Schema):
    """A figure and what it costs each case."""

    serial = ma.fields.Function(lambda row: row.serial or None)
    acquisition = Money(attribute="acquisition_cents")
    salvage = Money(attribute="salvage_cents")
    life_years = ma.fields.Integer()
    cases_per_year = ma.fields.Integer()
    per_case = Money(attribute="per_case_cents")
    note = ma.fields.String(allow_none=True)
    updated_at = ma.fields.DateTime()


class EquipmentCostSet(ma.Schema):
    """A figure set, and how many recorded cases it re-costed."""

    equipment_cost = ma.fields.Nested(EquipmentCostOut, allow_none=True)
    cases_recosted = ma.fields.Integer()


class EquipmentCostList(ma.Schema):
    """A facility's equipment figures: its own first, then each handpiece."""

    items = ma.fields.List(ma.fields.Nested(EquipmentCostOut))
