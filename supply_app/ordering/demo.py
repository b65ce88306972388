"""Demo data for ordering: one approved order at the demo hospital, ready to receive."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.catalog.models import Part
from supply_app.facilities.models import Facility
from supply_app.ordering.models import PurchaseOrder
from supply_app.ordering.service import approve_order, create_order, submit_order

DEMO_ORDER_NOTE = "DEMO order: restock of tips and cartridges (approved, ready to receive)"
DEMO_LINES = {"STT2190-5": 4, "STT2309-5": 2, "CRX2111-10": 3}


def load_demo_orders(session: Session) -> list[str]:
    """Add the demo order once (built and submitted by purchaser, approved by purchaser2)."""
    existing = session.scalar(
        select(PurchaseOrder).where(PurchaseOrder.notes == DEMO_ORDER_NOTE).limit(1)
    )
    if existing is not None:
        return [_describe(existing)]
    facility = session.scalar(select(Facility).where(Facility.code == "DEMO-HOPD"))
    buyer = session.scalar(select(User).where(User.username == "purchaser"))
    approver = session.scalar(select(User).where(User.username == "purchaser2"))
    parts = {p.part_number: p for p in session.scalars(select(Part))}
    order = create_order(
        session,
        facility=facility,
        actor=buyer,
        header={
            "fund_code": "2F",
            "priority": 13,
            "required_delivery_date": facility.today() + timedelta(days=30),
            "notes": DEMO_ORDER_NOTE,
        },
        lines=[(parts[number], packs) for number, packs in DEMO_LINES.items()],
    )
    submit_order(session, order=order, actor=buyer)
    approve_order(session, order=order, actor=approver)
    return [_describe(order)]


def _describe(order: PurchaseOrder) -> str:
    """The same line on every run, so reruns print what the first run printed."""
    return f"Demo order {order.document_number} at {order.facility.code} ({order.status})."
