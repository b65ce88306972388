"""Reading stock: balances, per-part totals, FEFO picking, burn rates and the ledger's pages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased, selectinload, with_expression

from supply_app.catalog.models import Part
from supply_app.clock import start_of_day
from supply_app.facilities.models import Facility
from supply_app.inventory.errors import InsufficientStock
from supply_app.inventory.holds import holding_recall_id, on_hold
from supply_app.inventory.models import Lot, StockBalance, StockMovement
from supply_app.inventory.rules import EACHES


def pick_fefo(
    session: Session, *, facility: Facility, part: Part, eaches: int, on_date: date
) -> list[tuple[Lot, int]]:
    """Lots to take eaches of a part from, earliest expiry first; expired, held, empty excluded.

    :raises InsufficientStock: the unexpired stock of the part is short.
    """
    EACHES.check(eaches, "eaches")
    rows = session.execute(
        select(Lot, StockBalance.on_hand)
        .join(StockBalance, StockBalance.lot_id == Lot.id)
        .where(
            StockBalance.facility_id == facility.id,
            Lot.part_id == part.id,
            StockBalance.on_hand > 0,
            Lot.expiry_date >= on_date,
            ~on_hold(Lot.id),
        )
        .order_by(Lot.expiry_date, Lot.id)
    ).all()
    picks: list[tuple[Lot, int]] = []
    remaining = eaches
    for lot, on_hand in rows:
        if remaining == 0:
            break
        taken = min(on_hand, remaining)
        picks.append((lot, taken))
        remaining -= taken
    if remaining:
        available = eaches - remaining
        raise InsufficientStock(
            f"{part.part_number}: {available} usable "
            f"{'each' if available == 1 else 'eaches'} (unexpired, not on hold) on hand at "
            f"{facility.code}, "
            f"{eaches} asked for.",
            requested=eaches,
            available=available,
            part_number=part.part_number,
        )
    return picks


def on_hand_by_part(
    session: Session, facility_id: int, usable_on: date | None = None
) -> dict[int, int]:
    """Eaches on hand per part_id at a facility (only usable lots, unexpired on usable_on and
    not on hold, if given)."""
    stmt = (
        select(Lot.part_id, func.sum(StockBalance.on_hand))
        .join(Lot, Lot.id == StockBalance.lot_id)
        .where(StockBalance.facility_id == facility_id, StockBalance.on_hand > 0)
        .group_by(Lot.part_id)
    )
    if usable_on is not None:
        stmt = stmt.where(Lot.expiry_date >= usable_on, ~on_hold(Lot.id))
    return {part_id: int(total) for part_id, total in session.execute(stmt)}


def issued_eaches_by_part(session: Session, facility: Facility, since: date) -> dict[int, int]:
    """Net eaches issued per part_id since the start of a facility-local day: the burn rate.

    Issues minus reversals of those issues; "since" begins at midnight where the facility is.
    """
    start = start_of_day(since, facility.time_zone)
    original = aliased(StockMovement)
    issued = (
        select(Lot.part_id, func.sum(-StockMovement.eaches))
        .join(Lot, Lot.id == StockMovement.lot_id)
        .where(
            StockMovement.facility_id == facility.id,
            StockMovement.kind == "issue",
            StockMovement.created_at >= start,
        )
        .group_by(Lot.part_id)
    )
    returned = (
        select(Lot.part_id, func.sum(StockMovement.eaches))
        .join(Lot, Lot.id == StockMovement.lot_id)
        .join(original, original.id == StockMovement.reverses_id)
        .where(
            StockMovement.facility_id == facility.id,
            StockMovement.kind == "reversal",
            original.kind == "issue",
            original.created_at >= start,
        )
        .group_by(Lot.part_id)
    )
    totals = {part_id: int(n) for part_id, n in session.execute(issued)}
    for part_id, n in session.execute(returned):
        totals[part_id] = totals.get(part_id, 0) - int(n)
    return {part_id: n for part_id, n in totals.items() if n > 0}


def balances_query(
    facility_id: int, part_id: int | None = None, include_empty: bool = False
) -> Select:
    """Balance rows of a facility by part, then expiry (FEFO order), then lot.

    Each row's `held_by_recall_id` names the recall holding its lot (None when usable).
    """
    stmt = (
        select(StockBalance)
        .options(with_expression(StockBalance.held_by_recall_id, holding_recall_id(Lot.id)))
        # Rows already in the session get the expression too (it is set only on load).
        .execution_options(populate_existing=True)
        .join(Lot, Lot.id == StockBalance.lot_id)
        .where(StockBalance.facility_id == facility_id)
        .order_by(Lot.part_id, Lot.expiry_date, Lot.id)
    )
    if part_id is not None:
        stmt = stmt.where(Lot.part_id == part_id)
    if not include_empty:
        stmt = stmt.where(StockBalance.on_hand > 0)
    return stmt


def part_totals(session: Session, facility_id: int, on_date: date) -> list[dict[str, Any]]:
    """Per-part totals at a facility: eaches, usable (unexpired, not on hold) eaches, value, next
    expiry."""
    usable = (Lot.expiry_date >= on_date) & ~on_hold(Lot.id)
    rows = session.execute(
        select(
            Part,
            func.sum(StockBalance.on_hand).label("on_hand"),
            func.sum(case((usable, StockBalance.on_hand), else_=0)).label("usable"),
            func.sum(StockBalance.value_cents).label("value_cents"),
            func.min(case((Lot.expiry_date >= on_date, Lot.expiry_date), else_=None)).label(
                "next_expiry"
            ),
        )
        .join(Lot, Lot.part_id == Part.id)
        .join(StockBalance, StockBalance.lot_id == Lot.id)
        .where(StockBalance.facility_id == facility_id, StockBalance.on_hand > 0)
        .group_by(Part.id)
        .order_by(Part.part_number, Part.id)
    ).all()
    return [
        {
            "part": row.Part,
            "on_hand": int(row.on_hand),
            "usable": int(row.usable),
            "value_cents": int(row.value_cents),
            "next_expiry": row.next_expiry,
        }
        for row in rows
    ]


def holdings(session: Session, lot_id: int, facility_ids: set[int] | None) -> list[StockBalance]:
    """Who holds a lot: its balance rows at the given facilities (None: all), by facility."""
    stmt = (
        select(StockBalance).where(StockBalance.lot_id == lot_id).order_by(StockBalance.facility_id)
    )
    if facility_ids is not None:
        stmt = stmt.where(StockBalance.facility_id.in_(facility_ids))
    return list(session.scalars(stmt))


def ledger_page(
    session: Session,
    *,
    facility_ids: Iterable[int] | None,
    after_id: int,
    limit: int,
    lot_id: int | None = None,
    kind: str | None = None,
    newest_first: bool = False,
) -> list[StockMovement]:
    """One keyset page of movements at the given facilities (None: all), oldest first.

    The page starts strictly after after_id. With newest_first it runs backwards from
    after_id (0 = from the newest), which is how people read a history on screen. Narrowed
    to one lot it answers "who received it, who holds it, which cases used it" (recall).
    """
    stmt = select(StockMovement).options(selectinload(StockMovement.vendor_return)).limit(limit)
    if newest_first:
        if after_id:
            stmt = stmt.where(StockMovement.id < after_id)
        stmt = stmt.order_by(StockMovement.id.desc())
    else:
        stmt = stmt.where(StockMovement.id > after_id).order_by(StockMovement.id)
    if facility_ids is not None:
        stmt = stmt.where(StockMovement.facility_id.in_(list(facility_ids)))
    if lot_id is not None:
        stmt = stmt.where(StockMovement.lot_id == lot_id)
    if kind is not None:
        stmt = stmt.where(StockMovement.kind == kind)
    return list(session.scalars(stmt))


def on_hand(session: Session, facility_id: int, lot_id: int) -> int:
    """Eaches of a lot on hand at a facility (0 when it never held it)."""
    found = session.scalar(
        select(StockBalance.on_hand).where(
            StockBalance.facility_id == facility_id, StockBalance.lot_id == lot_id
        )
    )
    return found or 0


def reversed_ids(session: Session, movement_ids: Iterable[int]) -> set[int]:
    """Which of the movements have been reversed."""
    ids = list(movement_ids)
    if not ids:
        return set()
    return set(
        session.scalars(select(StockMovement.reverses_id).where(StockMovement.reverses_id.in_(ids)))
    )
