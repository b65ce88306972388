"""Orders that need someone: awaiting a user's approval, or past their required delivery date.

The daily digest and the landing pages read these; both are scoped to the user's facilities.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.permissions import ORDER_APPROVERS
from supply_app.auth.service import scoped
from supply_app.ordering.models import OPEN_STATUSES, PurchaseOrder
from supply_app.ordering.service import ORDER_LOADS


def awaiting_approval(session: Session, user: User) -> list[PurchaseOrder]:
    """Submitted orders at the user's facilities that the user may approve (not their own)."""
    if user.role not in ORDER_APPROVERS:
        return []
    stmt = scoped(
        select(PurchaseOrder)
        .options(*ORDER_LOADS)
        .where(
            PurchaseOrder.status == "submitted",
            PurchaseOrder.created_by_id != user.id,
            PurchaseOrder.submitted_by_id != user.id,
        )
        .order_by(PurchaseOrder.submitted_at, PurchaseOrder.id),
        PurchaseOrder.facility_id,
        user,
    )
    return list(session.scalars(stmt))


def overdue(session: Session, user: User) -> list[PurchaseOrder]:
    """Open orders at the user's facilities whose required delivery date has passed there."""
    stmt = scoped(
        select(PurchaseOrder)
        .options(*ORDER_LOADS)
        .where(PurchaseOrder.status.in_(OPEN_STATUSES))
        .order_by(PurchaseOrder.required_delivery_date, PurchaseOrder.id),
        PurchaseOrder.facility_id,
        user,
    )
    return [
        order
        for order in session.scalars(stmt)
        if order.required_delivery_date < order.facility.today()
    ]
