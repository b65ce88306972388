"""Property: any sequence of receipt attempts books exactly what was ordered, never more."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from supply_app.errors import InvalidTransition
from supply_app.extensions import db
from supply_app.inventory.models import StockBalance
from supply_app.ordering import receiving, service
from supply_app.ordering.errors import OverReceipt
from tests.ordering.conftest import PRICES
from tests.support.factories import make_facility

PARTS = ("STT2190-5", "CRX2111-10")
_lots = itertools.count(1)

attempts = st.lists(st.tuples(st.sampled_from(PARTS), st.integers(1, 12)), max_size=12)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ordered=st.tuples(st.integers(1, 15), st.integers(1, 15)), tries=attempts)
def test_receipts_match_a_simple_model(world, ordered, tries):
    """Each attempt is refused iff it exceeds what is outstanding; stock and status agree."""
    facility = make_facility("ASC")
    buyer, approver = world.purchaser.user, world.purchaser2.user
    header = {
        "fund_code": "2F",
        "priority": 5,
        "required_delivery_date": date.today() + timedelta(days=10),
        "notes": None,
    }
    order = service.create_order(
        db.session,
        facility=facility,
        actor=world.admin.user,
        header=header,
        lines=[(world.parts[p], n) for p, n in zip(PARTS, ordered, strict=True)],
    )
    service.submit_order(db.session, order=order, actor=buyer)
    service.approve_order(db.session, order=order, actor=approver)
    db.session.commit()
    outstanding = dict(zip(PARTS, ordered, strict=True))
    lines = {line.part.part_number: line for line in order.lines}
    for part_number, packs in tries:
        item = {
            "line_id": lines[part_number].id,
            "packs": packs,
            "lot_number": f"P{next(_lots)}",
            "expiry_date": date.today() + timedelta(days=90),
        }
        if order.status == "received":
            with pytest.raises(InvalidTransition, match="is received"):
                receiving.receive_order(db.session, order=order, actor=buyer, items=[item])
            db.session.rollback()
        elif packs > outstanding[part_number]:
            with pytest.raises(OverReceipt):
                receiving.receive_order(db.session, order=order, actor=buyer, items=[item])
            db.session.rollback()
        else:
            receiving.receive_order(db.session, order=order, actor=buyer, items=[item])
            db.session.commit()
            outstanding[part_number] -= packs
    received = {p: ordered[i] - outstanding[p] for i, p in enumerate(PARTS)}
    assert {p: lines[p].received_packs for p in PARTS} == received
    expected_status = (
        "received"
        if not any(outstanding.values())
        else "partially_received"
        if any(received.values())
        else "approved"
    )
    assert order.status == expected_status
    eaches, value = db.session.execute(
        select(
            func.coalesce(func.sum(StockBalance.on_hand), 0),
            func.coalesce(func.sum(StockBalance.value_cents), 0),
        ).where(StockBalance.facility_id == facility.id)
    ).one()
    units = {p: world.parts[p].units_per_pack for p in PARTS}
    assert eaches == sum(received[p] * units[p] for p in PARTS)
    assert value == sum(received[p] * PRICES[p] for p in PARTS)
