"""Recalls: a notice, its lots on hold everywhere, each holder's disposition, and the end.

Placing a recall (or adding lots to it) holds its lots at once in every facility: the ledger
refuses to move them except by waste or a return to the vendor (see holds). Placement then
locks every balance of those lots, so a request that was already moving one finishes first
and any that waits on the lock sees the hold when it gets it.

A holder is a facility that has the lot on its shelf or has disposed of it since the recall;
its disposition is read from the ledger (its waste and returns of the lot, net of any
reversal), so there is no second record to keep in step. Closing needs every holder to be
done; releasing lifts the holds. Placing, adding lots, releasing and closing are audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from supply_app.auth.models import User
from supply_app.auth.permissions import RELEASES_ARE_GLOBAL
from supply_app.auth.service import record_audit, require_every_facility
from supply_app.catalog.models import Part
from supply_app.clock import today_in, utcnow
from supply_app.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from supply_app.facilities.models import Facility
from supply_app.inventory.holds import names_lot
from supply_app.inventory.ledger import lock
from supply_app.inventory.models import Lot, Recall, RecallLot, StockBalance, StockMovement
from supply_app.inventory.rules import (
    DISPOSITION,
    LOT_NUMBER,
    MAX_RECALL_LOTS,
    NOTICE_DATE,
    NOTICE_NUMBER,
    RECALL_NOTE,
    RECALL_REASON,
    RECALL_SOURCE,
)

#: The first place on Earth to reach a date: a notice dated later than its today is a typo.
EARLIEST_ZONE = "Pacific/Kiritimati"


@dataclass(frozen=True)
class Holder:
    """One facility's part in a recall for one lot: what it still holds, what it disposed of."""

    facility: Facility
    lot: Lot
    on_hand: int
    wasted: int
    returned: int

    @property
    def done(self) -> bool:
        """Nothing of the lot is left on this facility's shelf."""
        return self.on_hand == 0


def get_recall(session: Session, recall_id: int, *, lock_row: bool = False) -> Recall:
    """A recall by id (row-locked for a change when asked).

    :raises NotFound: no such recall.
    """
    stmt = select(Recall).where(Recall.id == recall_id)
    if lock_row:
        stmt = stmt.with_for_update()
    recall = session.scalar(stmt)
    if recall is None:
        raise NotFound(f"No recall with id {recall_id}.")
    return recall


def recalls_query(status: str | None = None) -> Select:
    """Recalls, open ones first, newest first."""
    stmt = select(Recall).order_by((Recall.status != "open"), Recall.id.desc())
    if status is not None:
        stmt = stmt.where(Recall.status == status)
    return stmt


def _named_lots(
    session: Session, lots: list[dict[str, Any]], known: Iterable[tuple[int, str]] = ()
) -> list[tuple[Part, str]]:
    """Each {part_id, lot_number} checked: 1 to 100 lots, known parts, no lot twice.

    :raises InvalidInput: naming the field (lots.N.part_id / lots.N.lot_number).
    """
    if not 1 <= len(lots) <= MAX_RECALL_LOTS:
        raise InvalidInput(f"Name 1 to {MAX_RECALL_LOTS} lots.", field="lots")
    seen = set(known)
    named = []
    for index, item in enumerate(lots):
        part = session.get(Part, item["part_id"])
        if part is None:
            raise InvalidInput(f"No part with id {item['part_id']}.", field=f"lots.{index}.part_id")
        number = LOT_NUMBER.check(item["lot_number"], f"lots.{index}.lot_number")
        if (part.id, number) in seen:
            raise InvalidInput(
                f"{part.part_number} lot {number} is already on this recall.",
                field=f"lots.{index}.lot_number",
            )
        seen.add((part.id, number))
        named.append((part, number))
    return named


def _hold(session: Session, recall: Recall, named: list[tuple[Part, str]], actor: User | None):
    """Add the lots to the recall, then lock every balance of them (in-flight moves finish)."""
    for part, number in named:
        session.add(
            RecallLot(
                recall=recall,
                part_id=part.id,
                lot_number=number,
                added_by_id=actor.id if actor else None,
                added_at=utcnow(),
            )
        )
    session.flush()
    keys = session.execute(
        select(StockBalance.facility_id, StockBalance.lot_id).where(
            StockBalance.lot_id.in_([lot.id for lot in recalled_lots(session, recall)])
        )
    ).all()
    lock(session, [tuple(key) for key in keys])


def _lots_audit(named: Iterable[tuple[Part, str]]) -> list[dict[str, str]]:
    return [{"part_number": part.part_number, "lot_number": number} for part, number in named]


def place_recall(
    session: Session,
    *,
    source: str,
    notice_number: str,
    notice_date: date,
    reason: str,
    lots: list[dict[str, Any]],
    actor: User | None,
) -> Recall:
    """Record a recall notice and hold its lots everywhere at once (audited).

    :raises InvalidInput: a field its rule refuses, a notice dated in the future, no lots,
        an unknown part or a lot named twice.
    :raises Conflict: the same notice from the same source is already on file.
    """
    source = RECALL_SOURCE.check(source, "source")
    notice_number = NOTICE_NUMBER.check(notice_number, "notice_number")
    notice_date = NOTICE_DATE.check(notice_date, "notice_date")
    if notice_date > today_in(EARLIEST_ZONE):
        raise InvalidInput(
            f"The notice date {notice_date.isoformat()} has not come anywhere yet.",
            field="notice_date",
        )
    reason = RECALL_REASON.check(reason, "reason")
    named = _named_lots(session, lots)
    existing = session.scalar(
        select(Recall.id).where(Recall.source == source, Recall.notice_number == notice_number)
    )
    if existing is not None:
        raise Conflict(
            f"{RECALL_SOURCE.words(source)} notice {notice_number} is already on file as "
            f"recall {existing}; add lots to it instead.",
            recall_id=existing,
        )
    recall = Recall(
        source=source,
        notice_number=notice_number,
        notice_date=notice_date,
        reason=reason,
        status="open",
        placed_by_id=actor.id if actor else None,
        placed_at=utcnow(),
    )
    session.add(recall)
    _hold(session, recall, named, actor)
    _audit(session, recall, actor, "place", reason=reason, lots=_lots_audit(named))
    return recall


def add_lots(
    session: Session, *, recall: Recall, lots: list[dict[str, Any]], actor: User | None
) -> list[RecallLot]:
    """Hold more lots under an open recall (a notice was extended); audited.

    :raises InvalidTransition: the recall is released or closed.
    :raises InvalidInput: see place_recall.
    """
    _require_open(recall, "add lots to")
    known = [(item.part_id, item.lot_number) for item in recall.lots]
    named = _named_lots(session, lots, known)
    _hold(session, recall, named, actor)
    _audit(session, recall, actor, "add_lots", lots=_lots_audit(named))
    return recall.lots[len(known) :]


def _require_open(recall: Recall, action: str) -> None:
    if recall.status != "open":
        raise InvalidTransition(
            f"Recall {recall.id} is {recall.status}; only an open recall can {action}.",
            recall_status=recall.status,
        )


def release_recall(session: Session, *, recall: Recall, note: str, actor: User | None) -> Recall:
    """Lift the holds of an open recall (the notice was withdrawn or does not apply); audited.

    :raises InvalidInput: no note saying why.
    :raises InvalidTransition: the recall is not open.
    """
    note = RECALL_NOTE.check(note, "note")
    if actor is not None:
        require_every_facility(actor, RELEASES_ARE_GLOBAL)
    _require_open(recall, "be released")
    return _end(session, recall, "released", note, actor)


def close_recall(
    session: Session,
    *,
    recall: Recall,
    note: str,
    actor: User | None,
    visible: set[int] | None,
) -> Recall:
    """Close an open recall once no facility holds any of its lots; its lots stay on hold.

    :raises InvalidInput: no note.
    :raises InvalidTransition: the recall is not open, or stock is still held (the facilities
        among `visible` are named; others are counted).
    """
    note = RECALL_NOTE.check(note, "note")
    _require_open(recall, "be closed")
    waiting = [h for h in holders(session, recall, None) if not h.done]
    if waiting:
        shown = {h.facility.code for h in waiting if visible is None or h.facility.id in visible}
        others = len({h.facility.id for h in waiting}) - len(shown)
        where = sorted(shown) + ([f"{others} other facilities"] if others else [])
        raise InvalidTransition(
            f"Recall {recall.id} cannot close: {sum(h.on_hand for h in waiting)} eaches are "
            f"still held at {', '.join(where)}. Waste them or return them to the vendor first.",
            recall_status=recall.status,
        )
    return _end(session, recall, "closed", note, actor)


def _end(session: Session, recall: Recall, status: str, note: str, actor: User | None) -> Recall:
    recall.status, recall.end_note, recall.ended_at = status, note, utcnow()
    recall.ended_by_id = actor.id if actor else None
    session.flush()
    _audit(session, recall, actor, "release" if status == "released" else "close", note=note)
    return recall


def _audit(session: Session, recall: Recall, actor: User | None, action: str, **after: Any):
    record_audit(
        session,
        actor=actor,
        action=f"recall.{action}",
        entity=("recall", recall.id),
        after={
            "status": recall.status,
            "source": recall.source,
            "notice_number": recall.notice_number,
            **after,
        },
    )


def recalled_lots(session: Session, recall: Recall) -> list[Lot]:
    """The recall's lots that are on file (a named lot may never have been received)."""
    return list(
        session.scalars(
            select(Lot)
            .where(exists().where(RecallLot.recall_id == recall.id, names_lot(RecallLot, Lot)))
            .order_by(Lot.id)
        )
    )


_reversal = aliased(StockMovement)


def holders(session: Session, recall: Recall, facility_ids: set[int] | None) -> list[Holder]:
    """Each facility (of facility_ids; None: all) holding or having disposed of a lot of the
    recall since it was placed, by facility code then lot."""
    lots = {lot.id: lot for lot in recalled_lots(session, recall)}
    if not lots:
        return []
    shelf = select(StockBalance.facility_id, StockBalance.lot_id, StockBalance.on_hand).where(
        StockBalance.lot_id.in_(lots), StockBalance.on_hand > 0
    )
    disposed = (
        select(
            StockMovement.facility_id,
            StockMovement.lot_id,
            StockMovement.kind,
            func.sum(-StockMovement.eaches),
        )
        .where(
            StockMovement.lot_id.in_(lots),
            StockMovement.kind.in_(DISPOSITION.values),
            StockMovement.created_at >= recall.placed_at,
            ~exists().where(_reversal.reverses_id == StockMovement.id),
        )
        .group_by(StockMovement.facility_id, StockMovement.lot_id, StockMovement.kind)
    )
    if facility_ids is not None:
        shelf = shelf.where(StockBalance.facility_id.in_(facility_ids))
        disposed = disposed.where(StockMovement.facility_id.in_(facility_ids))
    figures: dict[tuple[int, int], dict[str, int]] = {}
    for facility_id, lot_id, on_hand in session.execute(shelf):
        figures.setdefault((facility_id, lot_id), {})["on_hand"] = int(on_hand)
    for facility_id, lot_id, kind, eaches in session.execute(disposed):
        figures.setdefault((facility_id, lot_id), {})[kind] = int(eaches)
    facilities = {
        f.id: f
        for f in session.scalars(
            select(Facility).where(Facility.id.in_({key[0] for key in figures}))
        )
    }
    found = [
        Holder(
            facility=facilities[facility_id],
            lot=lots[lot_id],
            on_hand=values.get("on_hand", 0),
            wasted=values.get("waste", 0),
            returned=values.get("return_to_vendor", 0),
        )
        for (facility_id, lot_id), values in figures.items()
    ]
    return sorted(found, key=lambda h: (h.facility.code, h.lot.part.part_number, h.lot.id))


def holding_facility_ids(session: Session, lot_numbers: Iterable[RecallLot]) -> set[int]:
    """Facilities with any lot these recall lines name on the shelf now."""
    lines = [item.id for item in lot_numbers]
    return set(
        session.scalars(
            select(StockBalance.facility_id)
            .join(Lot, Lot.id == StockBalance.lot_id)
            .where(
                StockBalance.on_hand > 0,
                exists().where(RecallLot.id.in_(lines), names_lot(RecallLot, Lot)),
            )
            .distinct()
        )
    )
