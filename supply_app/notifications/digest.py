"""What needs a user's attention today, by role, across their facilities: the daily digest.

The same digest is mailed each morning and shown on each role's landing page, so the two
can never disagree. Stock items come from inventory's alerts (each facility's own expiry
window and calendar), order items from ordering's queues.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.permissions import ORDER_BUILDERS, STOCK_MOVERS
from supply_app.facilities.models import Facility
from supply_app.facilities.service import visible_facilities
from supply_app.inventory import service as inventory
from supply_app.ordering import queues
from supply_app.ordering.models import PurchaseOrder

#: (key, heading) in the order a digest lists them.
SECTIONS = (
    ("on_hold", "Lots on hold at your facilities (recalls)"),
    ("expired", "Expired lots still on the shelf"),
    ("expiring", "Lots expiring within the facility's window"),
    ("below_min", "Parts below their minimum"),
    ("awaiting_approval", "Orders awaiting your approval"),
    ("overdue", "Orders past their required delivery date"),
)
#: What each role is told about: what it can act on, or must not use.
ROLE_SECTIONS = {
    "admin": {key for key, _ in SECTIONS},
    "purchaser": {"on_hold", "below_min", "awaiting_approval", "overdue"},
    "materials": {"on_hold", "expired", "expiring", "below_min", "overdue"},
    "clinician": {"on_hold", "expired", "expiring"},
    "finance": {"on_hold", "expired", "overdue"},
    "viewer": {"on_hold", "expired", "expiring", "below_min", "overdue"},
}


@dataclass(frozen=True)
class Item:
    """One line of a digest: where, what, and the page (a path) that deals with it."""

    facility_code: str
    text: str
    path: str
    action: str = "Open"  # the words on the button (landing page) or link (email)


@dataclass
class Digest:
    """A user's items per section for one day (the first facility's calendar)."""

    user: User
    day: date
    sections: dict[str, list[Item]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many items in all."""
        return sum(len(items) for items in self.sections.values())

    def listed(self) -> list[tuple[str, list[Item]]]:
        """(heading, items) of the non-empty sections, in digest order."""
        return [(title, self.sections[key]) for key, title in SECTIONS if self.sections.get(key)]


def user_facilities(session: Session, user: User) -> list[Facility]:
    """The active facilities the user holds, in code order."""
    return list(session.scalars(visible_facilities(session, user)))


def digest_day(facilities: list[Facility]) -> date | None:
    """The day a user's digest is for: today at their first facility (None: no facility)."""
    return facilities[0].today() if facilities else None


def _stock_item(user: User, facility: Facility, alert: dict) -> Item:
    """One alert as a digest item, linking to what this user's role does about it."""
    part, lot, on_hand = alert["part"], alert["lot"], alert["on_hand"]
    here = f"facility={facility.id}"
    if alert["kind"] == "below_min":
        text = f"{part.part_number}: {on_hand} usable eaches, minimum {alert['min_eaches']}"
        if user.role in ORDER_BUILDERS:
            return Item(facility.code, text, f"/orders?{here}", "See reorder suggestions")
        return Item(facility.code, text, f"/stock/alerts?{here}", "See alerts")
    if alert["kind"] == "on_hold":
        recall = alert["recall"]
        text = (
            f"{part.part_number} lot {lot.lot_number}: {on_hand} eaches on hold under "
            f"recall {recall.id} ({recall.label}): do not use them; waste them or return "
            "them to the vendor"
        )
        return Item(facility.code, text, f"/recalls/{recall.id}", "See the recall")
    if alert["kind"] == "expired":
        text = (
            f"{part.part_number} lot {lot.lot_number}: {on_hand} eaches expired on "
            f"{lot.expiry_date.isoformat()}"
        )
        if user.role in STOCK_MOVERS:
            waste = f"/stock/waste?{here}&lot={lot.id}&reason=expired"
            return Item(facility.code, f"{text}; waste them", waste, "Waste")
        return Item(facility.code, f"{text}; do not use", f"/lots/{lot.id}", "See the lot")
    text = (
        f"{part.part_number} lot {lot.lot_number}: {on_hand} eaches expire on "
        f"{lot.expiry_date.isoformat()} (in {alert['days_to_expiry']} days); use first"
    )
    return Item(facility.code, text, f"/stock?{here}", "See stock")


def _stock_items(
    session: Session, user: User, facility: Facility, wanted: set[str]
) -> dict[str, list[Item]]:
    """The facility's alerts as digest items, for the sections wanted."""
    found: dict[str, list[Item]] = {}
    for alert in inventory.alerts(session, facility):
        if alert["kind"] in wanted:
            found.setdefault(alert["kind"], []).append(_stock_item(user, facility, alert))
    return found


def _order_items(
    orders: list[PurchaseOrder], text: Callable[[PurchaseOrder], str], action: str
) -> list[Item]:
    """Digest items for orders, each linking to its page."""
    return [
        Item(order.facility.code, text(order), f"/orders/{order.id}", action) for order in orders
    ]


def build_digest(session: Session, user: User) -> Digest | None:
    """The user's digest for their today; None when they hold no active facility."""
    facilities = user_facilities(session, user)
    day = digest_day(facilities)
    if day is None:
        return None
    wanted = ROLE_SECTIONS.get(user.role, set())
    digest = Digest(user=user, day=day)
    for facility in facilities:
        for key, items in _stock_items(session, user, facility, wanted).items():
            digest.sections.setdefault(key, []).extend(items)
    if "awaiting_approval" in wanted:
        digest.sections["awaiting_approval"] = _order_items(
            queues.awaiting_approval(session, user),
            lambda order: (
                f"Order {order.document_number} ({len(order.lines)} lines, "
                f"submitted by {order.submitted_by.display_name})"
            ),
            "Review and approve",
        )
    if "overdue" in wanted:
        digest.sections["overdue"] = _order_items(
            queues.overdue(session, user),
            lambda order: (
                f"Order {order.document_number} was required by "
                f"{order.required_delivery_date.isoformat()} ({order.status.replace('_', ' ')})"
            ),
            "See the order",
        )
    return digest
