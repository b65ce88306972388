"""Schemas for payers and their fee tables."""

from __future__ import annotations

import marshmallow as ma

from supply_app.fields import Money, rule_field
from supply_app.payers import rules
from supply_app.payers.feetable import EXAMPLE


class PayerIn(ma.Schema):
    """A new payer category: how it reimburses (never anything about a patient)."""

    name = rule_field(rules.PAYER_NAME, required=True)
    basis = rule_field(rules.BASIS, required=True)
    percent = rule_field(
        rules.PERCENT,
        data_key="percent",
        attribute="percent_hundredths",
        metadata={
            "description": "Share of Medicare, such as 120.00; for a fee table, it prices "
            "the codes the table does not list (unpriced without it)"
        },
    )
    medicare_rules = ma.fields.Boolean(
        metadata={
            "description": "Apply Medicare's multiple-procedure and packaging rules (default true)"
        }
    )
    note = rule_field(rules.PAYER_NOTE)


class PayerPatch(PayerIn):
    """Fields of a payer to change; a change to how it pays makes its cases stale."""

    name = rule_field(rules.PAYER_NAME)
    basis = rule_field(rules.BASIS)
    active = ma.fields.Boolean()


class PayerOut(ma.Schema):
    """A payer as the API shows it."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    basis = ma.fields.String()
    billed = ma.fields.Boolean()
    percent = Money(rules.PERCENT, attribute="percent_hundredths", allow_none=True)
    medicare_rules = ma.fields.Boolean()
    note = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    revision = ma.fields.Integer(
        metadata={"description": "Goes up with each change; older cases are then stale"}
    )
    fee_rows = ma.fields.Integer()
    updated_at = ma.fields.DateTime()


class PayerList(ma.Schema):
    """Every payer, by name."""

    items = ma.fields.List(ma.fields.Nested(PayerOut))


class FeeTableIn(ma.Schema):
    """A fee table as CSV text; it replaces the payer's whole table once every row checks."""

    csv = rule_field(rules.FEE_TABLE_TEXT, required=True, metadata={"example": EXAMPLE})


class FeeOut(ma.Schema):
    """One row of a payer's fee table."""

    code = ma.fields.String()
    site_of_service = ma.fields.String()
    component = ma.fields.String()
    modifier = ma.fields.Function(lambda fee: fee.modifier or None)
    amount = Money(attribute="amount_cents")
    effective_from = ma.fields.Date()
    effective_to = ma.fields.Date(allow_none=True)


class FeeTableOut(ma.Schema):
    """A payer's fee table."""

    payer_id = ma.fields.Integer()
    revision = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(FeeOut))
