"""Lots on hold: what a recall stops, defined once for the ledger and every reader.

A lot is on hold while a recall that names it is open or closed. A recall names lots by part
and lot number, so a lot that has not reached any shelf yet is held too; the number matches
a lot's number or a serialised unit's batch (GS1 AI 10), without regard to case, as people
type lot numbers; releasing the recall lifts the hold.
The ledger (ledger.py) asks this module before every balance change, so no door can forget:
only a disposition (waste, or a return to the vendor) and a reversal that puts stock back on
a shelf may move a held lot. Everything else (receipts, issues, cases, transfers, adjustments,
counts that differ, reversals that take stock off a shelf) is a 409 `lot-on-hold` that names
the recall.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Exists, and_, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from supply_app.inventory.errors import LotOnHold
from supply_app.inventory.models import Lot, Recall, RecallLot
from supply_app.inventory.rules import DISPOSITION

#: The one recall state that holds nothing (a closed recall's lots stay out of use for good).
RELEASED = "released"
#: Movements a hold allows: the dispositions, and reversals that put stock back on a shelf
#: (undoing an issue, a waste or a return: the stock stays held there).
HOLD_FREE_KINDS = frozenset((*DISPOSITION.values, "reversal"))
#: A reversal that takes stock off a shelf (undoing a receipt, a transfer, a found
#: adjustment): for a held lot it would move or remove held stock without a disposition,
#: so a hold refuses it like any other movement.
REVERSAL_OUT = "reversal_out"

_held_lot = aliased(Lot)  # never correlated with a `lot` in the query that embeds the test


def names_lot(recall_lot: type[RecallLot], lot: type[Lot]) -> ColumnElement[bool]:
    """SQL: the recall line names the lot: the same part, and the lot's number or its batch
    (a serialised unit's), without regard to case."""
    number = func.upper(recall_lot.lot_number)
    return and_(
        recall_lot.part_id == lot.part_id,
        or_(func.upper(lot.lot_number) == number, func.upper(lot.batch) == number),
    )


def _holding(lot_id: ColumnElement) -> list[ColumnElement]:
    """Conditions joining a lot id to a recall that holds it."""
    return [
        _held_lot.id == lot_id,
        names_lot(RecallLot, _held_lot),
        Recall.id == RecallLot.recall_id,
        # A literal, not a bound list, so the test fits executemany statements too.
        Recall.status != literal_column(f"'{RELEASED}'"),
    ]


def on_hold(lot_id: ColumnElement) -> Exists:
    """SQL: the lot with this id is on hold (embeddable in any statement about lots)."""
    return exists().where(and_(*_holding(lot_id)))


def holding_recall_id(lot_id: ColumnElement) -> ColumnElement:
    """SQL: the id of the first recall holding the lot, or NULL."""
    return select(Recall.id).where(*_holding(lot_id)).order_by(Recall.id).limit(1).scalar_subquery()


def holds_on(session: Session, lot_ids: Iterable[int]) -> dict[int, Recall]:
    """The first recall holding each of the lots that is on hold (others are left out)."""
    ids = sorted(set(lot_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(_held_lot.id, Recall)
        .where(*_holding(_held_lot.id)[1:], _held_lot.id.in_(ids))
        .order_by(Recall.id)
    ).all()
    found: dict[int, Recall] = {}
    for lot_id, recall in rows:
        found.setdefault(lot_id, recall)
    return found


def lot_on_hold(lot: Lot, recall: Recall) -> LotOnHold:
    """The 409 for moving a held lot, naming the recall that holds it."""
    return LotOnHold(
        f"{lot.part.part_number} lot {lot.lot_number} is on hold under recall "
        f"{recall.id} ({recall.label}): it cannot be received, used, moved or adjusted; "
        "waste it or return it to the vendor.",
        lot_id=lot.id,
        lot_number=lot.lot_number,
        part_number=lot.part.part_number,
        recall_id=recall.id,
        notice_number=recall.notice_number,
    )


def refuse_held(session: Session, lots: Iterable[Lot], kind: str) -> None:
    """Refuse a movement of `kind` when any of the lots is on hold.

    :raises LotOnHold: naming the first held lot and its recall.
    """
    if kind in HOLD_FREE_KINDS:
        return
    by_id = {lot.id: lot for lot in lots}
    held = holds_on(session, by_id)
    for lot_id, recall in held.items():
        raise lot_on_hold(by_id[lot_id], recall)
