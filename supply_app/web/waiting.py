"""What needs the signed-in user today, on their role's landing page: one list.

It opens with the daily digest's sections (notifications.digest: lots on hold, expired and
expiring lots, parts below minimum, orders awaiting approval, overdue orders), so the page
and the morning email never disagree, then adds the work only a page can offer (drafts to
finish, orders to receive, cases to reprice). One function per extra kind, registered in
KINDS with the roles that act on it.
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
    ORDER_BUILDERS,
    ORDER_RECEIVERS,
)
from supply_app.auth.service import facility_ids_for, scoped
from supply_app.cases.fees import current_versions
from supply_app.cases.repricing import stale_cases
from supply_app.extensions import db
from supply_app.notifications.digest import build_digest
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


def stale_prices(session: Session, user: User) -> list[Waiting]:
    """Cases priced under an older fee schedule version or payer terms, to reprice."""
    ids = stale_cases(current_versions(session), facility_ids_for(session, user)).subquery()
    count = session.scalar(select(func.count()).select_from(ids))
    if not count:
        return []
    text = (
        f"{count} case{'s' if count != 1 else ''} priced under an older fee schedule or payer terms"
    )
    return [Waiting("All", text, url_for("web.fee_schedules"), "Reprice")]


#: (heading, roles, function): the work beyond the digest, in the order the page lists it.
KINDS: tuple[tuple[str, tuple[str, ...], Callable[[Session, User], list[Waiting]]], ...] = (
    ("Your draft orders", ORDER_BUILDERS, drafts_to_submit),
    ("Orders to receive", ORDER_RECEIVERS, orders_to_receive),
    ("Cases to reprice", FEE_SCHEDULE_EDITORS, stale_prices),
)


def _digest_sections(session: Session, user: User) -> list[tuple[str, list[Waiting]]]:
    """The user's digest for today, as the page lists it."""
    digest = build_digest(session, user)
    if digest is None:
        return []
    return [
        (title, [Waiting(i.facility_code, i.text, i.path, i.action) for i in items])
        for title, items in digest.listed()
    ]


def waiting_for(session: Session, user: User) -> list[tuple[str, list[Waiting]]]:
    """(heading, items): the digest's sections, then the other work the role acts on."""
    found = _digest_sections(session, user)
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
