"""Par levels per facility and part, and the alerts they and expiry dates raise."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.service import record_audit
from supply_app.catalog.models import Part
from supply_app.errors import InvalidInput, NotFound
from supply_app.facilities.models import Facility
from supply_app.inventory.holds import holds_on
from supply_app.inventory.models import ParLevel
from supply_app.inventory.queries import balances_query, on_hand_by_part
from supply_app.inventory.rules import PAR_MAX, PAR_MIN


def par_levels(session: Session, facility_id: int) -> list[ParLevel]:
    """A facility's par levels in part-number order."""
    return list(
        session.scalars(
            select(ParLevel)
            .join(Part, Part.id == ParLevel.part_id)
            .where(ParLevel.facility_id == facility_id)
            .order_by(Part.part_number, ParLevel.id)
        )
    )


def _wanted_levels(session: Session, levels: list[dict[str, Any]]) -> dict[int, tuple[int, int]]:
    """(min, max) per part from the request, each checked.

    :raises InvalidInput: a part listed twice, a bound out of range, or max below min.
    :raises NotFound: an unknown part.
    """
    wanted: dict[int, tuple[int, int]] = {}
    for index, level in enumerate(levels):
        part_id, where = level["part_id"], f"levels.{index}"
        if part_id in wanted:
            raise InvalidInput(f"Part {part_id} is listed twice.", field=where)
        low = PAR_MIN.check(level["min_eaches"], f"{where}.min_eaches")
        high = PAR_MAX.check(level["max_eaches"], f"{where}.max_eaches")
        if high < low:
            raise InvalidInput(
                "The maximum must be at least the minimum.", field=f"{where}.max_eaches"
            )
        if session.get(Part, part_id) is None:
            raise NotFound(f"No part with id {part_id}.")
        wanted[part_id] = (low, high)
    return wanted


def set_par_levels(
    session: Session, *, facility: Facility, levels: list[dict[str, Any]], actor: User | None
) -> list[ParLevel]:
    """Replace a facility's par levels with `levels`; every change is audited.

    :raises InvalidInput: a part listed twice, or max below min.
    :raises NotFound: an unknown part.
    """
    wanted = _wanted_levels(session, levels)
    # Replacements of one facility's set take turns on its row (NO KEY UPDATE, so stock
    # writes that only reference the facility are not blocked): the second then reads the
    # set the first committed instead of inserting the same (facility, part) key again.
    # SQLite's BEGIN IMMEDIATE already serialises writers.
    session.execute(
        select(Facility.id).where(Facility.id == facility.id).with_for_update(key_share=True)
    )
    current = {p.part_id: p for p in par_levels(session, facility.id)}
    for part_id, level in current.items():
        if part_id not in wanted:
            _audit_par(session, actor, facility, level, (level.min_eaches, level.max_eaches), None)
            session.delete(level)
    for part_id, (low, high) in wanted.items():
        level = current.get(part_id)
        before = (level.min_eaches, level.max_eaches) if level else None
        if before == (low, high):
            continue
        if level is None:
            level = ParLevel(facility_id=facility.id, part_id=part_id)
            session.add(level)
        level.min_eaches, level.max_eaches = low, high
        level.updated_by_id = actor.id if actor is not None else None
        session.flush()
        _audit_par(session, actor, facility, level, before, (low, high))
    session.flush()
    return par_levels(session, facility.id)


def _audit_par(
    session: Session,
    actor: User | None,
    facility: Facility,
    level: ParLevel,
    before: tuple[int, int] | None,
    after: tuple[int, int] | None,
) -> None:
    def _as_dict(pair: tuple[int, int] | None) -> dict[str, int]:
        return {} if pair is None else {"min_eaches": pair[0], "max_eaches": pair[1]}

    record_audit(
        session,
        actor=actor,
        action="par_level.delete" if after is None else "par_level.set",
        entity=("par_level", level.id),
        facility_id=facility.id,
        before={"part_id": level.part_id, **_as_dict(before)} if before else None,
        after={"part_id": level.part_id, **_as_dict(after)} if after else None,
    )


def alerts(
    session: Session, facility: Facility, on_date: date | None = None
) -> list[dict[str, Any]]:
    """Below-min parts, lots on hold (with their recall), lots expiring within the facility's
    window, and expired stock on hand. A held lot is listed as on hold only.

    on_date defaults to the facility's own today.
    """
    on_date = on_date or facility.today()
    found: list[dict[str, Any]] = []
    usable = on_hand_by_part(session, facility.id, usable_on=on_date)
    for level in par_levels(session, facility.id):
        have = usable.get(level.part_id, 0)
        if have < level.min_eaches:
            found.append(
                {
                    "kind": "below_min",
                    "part": level.part,
                    "lot": None,
                    "on_hand": have,
                    "min_eaches": level.min_eaches,
                    "max_eaches": level.max_eaches,
                    "days_to_expiry": None,
                    "recall": None,
                }
            )
    balances = list(session.scalars(balances_query(facility.id)))
    recalls = holds_on(session, [b.lot_id for b in balances if b.held_by_recall_id])
    for balance in balances:
        days = (balance.lot.expiry_date - on_date).days
        recall = recalls.get(balance.lot_id)
        if recall is None and days > facility.expiry_window_days:
            continue
        kind = "on_hold" if recall else "expired" if days < 0 else "expiring"
        found.append(
            {
                "kind": kind,
                "part": balance.lot.part,
                "lot": balance.lot,
                "on_hand": balance.on_hand,
                "min_eaches": None,
                "max_eaches": None,
                "days_to_expiry": days,
                "recall": recall,
            }
        )
    return found
