"""Schemas for recalls and returns to the vendor: inputs built from inventory's rules."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from supply_app.fields import Money, id_field, rule_field
from supply_app.http import PageArgs, PageMeta, page_envelope
from supply_app.inventory import rules
from supply_app.inventory.schemas import MovementOut, note_field
from supply_app.reporting.schemas import TracedCase
from supply_app.rules import Choice

CREDIT_STATE = Choice("credit", (("expected", "Credit expected"), ("credited", "Credited")))


class RecallLotIn(ma.Schema):
    """A lot a recall names: the part and the lot number on the notice."""

    part_id = id_field(required=True)
    lot_number = rule_field(rules.LOT_NUMBER, required=True)


def _lots_field() -> ma.fields.Field:
    return ma.fields.List(
        ma.fields.Nested(RecallLotIn),
        required=True,
        validate=validate.Length(min=1, max=rules.MAX_RECALL_LOTS),
    )


class RecallIn(ma.Schema):
    """A recall notice: placing it holds its lots everywhere at once."""

    source = rule_field(rules.RECALL_SOURCE, required=True)
    notice_number = rule_field(rules.NOTICE_NUMBER, required=True)
    notice_date = rule_field(rules.NOTICE_DATE, required=True)
    reason = rule_field(rules.RECALL_REASON, required=True)
    lots = _lots_field()


class RecallLotsIn(ma.Schema):
    """More lots for an open recall."""

    lots = _lots_field()


class RecallEndIn(ma.Schema):
    """Why a recall is released, or what closing it records."""

    note = rule_field(rules.RECALL_NOTE, required=True)


class RecallQuery(PageArgs):
    """Filter recalls by status."""

    status = rule_field(rules.RECALL_STATUS)


class RecallLotOut(ma.Schema):
    """A lot on a recall."""

    part_id = ma.fields.Integer()
    part_number = ma.fields.String(attribute="part.part_number")
    lot_number = ma.fields.String()
    added_at = ma.fields.DateTime()


class RecallOut(ma.Schema):
    """A recall and its lots."""

    id = ma.fields.Integer()
    source = ma.fields.String()
    notice_number = ma.fields.String()
    notice_date = ma.fields.Date()
    reason = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(rules.RECALL_STATUS.values)})
    placed_by_id = ma.fields.Integer(allow_none=True)
    placed_at = ma.fields.DateTime()
    ended_by_id = ma.fields.Integer(allow_none=True)
    ended_at = ma.fields.DateTime(allow_none=True)
    end_note = ma.fields.String(allow_none=True)
    lots = ma.fields.List(ma.fields.Nested(RecallLotOut))


RecallPage = page_envelope(RecallOut, "RecallPage")


class HolderOut(ma.Schema):
    """One of your facilities' part in the recall for one lot."""

    facility_id = ma.fields.Integer(attribute="facility.id")
    facility_code = ma.fields.String(attribute="facility.code")
    lot_id = ma.fields.Integer(attribute="lot.id")
    part_number = ma.fields.String(attribute="lot.part.part_number")
    lot_number = ma.fields.String(attribute="lot.lot_number")
    on_hand = ma.fields.Integer(metadata={"description": "Eaches still on the shelf (held)."})
    wasted = ma.fields.Integer(metadata={"description": "Eaches wasted since the recall."})
    returned = ma.fields.Integer(metadata={"description": "Eaches returned to the vendor."})
    done = ma.fields.Boolean(metadata={"description": "Nothing of the lot is left here."})


class RecallDetailOut(RecallOut):
    """A recall with who (of your facilities) holds its lots and which cases used them."""

    holders = ma.fields.List(ma.fields.Nested(HolderOut))
    cases = ma.fields.List(ma.fields.Nested(TracedCase))
    notices = ma.fields.String(
        metadata={"description": "How the emailed notices to the holders' people stand."}
    )


class VendorReturnIn(ma.Schema):
    """Ship eaches of a lot back to the vendor under an RGA."""

    lot_id = id_field(required=True)
    part_id = id_field()
    eaches = rule_field(rules.EACHES, required=True)
    rga_number = rule_field(rules.RGA_NUMBER, required=True)
    rga_date = rule_field(rules.RGA_DATE, required=True)
    order_line_id = id_field(
        metadata={"description": "The order line to credit; default: the latest that received it."}
    )
    note = note_field()


class VendorReturnQuery(PageArgs):
    """Filter returns by credit state."""

    credit = rule_field(CREDIT_STATE)


class CreditIn(ma.Schema):
    """The vendor's credit for a return."""

    credit_memo = rule_field(rules.CREDIT_MEMO, required=True)
    credited_on = rule_field(rules.CREDIT_DATE, required=True)


class VendorReturnOut(ma.Schema):
    """A return to the vendor, its ledger row and the credit it is owed."""

    id = ma.fields.Integer()
    movement = ma.fields.Nested(MovementOut)
    facility_id = ma.fields.Integer(attribute="movement.facility_id")
    rga_number = ma.fields.String()
    rga_date = ma.fields.Date()
    order_line_id = ma.fields.Integer(allow_none=True)
    credit = Money(
        attribute="credit_cents", metadata={"description": "The value returned: the credit due."}
    )
    credit_status = ma.fields.Function(
        lambda r: "credited" if r.credited_on else "expected",
        metadata={"enum": list(CREDIT_STATE.values)},
    )
    credit_memo = ma.fields.String(allow_none=True)
    credited_on = ma.fields.Date(allow_none=True)


class VendorReturnPage(ma.Schema):
    """A page of returns, and the credit still expected across all of them."""

    items = ma.fields.List(ma.fields.Nested(VendorReturnOut))
    meta = ma.fields.Nested(PageMeta)
    credit_expected = Money(metadata={"description": "Credit not yet recorded, all pages."})
