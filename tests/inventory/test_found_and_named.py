"""Expired stock found on a shelf can be booked (then wasted); lots named in any case."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from supply_app.errors import InvalidInput
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.inventory.errors import LotExpired
from tests.support.factories import make_facility, sync_parts


def _receive(facility, part, reason: str, days: int, lot: str = "OLD-1"):
    return inventory.receive(
        db.session,
        facility=facility,
        part=part,
        lot_number=lot,
        expiry_date=date.today() + timedelta(days=days),
        eaches=3,
        value_cents=300,
        actor=None,
        reason=reason,
    )


def test_expired_stock_found_on_the_shelf_is_booked_then_wasted(app):
    """Only a 'found' receipt takes an expired lot; waste then writes it off."""
    parts = sync_parts(app)
    facility = make_facility()
    with pytest.raises(LotExpired):
        _receive(facility, parts["STT2190-5"], "donation", days=-3)
    db.session.rollback()
    movement = _receive(facility, parts["STT2190-5"], "found", days=-3)
    assert (movement.reason, movement.eaches) == ("found", 3)
    inventory.waste(
        db.session, facility=facility, lot=movement.lot, eaches=3, reason="expired", actor=None
    )
    db.session.commit()
    assert inventory.on_hand(db.session, facility.id, movement.lot.id) == 0


def test_a_lot_is_named_without_regard_to_case_and_must_be_one(app):
    """'tip-7' finds TIP-7 on the shelf; a number two parts share asks for the part."""
    parts = sync_parts(app)
    facility = make_facility()
    _receive(facility, parts["STT2190-5"], "opening_balance", days=300, lot="TIP-7")
    lot = inventory.held_lot_named(db.session, facility, "tip-7")
    assert (lot.lot_number, lot.part.part_number) == ("TIP-7", "STT2190-5")
    _receive(facility, parts["STT2309-5"], "opening_balance", days=300, lot="TIP-7")
    with pytest.raises(InvalidInput, match="choose the part"):
        inventory.held_lot_named(db.session, facility, "TIP-7")
    found = inventory.held_lot_named(db.session, facility, "tip-7", parts["STT2309-5"])
    assert found.part.part_number == "STT2309-5"
    with pytest.raises(InvalidInput, match="No lot NOPE"):
        inventory.held_lot_named(db.session, facility, "NOPE")
