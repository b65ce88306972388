"""Schemas for the inventory API: every number and string bounded, unknown fields refused."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from supply_app.fields import Money, id_field, query_id, rule_field
from supply_app.http import PageArgs, page_envelope
from supply_app.inventory import rules
from supply_app.inventory.valuation import share_of_value
from supply_app.money import PRICE, format_cents
from supply_app.rules import WholeNumber

#: Keyset paging through the ledger.
AFTER_ID = WholeNumber("after_id", 0, 2_147_483_647)
PAGE_LIMIT = WholeNumber("limit", 1, 200)


def note_field() -> ma.fields.Field:
    """An optional free-text note about the stock (never about a patient)."""
    return rule_field(rules.NOTE, load_default=None, allow_none=True)


class ScanIn(ma.Schema):
    """A scanned barcode string."""

    scan = rule_field(rules.SCAN, required=True)


class ReceiptIn(ma.Schema):
    """A receipt outside an order; typed part/lot/expiry, or a scan (typed fields fill gaps)."""

    scan = rule_field(rules.SCAN)
    part_id = id_field()
    lot_number = rule_field(rules.LOT_NUMBER)
    expiry_date = rule_field(rules.EXPIRY_DATE)
    serial = rule_field(rules.SERIAL)
    eaches = rule_field(rules.EACHES)
    packs = rule_field(rules.RECEIPT_PACKS)
    unit_cost = Money(PRICE, metadata={"description": "Cost per each; default: contract price."})
    reason = rule_field(rules.FREE_RECEIPT_REASON, required=True)
    note = note_field()

    @ma.validates_schema
    def _one_quantity(self, data: dict, **_kwargs) -> None:
        if ("eaches" in data) == ("packs" in data):
            raise ma.ValidationError("Give exactly one of eaches or packs.", "eaches")


class LotChoiceIn(ma.Schema):
    """Names a lot by id (part_id, if given, must match it)."""

    lot_id = id_field(required=True)
    part_id = id_field()
    note = note_field()


class IssueIn(ma.Schema):
    """Issue eaches of a lot by id, or by a scan (a plain lot number needs part_id)."""

    lot_id = id_field()
    scan = rule_field(rules.SCAN)
    part_id = id_field()
    eaches = rule_field(rules.EACHES, required=True)
    note = note_field()

    @ma.validates_schema
    def _one_lot(self, data: dict, **_kwargs) -> None:
        if ("lot_id" in data) == ("scan" in data):
            raise ma.ValidationError("Give exactly one of lot_id or scan.", "lot_id")


class AdjustmentIn(LotChoiceIn):
    """A signed correction with a reason code."""

    eaches = rule_field(rules.CHANGE_IN_EACHES, required=True)
    reason = rule_field(rules.TYPED_ADJUSTMENT_REASON, required=True)
    unit_cost = Money(PRICE, metadata={"description": "Cost per each of found stock (optional)."})

    @ma.validates("eaches")
    def _non_zero(self, value: int, **_kwargs) -> None:
        if value == 0:
            raise ma.ValidationError("An adjustment must change the balance.")


class WasteIn(LotChoiceIn):
    """Stock thrown away, with the reason."""

    eaches = rule_field(rules.EACHES, required=True)
    reason = rule_field(rules.WASTE_REASON, required=True)


class TransferIn(LotChoiceIn):
    """Stock sent to another facility."""

    to_facility_id = id_field(required=True)
    eaches = rule_field(rules.EACHES, required=True)


class CountIn(LotChoiceIn):
    """A physical count of one lot."""

    counted = rule_field(rules.COUNTED_EACHES, required=True)


class ReverseIn(ma.Schema):
    """Why a movement is being reversed."""

    reason = rule_field(rules.REVERSAL_REASON, required=True)


class MovementOut(ma.Schema):
    """One ledger row."""

    id = ma.fields.Integer()
    facility_id = ma.fields.Integer()
    lot_id = ma.fields.Integer()
    part_id = ma.fields.Integer(attribute="lot.part_id")
    part_number = ma.fields.String(attribute="lot.part.part_number")
    lot_number = ma.fields.String(attribute="lot.lot_number")
    expiry_date = ma.fields.Date(attribute="lot.expiry_date")
    kind = ma.fields.String()
    eaches = ma.fields.Integer()
    value = Money(attribute="value_cents")
    reason = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    reference_type = ma.fields.String(allow_none=True)
    reference_id = ma.fields.Integer(allow_none=True)
    reverses_id = ma.fields.Integer(allow_none=True)
    actor_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    rga_number = ma.fields.Function(
        lambda m: m.vendor_return.rga_number if m.kind == "return_to_vendor" else None,
        metadata={"description": "A return to the vendor's RGA number (else null)."},
    )
    rga_date = ma.fields.Function(
        lambda m: m.vendor_return.rga_date.isoformat() if m.kind == "return_to_vendor" else None,
        metadata={"description": "A return to the vendor's RGA date (else null)."},
    )


class TransferOut(ma.Schema):
    """Both legs of a transfer."""

    out = ma.fields.Nested(MovementOut)
    inbound = ma.fields.Nested(MovementOut, data_key="in")


class CountRecordOut(ma.Schema):
    """A recorded physical count."""

    id = ma.fields.Integer()
    facility_id = ma.fields.Integer()
    lot_id = ma.fields.Integer()
    counted = ma.fields.Integer()
    previous_on_hand = ma.fields.Integer()
    difference = ma.fields.Function(lambda c: c.counted - c.previous_on_hand)
    created_at = ma.fields.DateTime()


class CountOut(ma.Schema):
    """A count and the adjustment it posted (null when the books were right)."""

    count = ma.fields.Nested(CountRecordOut)
    movement = ma.fields.Nested(MovementOut, allow_none=True)


class TraceQuery(ma.Schema):
    """Keyset paging through one lot's movements."""

    after_id = rule_field(AFTER_ID, from_text=True, load_default=0)
    limit = rule_field(PAGE_LIMIT, from_text=True, load_default=50)
    kind = rule_field(rules.MOVEMENT_KIND)


class MovementQuery(TraceQuery):
    """Keyset paging through a facility's ledger: rows with id > after_id, oldest first."""

    lot_id = query_id()


class MovementPage(ma.Schema):
    """A keyset page: pass next_after_id back as after_id; null means the end."""

    items = ma.fields.List(ma.fields.Nested(MovementOut))
    next_after_id = ma.fields.Integer(allow_none=True)


class StockQuery(PageArgs):
    """Filters for the balance list."""

    part_id = query_id()
    include_empty = ma.fields.Boolean(load_default=False)


class PackFields(ma.Schema):
    """Eaches shown as whole packs plus loose eaches."""

    packs = ma.fields.Method("_packs")
    loose_eaches = ma.fields.Method("_loose")

    def _units(self, obj) -> int:
        return self._part(obj).units_per_pack

    def _packs(self, obj) -> int:
        return self._eaches(obj) // self._units(obj)

    def _loose(self, obj) -> int:
        return self._eaches(obj) % self._units(obj)


class StockRowOut(PackFields):
    """One lot's balance at a facility."""

    id = ma.fields.Integer()
    facility_id = ma.fields.Integer()
    lot_id = ma.fields.Integer()
    part_id = ma.fields.Integer(attribute="lot.part_id")
    part_number = ma.fields.String(attribute="lot.part.part_number")
    units_per_pack = ma.fields.Integer(attribute="lot.part.units_per_pack")
    lot_number = ma.fields.String(attribute="lot.lot_number")
    serial = ma.fields.String(attribute="lot.serial", allow_none=True)
    expiry_date = ma.fields.Date(attribute="lot.expiry_date")
    days_to_expiry = ma.fields.Method("_days")
    expired = ma.fields.Method("_expired")
    on_hand = ma.fields.Integer()
    value = Money(attribute="value_cents")
    average_unit_cost = ma.fields.Method("_average")
    held_by_recall_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The recall holding the lot; null if usable."}
    )

    def _part(self, obj):
        return obj.lot.part

    def _eaches(self, obj) -> int:
        return obj.on_hand

    def _days(self, obj) -> int:
        return (obj.lot.expiry_date - obj.facility.today()).days

    def _expired(self, obj) -> bool:
        return self._days(obj) < 0

    def _average(self, obj) -> str | None:
        if obj.on_hand == 0:
            return None
        return format_cents(share_of_value(obj.on_hand, obj.value_cents, 1))


StockPage = page_envelope(StockRowOut, "StockPage")


class PartStockOut(PackFields):
    """Totals of one part at a facility."""

    part_id = ma.fields.Integer(attribute="part.id")
    part_number = ma.fields.String(attribute="part.part_number")
    description = ma.fields.String(attribute="part.description")
    units_per_pack = ma.fields.Integer(attribute="part.units_per_pack")
    on_hand = ma.fields.Integer()
    usable = ma.fields.Integer(metadata={"description": "Eaches in unexpired lots not on hold."})
    value = Money(attribute="value_cents")
    next_expiry = ma.fields.Date(allow_none=True)

    def _part(self, obj):
        return obj["part"]

    def _eaches(self, obj) -> int:
        return obj["on_hand"]


PartStockPage = page_envelope(PartStockOut, "PartStockPage")


class PickQuery(ma.Schema):
    """What to pick."""

    part_id = query_id(required=True)
    eaches = rule_field(rules.EACHES, from_text=True, required=True)


class PickLineOut(ma.Schema):
    """Take this many eaches from this lot."""

    lot_id = ma.fields.Integer(attribute="lot.id")
    lot_number = ma.fields.String(attribute="lot.lot_number")
    expiry_date = ma.fields.Date(attribute="lot.expiry_date")
    eaches = ma.fields.Integer()


class PickListOut(ma.Schema):
    """A FEFO pick list for one part."""

    part_id = ma.fields.Integer()
    eaches = ma.fields.Integer()
    picks = ma.fields.List(ma.fields.Nested(PickLineOut))


class ParLevelIn(ma.Schema):
    """Min and max eaches of one part."""

    part_id = id_field(required=True)
    min_eaches = rule_field(rules.PAR_MIN, required=True)
    max_eaches = rule_field(rules.PAR_MAX, required=True)


class ParLevelsIn(ma.Schema):
    """The complete set of par levels for a facility (parts left out lose theirs)."""

    levels = ma.fields.List(
        ma.fields.Nested(ParLevelIn), required=True, validate=validate.Length(max=500)
    )


class ParLevelOut(PackFields):
    """A par level."""

    id = ma.fields.Integer()
    part_id = ma.fields.Integer()
    part_number = ma.fields.String(attribute="part.part_number")
    min_eaches = ma.fields.Integer()
    max_eaches = ma.fields.Integer()
    updated_at = ma.fields.DateTime()

    def _part(self, obj):
        return obj.part

    def _eaches(self, obj) -> int:
        return obj.min_eaches


class ParLevelsOut(ma.Schema):
    """A facility's par levels."""

    items = ma.fields.List(ma.fields.Nested(ParLevelOut))


class AlertOut(ma.Schema):
    """One alert: below_min, on_hold (a recall holds the lot), expiring (within the facility's
    window) or expired."""

    kind = ma.fields.String()
    part_id = ma.fields.Integer(attribute="part.id")
    part_number = ma.fields.String(attribute="part.part_number")
    lot_id = ma.fields.Function(lambda a: a["lot"].id if a["lot"] else None)
    lot_number = ma.fields.Function(lambda a: a["lot"].lot_number if a["lot"] else None)
    expiry_date = ma.fields.Function(
        lambda a: a["lot"].expiry_date.isoformat() if a["lot"] else None
    )
    on_hand = ma.fields.Integer()
    min_eaches = ma.fields.Integer(allow_none=True)
    max_eaches = ma.fields.Integer(allow_none=True)
    days_to_expiry = ma.fields.Integer(allow_none=True)
    recall_id = ma.fields.Function(lambda a: a["recall"].id if a["recall"] else None)
    notice_number = ma.fields.Function(lambda a: a["recall"].notice_number if a["recall"] else None)


class AlertsOut(ma.Schema):
    """Alerts for a facility, below-min first."""

    expiry_window_days = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(AlertOut))


class ScanOut(ma.Schema):
    """What a barcode says; `gs1` false means the string was taken as a plain lot number."""

    raw = ma.fields.String()
    gs1 = ma.fields.Boolean()
    gtin = ma.fields.String(allow_none=True)
    lot_number = ma.fields.String(allow_none=True)
    expiry_date = ma.fields.Date(allow_none=True)
    serial = ma.fields.String(allow_none=True)
    batch = ma.fields.String(allow_none=True, metadata={"description": "AI 10 as labelled."})
    part_id = ma.fields.Function(lambda r: r.part.id if r.part else None)
    part_number = ma.fields.Function(lambda r: r.part.part_number if r.part else None)
    units_per_package = ma.fields.Integer(allow_none=True)


class HoldingOut(ma.Schema):
    """How much of a lot one facility holds."""

    facility_id = ma.fields.Integer()
    on_hand = ma.fields.Integer()
    value = Money(attribute="value_cents")


class LotOut(ma.Schema):
    """A lot and who (among your facilities) holds it."""

    id = ma.fields.Integer()
    part_id = ma.fields.Integer()
    part_number = ma.fields.String(attribute="part.part_number")
    lot_number = ma.fields.String()
    expiry_date = ma.fields.Date()
    gtin = ma.fields.String(allow_none=True)
    serial = ma.fields.String(allow_none=True)
    batch = ma.fields.String(
        allow_none=True, metadata={"description": "A serialised unit's batch (AI 10)."}
    )
    holdings = ma.fields.List(ma.fields.Nested(HoldingOut))
