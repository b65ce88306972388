"""WTForms for payers, fee tables, a facility's billing settings and equipment costs.

Kept apart from forms.py (which holds the other pages' forms) so each module stays short;
every field is built from its domain's rule, as there.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.widgets import HiddenInput

from supply_app.cases import rules as case_rules
from supply_app.facilities.rules import WAGE_INDEX
from supply_app.inventory.rules import SERIAL
from supply_app.money import PRICE
from supply_app.payers import rules
from supply_app.web.fields import (
    AmountField,
    RuleNumberField,
    RuleSelectField,
    RuleTextAreaField,
    RuleTextField,
    TextFileField,
)
from supply_app.web.forms import IdSelectField


class PayerForm(FlaskForm):
    """A payer category and how it pays (never anything about a patient)."""

    name = RuleTextField("Name", rules.PAYER_NAME)
    basis = RuleSelectField("How it pays", rules.BASIS)
    percent = AmountField(
        "Percentage of Medicare",
        rules.PERCENT,
        optional=True,
        description="Only for a payer that pays a percentage of Medicare, such as 120.00.",
    )
    medicare_rules = BooleanField(
        "Apply Medicare's rules to its figures (multiple procedures, bilateral, "
        "modifier 52, packaging)"
    )
    note = RuleTextField("Note", rules.PAYER_NOTE, optional=True)
    active = BooleanField("Active: facilities and cases may choose it")


class FeeTableForm(FlaskForm):
    """A whole fee table as a CSV file, or pasted; it replaces the payer's table."""

    upload = TextFileField("CSV file", rules.FEE_TABLE_TEXT)
    csv = RuleTextAreaField("Or paste the CSV here", rules.FEE_TABLE_TEXT, optional=True)


class FacilityBillingForm(FlaskForm):
    """Who a facility's new cases are billed to, and how its payments are adjusted."""

    default_payer_id = IdSelectField("Default payer for new cases")
    wage_index = AmountField(
        "Hospital wage index",
        WAGE_INDEX,
        optional=True,
        description="Four decimals, such as 1.0842; used by locality-adjusted payers.",
    )
    bills_0441t = BooleanField("The Medicare contractor requires 0441T instead of 64640 and 64624")


class EquipmentCostForm(FlaskForm):
    """A handpiece's cost spread straight-line over its life and its cases."""

    serial = RuleTextField(
        "Handpiece serial number",
        SERIAL,
        optional=True,
        description="Leave empty for the "
        "facility's own figure, used for every handpiece without one.",
    )
    acquisition = AmountField("Acquisition cost ($)", PRICE)
    salvage = AmountField("Salvage value ($)", PRICE, optional=True)
    life_years = RuleNumberField("Years of life", case_rules.LIFE_YEARS)
    cases_per_year = RuleNumberField("Expected cases per year", case_rules.CASES_PER_YEAR)
    note = RuleTextField("Note", case_rules.EQUIPMENT_NOTE, optional=True)


class EquipmentRemoveForm(FlaskForm):
    """Remove one equipment figure (the serial is empty for the facility's own)."""

    serial = RuleTextField("Handpiece serial number", SERIAL, optional=True, widget=HiddenInput())


class CasePayerForm(FlaskForm):
    """Another payer category for a recorded case; it is priced again under that payer."""

    payer_id = IdSelectField("Payer")
