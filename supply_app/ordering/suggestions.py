"""Reorder suggestions: what to order of each par-level part, with every figure behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.catalog.models import Part
from supply_app.catalog.service import price_in_effect
from supply_app.facilities.models import Facility
from supply_app.inventory import service as inventory
from supply_app.ordering.errors import NothingToOrder
from supply_app.ordering.models import OPEN_STATUSES, PurchaseOrder, PurchaseOrderLine
from supply_app.ordering.rules import MAX_PACKS
from supply_app.ordering.service import create_order

#: Days of issue history behind the burn rate.
BURN_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Suggestion:
    """What to reorder of one part at a facility, with every figure behind it (eaches)."""

    part: Part
    par_min: int
    par_max: int
    on_hand: int
    on_order: int
    issued_in_window: int
    window_days: int
    burn_rate_per_day: Decimal
    lead_time_days: int
    lead_time_demand: int
    projected: int
    packs: int
    unit_price_cents: int | None
    reason: str

    @property
    def eaches(self) -> int:
        """The suggested packs in eaches."""
        return self.packs * self.part.units_per_pack

    @property
    def estimated_cents(self) -> int | None:
        """Packs × today's contract pack price (None when unpriced)."""
        return None if self.unit_price_cents is None else self.packs * self.unit_price_cents


def on_order_by_part(session: Session, facility_id: int) -> dict[int, int]:
    """Eaches ordered but not yet received per part_id, over the facility's open orders."""
    outstanding = (PurchaseOrderLine.packs - PurchaseOrderLine.received_packs) * (
        PurchaseOrderLine.units_per_pack
    )
    rows = session.execute(
        select(PurchaseOrderLine.part_id, func.sum(outstanding))
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(PurchaseOrder.facility_id == facility_id, PurchaseOrder.status.in_(OPEN_STATUSES))
        .group_by(PurchaseOrderLine.part_id)
    )
    return {part_id: int(total) for part_id, total in rows}


def _ceil_div(numerator: int, denominator: int) -> int:
    """Integer ceiling of numerator / denominator (denominator > 0)."""
    return -(-numerator // denominator)


def _suggest(
    part: Part, par_min: int, par_max: int, figures: dict[str, int], price: int | None
) -> Suggestion:
    """Min/max with lead time: when stock left on arrival would be below min, fill to max."""
    lead_demand = _ceil_div(figures["issued"] * figures["lead"], BURN_WINDOW_DAYS)
    projected = figures["on_hand"] + figures["on_order"] - lead_demand
    packs = 0
    if not part.active:
        reason = "No longer in the catalog; not reordered."
    elif projected >= par_min:
        reason = (
            f"On hand + on order - lead-time demand = {projected} eaches, not below the "
            f"minimum of {par_min}; nothing to order."
        )
    else:
        shortfall = par_max - projected
        packs = min(_ceil_div(shortfall, part.units_per_pack), MAX_PACKS)
        reason = (
            f"On hand + on order - lead-time demand = {projected} eaches, below the minimum "
            f"of {par_min}; {shortfall} eaches reach the maximum of {par_max}, rounded up "
            f"to {packs} pack(s) of {part.units_per_pack}"
            + (f" (capped at {MAX_PACKS} packs)." if packs == MAX_PACKS else ".")
        )
    return Suggestion(
        part=part,
        par_min=par_min,
        par_max=par_max,
        on_hand=figures["on_hand"],
        on_order=figures["on_order"],
        issued_in_window=figures["issued"],
        window_days=BURN_WINDOW_DAYS,
        burn_rate_per_day=(Decimal(figures["issued"]) / BURN_WINDOW_DAYS).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        ),
        lead_time_days=figures["lead"],
        lead_time_demand=lead_demand,
        projected=projected,
        packs=packs,
        unit_price_cents=price,
        reason=reason,
    )


def reorder_suggestions(
    session: Session, *, facility: Facility, on: date | None = None
) -> list[Suggestion]:
    """A suggestion for every part with a par level at the facility, in part-number order.

    On hand counts only unexpired stock; on order is the unreceived packs of submitted,
    approved and partially received orders (drafts are not on order yet); demand over the
    facility's lead time is the 90-day average daily issue rate times the lead time.
    """
    on = on or facility.today()
    on_hand = inventory.on_hand_by_part(session, facility.id, usable_on=on)
    on_order = on_order_by_part(session, facility.id)
    issued = inventory.issued_eaches_by_part(
        session, facility, since=on - timedelta(days=BURN_WINDOW_DAYS)
    )
    suggestions = []
    for level in inventory.par_levels(session, facility.id):
        price = price_in_effect(session, level.part_id, on)
        figures = {
            "on_hand": on_hand.get(level.part_id, 0),
            "on_order": on_order.get(level.part_id, 0),
            "issued": issued.get(level.part_id, 0),
            "lead": facility.lead_time_days,
        }
        suggestions.append(
            _suggest(
                level.part,
                level.min_eaches,
                level.max_eaches,
                figures,
                price.unit_price_cents if price else None,
            )
        )
    return suggestions


def draft_from_suggestions(
    session: Session,
    *,
    facility: Facility,
    actor: User,
    header: dict[str, Any],
    part_ids: list[int] | None = None,
) -> PurchaseOrder:
    """Turn today's suggestions (optionally only some parts) into one draft order.

    :raises NothingToOrder: no (selected) part needs ordering.
    """
    chosen = [
        s
        for s in reorder_suggestions(session, facility=facility)
        if s.packs > 0 and (part_ids is None or s.part.id in part_ids)
    ]
    if not chosen:
        raise NothingToOrder(
            f"No part at {facility.code} is below its minimum once stock on hand, on order "
            "and lead-time demand are counted; nothing to order."
        )
    return create_order(
        session,
        facility=facility,
        actor=actor,
        header=header,
        lines=[(s.part, s.packs) for s in chosen],
    )
