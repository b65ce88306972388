"""The work waiting for the signed-in user, listed on their role's landing page.

One function per kind of item, each (session, user) -> items, registered in KINDS with the
roles that act on it. A new kind (a recall to act on, a digest item) is one more function
and one more line in KINDS; the page lists whatever the kinds return, in KINDS order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.permissions import (
    FEE_SCHEDULE_EDITORS,
    ORDER_APPROVERS,
    ORDER_BUILDERS,
    ORDER_RECEIVERS,
    STOCK_MOVERS,
)
from supply_app.auth.service import facility_ids_for, scoped
from supply_app.cases.fees import current_schedule
from supply_app.cases.service import stale_cases
from supply_app.coding import available_years
from supply_app.extensions import db
from supply_app.facilities.service import visible_facilities
from supply_app.inventory import service as inventory
from supply_app.ordering import queues
from supply_app.ordering.models import PurchaseOrder
from supply_app.ordering.service import ORDER_LOADS

# Where each role starts: the page it needs first, which lists the work waiting for it.
LANDING = {
    "purchaser": "web.orders",
    "materials": "web.alerts",
    "clinician": "web.case_new",
    "finance": "web.margin",
    "admin": "web.overview",
    "viewer": "web.overview",
}


def landing_endpoint(role: str) -> str:
    """The endpoint a role lands on (the overview when its page is not registered)."""
    endpoint = LANDING.get(role, "web.overview")
    return endpoint if endpoint in current_app.view_functions else "web.overview"


@dataclass(frozen=True)
class Waiting:
    """One piece of work: where, what, and the link that does it."""

    facility_code: str
    text: str
    url: str
    action: str


def _order_text(order: PurchaseOrder) -> str:
    lines = len(order.lines)
    return (
        f"Order {order.document_number or order.id}: {lines} line{'s' if lines != 1 else ''}"
        f", required by {order.required_delivery_date.isoformat()}"
    )


def awaiting_approval(session: Session, user: User) -> list[Waiting]:
    """Submitted orders at any of the user's facilities that they may approve."""
    return [
        Waiting(
            order.facility.code,
            f"{_order_text(order)}; submitted by {order.submitted_by.display_name}",
            url_for("web.order", order_id=order.id),
            "Review and approve",
        )
        for order in queues.awaiting_approval(session, user)
    ]


def _orders(session: Session, user: User, *statuses: str):
    stmt = scoped(
        select(PurchaseOrder)
        .options(*ORDER_LOADS)
        .where(PurchaseOrder.status.in_(statuses))
        .order_by(PurchaseOrder.required_delivery_date, PurchaseOrder.id),
        PurchaseOrder.facility_id,
        user,
    )
    return session.scalars(stmt)


def drafts_to_submit(session: Session, user: User) -> list[Waiting]:
    """Draft orders the user started and has not submitted."""
    return [
        Waiting(
            order.facility.code,
            _order_text(order),
            url_for("web.order", order_id=order.id),
            "Finish and submit",
        )
        for order in _orders(session, user, "draft")
        if order.created_by_id == user.id
    ]


def orders_to_receive(session: Session, user: User) -> list[Waiting]:
    """Approved orders with packs still to arrive."""
    return [
        Waiting(
            order.facility.code,
            _order_text(order),
            url_for("web.order", order_id=order.id),
            "Receive",
        )
        for order in _orders(session, user, "approved", "partially_received")
    ]


def _alerts(session: Session, user: User, kind: str):
    for facility in session.scalars(visible_facilities(session, user)):
        for alert in inventory.alerts(session, facility):
            if alert["kind"] == kind:
                yield facility, alert


def expired_on_shelf(session: Session, user: User) -> list[Waiting]:
    """Expired lots still on a shelf: to be wasted (materials) or set aside (others)."""
    can_waste = user.role in STOCK_MOVERS
    items = []
    for facility, alert in _alerts(session, user, "expired"):
        lot = alert["lot"]
        text = (
            f"{lot.part.part_number} lot {lot.lot_number}: {alert['on_hand']} eaches expired "
            f"on {lot.expiry_date.isoformat()}"
        )
        if can_waste:
            url = url_for("web.stock_waste", facility=facility.id, lot=lot.id, reason="expired")
            items.append(Waiting(facility.code, text, url, "Waste"))
        else:
            url = url_for("web.lot_trace", lot_id=lot.id)
            items.append(Waiting(facility.code, f"{text}; do not use", url, "See the lot"))
    return items


def below_minimum(session: Session, user: User) -> list[Waiting]:
    """Parts below their par minimum: order them (purchasers) or count them (materials)."""
    items = []
    for facility, alert in _alerts(session, user, "below_min"):
        text = (
            f"{alert['part'].part_number}: {alert['on_hand']} usable eaches, minimum "
            f"{alert['min_eaches']}"
        )
        if user.role in ORDER_BUILDERS:
            url, action = url_for("web.orders", facility=facility.id), "See reorder suggestions"
        else:
            url, action = url_for("web.alerts", facility=facility.id), "See alerts"
        items.append(Waiting(facility.code, text, url, action))
    return items


def stale_prices(session: Session, user: User) -> list[Waiting]:
    """Cases priced under an older fee schedule version, to reprice."""
    versions = {year: current_schedule(session, year).version for year in available_years()}
    ids = stale_cases(versions, facility_ids_for(session, user)).subquery()
    count = session.scalar(select(func.count()).select_from(ids))
    if not count:
        return []
    text = f"{count} case{'s' if count != 1 else ''} priced under an older fee schedule"
    return [Waiting("All", text, url_for("web.fee_schedules"), "Reprice")]


#: (heading, roles, function): the kinds of waiting work, in the order the page lists them.
KINDS: tuple[tuple[str, tuple[str, ...], Callable[[Session, User], list[Waiting]]], ...] = (
    ("Orders awaiting your approval", ORDER_APPROVERS, awaiting_approval),
    ("Your draft orders", ORDER_BUILDERS, drafts_to_submit),
    ("Orders to receive", ORDER_RECEIVERS, orders_to_receive),
    ("Expired stock on the shelf", ("admin", "materials", "clinician"), expired_on_shelf),
    ("Parts below their minimum", (*ORDER_BUILDERS, "materials"), below_minimum),
    ("Cases to reprice", FEE_SCHEDULE_EDITORS, stale_prices),
)


def waiting_for(session: Session, user: User) -> list[tuple[str, list[Waiting]]]:
    """(heading, items) of every kind of work the user's role acts on (empty kinds left out)."""
    found = []
    for heading, roles, items_of in KINDS:
        if user.role in roles:
            items = items_of(session, user)
            if items:
                found.append((heading, items))
    return found


def waiting_for_me() -> list[tuple[str, list[Waiting]]] | None:
    """The signed-in user's waiting work on their landing page; None on any other page."""
    if not current_user.is_authenticated or request.method != "GET":
        return None
    if request.endpoint != landing_endpoint(current_user.role):
        return None
    return waiting_for(db.session, current_user._get_current_object())
