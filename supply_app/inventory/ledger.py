"""The ledger and its balances: the only code that changes a balance, always with its row.

* A balance only changes together with the movement that explains it, in this module.
* Decrements are one conditional ``UPDATE ... WHERE on_hand >= :n``; the CHECK
  ``on_hand >= 0`` is the backstop. Rows are locked first (``SELECT ... FOR UPDATE`` in id
  order on PostgreSQL; SQLite write requests hold ``BEGIN IMMEDIATE``), so the moving-average
  value computed from what was read is still true when it is written.
* A lot on hold (a recall) moves only by a disposition or a reversal: every change here
  names its movement kind and asks ``holds`` first. Decrements test the hold inside the
  conditional UPDATE itself, after the row lock is held, so a hold that committed while a
  request waited for the lock is seen (and costs the hot path no extra statement).
* ``verify`` proves every balance equals the sums of its ledger.

Services never commit; the caller's request (or CLI command) does, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.clock import utcnow
from supply_app.errors import Conflict, InvalidInput
from supply_app.facilities.models import Facility
from supply_app.inventory import holds
from supply_app.inventory.errors import InsufficientStock
from supply_app.inventory.models import REFERENCE_TYPES, Lot, StockBalance, StockMovement
from supply_app.inventory.rules import NOTE


@dataclass(frozen=True)
class Snapshot:
    """A locked balance row as read: what the next change is computed from."""

    id: int
    on_hand: int
    value_cents: int


def upsert(session: Session, model: type) -> Any:
    """An INSERT for the session's dialect that supports ON CONFLICT (both dialects do)."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


_BALANCE = StockBalance.__table__  # hot paths use Core: no ORM compile step per statement

_LOCK_BALANCES = (
    select(
        _BALANCE.c.id,
        _BALANCE.c.facility_id,
        _BALANCE.c.lot_id,
        _BALANCE.c.on_hand,
        _BALANCE.c.value_cents,
    )
    .where(tuple_(_BALANCE.c.facility_id, _BALANCE.c.lot_id).in_(bindparam("keys", expanding=True)))
    .order_by(_BALANCE.c.id)
    .with_for_update()
)


def lock(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Snapshot]:
    """Lock the existing balance rows for (facility_id, lot_id) keys, in id order."""
    rows = session.execute(_LOCK_BALANCES, {"keys": sorted(set(keys))}).all()
    return {(r.facility_id, r.lot_id): Snapshot(r.id, r.on_hand, r.value_cents) for r in rows}


def lock_one(session: Session, facility_id: int, lot_id: int) -> Snapshot | None:
    """Lock one balance row (None when the facility never held the lot)."""
    return lock(session, [(facility_id, lot_id)]).get((facility_id, lot_id))


def increase(
    session: Session, facility_id: int, lot: Lot, eaches: int, value: int, *, kind: str
) -> None:
    """Add eaches and value to a balance, creating the row on first receipt.

    :raises LotOnHold: the lot is on hold and `kind` may not move it.
    """
    holds.refuse_held(session, [lot], kind)
    lot_id = lot.id
    stmt = upsert(session, StockBalance).values(
        facility_id=facility_id,
        lot_id=lot_id,
        on_hand=eaches,
        value_cents=value,
        updated_at=utcnow(),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[StockBalance.facility_id, StockBalance.lot_id],
        set_={
            "on_hand": StockBalance.on_hand + eaches,
            "value_cents": StockBalance.value_cents + value,
            "updated_at": utcnow(),
        },
    )
    session.execute(stmt, execution_options={"synchronize_session": False})
    _expire_cached_balance(session, facility_id, lot_id)


_DISPOSE_MANY = (
    update(_BALANCE)
    .where(
        _BALANCE.c.id == bindparam("balance_id"),
        _BALANCE.c.on_hand >= bindparam("eaches"),
        _BALANCE.c.value_cents >= bindparam("value"),
    )
    .values(
        on_hand=_BALANCE.c.on_hand - bindparam("eaches"),
        value_cents=_BALANCE.c.value_cents - bindparam("value"),
        updated_at=bindparam("now"),
    )
)
#: Every other decrement also finds no hold, read after the row lock is ours.
_DECREASE_MANY = _DISPOSE_MANY.where(~holds.on_hold(_BALANCE.c.lot_id))
_RETURNING = (_BALANCE.c.facility_id, _BALANCE.c.lot_id)
_DECREASES = {
    True: _DISPOSE_MANY.returning(*_RETURNING),
    False: _DECREASE_MANY.returning(*_RETURNING),
}


def _statements(kind: str, many: bool = False) -> Any:
    """The decrement statement for a movement kind (a hold test unless the kind is free)."""
    free = kind in holds.HOLD_FREE_KINDS
    if many:
        return _DISPOSE_MANY if free else _DECREASE_MANY
    return _DECREASES[free]


#: One take from a locked balance: its key, its snapshot, eaches and cents taken.
Take = tuple[tuple[int, int], Snapshot, int, int]


def decrease(
    session: Session, snap: Snapshot, eaches: int, value: int, lot: Lot, *, kind: str
) -> None:
    """Take eaches and value with one conditional UPDATE; refuse if stock is short or held.

    :raises InsufficientStock: the row holds fewer than eaches (nothing is written).
    :raises LotOnHold: the lot is on hold and `kind` may not move it.
    """
    row = session.execute(
        _statements(kind),
        {"balance_id": snap.id, "eaches": eaches, "value": value, "now": utcnow()},
    ).one_or_none()
    if row is None:
        raise _refused_now(session, snap, eaches, lot, kind)
    _expire_cached_balance(session, row.facility_id, row.lot_id)


def decrease_many(session: Session, takes: list[Take], lots: list[Lot], *, kind: str) -> None:
    """Several conditional decrements of locked rows as one executemany (one round trip).

    Each row is still its own conditional UPDATE; the summed rowcount says whether every
    one took. A single take uses decrease(), which names what was short.

    :raises InsufficientStock: a row held less than its take (nothing is kept: the caller's
        transaction rolls back).
    :raises LotOnHold: a lot is on hold and `kind` may not move it.
    """
    if len(takes) == 1 or not session.get_bind().dialect.supports_sane_multi_rowcount:
        for (_, snap, eaches, value), lot in zip(takes, lots, strict=True):
            decrease(session, snap, eaches, value, lot, kind=kind)
        return
    now = utcnow()
    result = session.execute(
        _statements(kind, many=True),
        [
            {"balance_id": snap.id, "eaches": eaches, "value": value, "now": now}
            for _, snap, eaches, value in takes
        ],
    )
    if result.rowcount != len(takes):
        # A hold that committed while we waited for the locks (stock was checked under them).
        holds.refuse_held(session, lots, kind)
        _, snap, eaches, _ = takes[0]
        raise _refused_now(session, snap, eaches, lots[0], kind)
    for key in dict.fromkeys(key for key, *_ in takes):
        _expire_cached_balance(session, *key)


def _expire_cached_balance(session: Session, facility_id: int, lot_id: int) -> None:
    """Core UPDATEs bypass the identity map; expire any loaded copy so reads are fresh."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, StockBalance) and (obj.facility_id, obj.lot_id) == (
            facility_id,
            lot_id,
        ):
            session.expire(obj)


def insufficient(lot: Lot, available: int, eaches: int) -> InsufficientStock:
    """The 409 for a take of eaches from a lot holding available, in the user's words."""
    part = lot.part
    return InsufficientStock(
        f"{part.part_number} lot {lot.lot_number}: {available} "
        f"{'each' if available == 1 else 'eaches'} on hand, {eaches} asked for.",
        requested=eaches,
        available=available,
        lot_id=lot.id,
        lot_number=lot.lot_number,
        part_number=part.part_number,
    )


def _refused_now(
    session: Session, snap: Snapshot, eaches: int, lot: Lot, kind: str
) -> InsufficientStock:
    """The 409 for a conditional decrement that took nothing: the hold, or what is there now.

    :raises LotOnHold: the lot is on hold and `kind` may not move it.
    """
    holds.refuse_held(session, [lot], kind)
    available = session.scalar(select(StockBalance.on_hand).where(StockBalance.id == snap.id))
    return insufficient(lot, available or 0, eaches)


def require_stock(
    session: Session, snap: Snapshot | None, eaches: int, lot: Lot, *, kind: str
) -> Snapshot:
    """The snapshot if it holds eaches, else the refusal: the hold first, then the shortage.

    :raises LotOnHold: short stock of a lot on hold that `kind` may not move.
    :raises InsufficientStock: fewer on hand (requested/available).
    """
    if snap is None or snap.on_hand < eaches:
        holds.refuse_held(session, [lot], kind)
        raise insufficient(lot, snap.on_hand if snap else 0, eaches)
    return snap


def check_reference(reference: tuple[str, int] | None) -> None:
    """A movement refers only to the kinds of record the ledger knows.

    :raises InvalidInput: another kind.
    """
    if reference is not None and reference[0] not in REFERENCE_TYPES:
        raise InvalidInput(f"Reference type must be one of {', '.join(REFERENCE_TYPES)}.")


def check_active(facility: Facility) -> None:
    """Stock of a deactivated facility does not move.

    :raises Conflict: the facility is deactivated.
    """
    if not facility.active:
        raise Conflict(f"Facility {facility.code} is deactivated; its stock cannot move.")


def movement_row(
    *,
    facility_id: int,
    lot: Lot,
    kind: str,
    eaches: int,
    value_cents: int,
    actor: User | None,
    reason: str | None = None,
    note: str | None = None,
    reference: tuple[str, int] | None = None,
    reverses_id: int | None = None,
) -> dict[str, Any]:
    """The column values of one ledger row (the note checked by its rule)."""
    return dict(
        facility_id=facility_id,
        lot_id=lot.id,
        kind=kind,
        eaches=eaches,
        value_cents=value_cents,
        reason=reason,
        note=None if note is None else NOTE.check(note, "note") or None,
        reference_type=reference[0] if reference else None,
        reference_id=reference[1] if reference else None,
        reverses_id=reverses_id,
        actor_id=actor.id if actor is not None else None,
        created_at=utcnow(),
    )


def post(session: Session, **fields: Any) -> StockMovement:
    """Append one ledger row (the balance was already changed in this transaction)."""
    movement = StockMovement(**movement_row(**fields), lot=fields["lot"])
    session.add(movement)
    session.flush()
    return movement


@dataclass(frozen=True)
class Discrepancy:
    """A balance row whose quantity or value differs from the sum of its ledger."""

    facility_id: int
    lot_id: int
    balance_on_hand: int
    ledger_on_hand: int
    balance_value_cents: int
    ledger_value_cents: int


def verify(session: Session) -> list[Discrepancy]:
    """Compare every balance with its ledger sums (and ledgers with no balance row)."""
    ledger = (
        select(
            StockMovement.facility_id,
            StockMovement.lot_id,
            func.sum(StockMovement.eaches).label("eaches"),
            func.sum(StockMovement.value_cents).label("value"),
        )
        .group_by(StockMovement.facility_id, StockMovement.lot_id)
        .subquery()
    )
    balances = {
        (b.facility_id, b.lot_id): (b.on_hand, b.value_cents)
        for b in session.execute(
            select(
                StockBalance.facility_id,
                StockBalance.lot_id,
                StockBalance.on_hand,
                StockBalance.value_cents,
            )
        )
    }
    sums = {
        (r.facility_id, r.lot_id): (int(r.eaches), int(r.value))
        for r in session.execute(select(ledger))
    }
    problems = []
    for key in sorted(set(balances) | set(sums)):
        have = balances.get(key, (0, 0))
        want = sums.get(key, (0, 0))
        if have != want:
            problems.append(Discrepancy(key[0], key[1], have[0], want[0], have[1], want[1]))
    return problems
