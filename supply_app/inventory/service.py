"""Stock operations: every change is a ledger row plus its balance update, in one transaction.

Rules that keep the ledger and the balances from ever drifting apart:

* A balance only changes together with the movement that explains it, in this module.
* Decrements are one conditional ``UPDATE ... WHERE on_hand >= :n RETURNING``; the CHECK
  ``on_hand >= 0`` is the backstop. Rows are locked first (``SELECT ... FOR UPDATE`` in id
  order on PostgreSQL; SQLite write requests hold ``BEGIN IMMEDIATE``), so the moving-average
  value computed from what was read is still true when it is written.
* Value is integer cents. Taking n of h eaches worth v takes round_half_up(v * n / h); taking
  the last each takes all that is left, so issued + remaining == received, to the cent.

Services never commit; the caller's request (or CLI command) does, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from supply_app.auth.models import User
from supply_app.auth.service import record_audit
from supply_app.catalog.models import Part
from supply_app.catalog.service import part_for_gtin
from supply_app.db import insert_rows, utcnow
from supply_app.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from supply_app.facilities.models import Facility
from supply_app.inventory.models import (
    ADJUSTMENT_REASONS,
    RECEIPT_REASONS,
    REFERENCE_TYPES,
    WASTE_REASONS,
    Lot,
    ParLevel,
    StockBalance,
    StockCount,
    StockMovement,
)
from supply_app.inventory.scan import read_gs1

MAX_EACHES = 100_000  # per movement; a year of tips for a large centre is a few thousand
MAX_VALUE_CENTS = 100_000_000_000  # $1bn per movement: far above any real receipt


class InsufficientStock(Conflict):
    """Fewer eaches on hand than requested; nothing was written."""

    slug = "insufficient-stock"
    title = "Insufficient stock"


class LotExpired(Conflict):
    """The lot is past its expiry date and may not be used (it may be wasted)."""

    slug = "lot-expired"
    title = "Lot expired"


@dataclass(frozen=True)
class Snapshot:
    """A locked balance row as read: what the next change is computed from."""

    id: int
    on_hand: int
    value_cents: int


@dataclass(frozen=True)
class ScanResult:
    """What a scanned string says: GS1 fields (mapped to a part) or a plain lot number."""

    raw: str
    gs1: bool
    gtin: str | None
    lot_number: str | None
    expiry_date: date | None
    serial: str | None
    part: Part | None
    units_per_package: int | None
    batch: str | None  # AI 10; for a serialised unit the lot number is the serial


# --------------------------------------------------------------------------- valuation


def today() -> date:
    """The current UTC date: the day expiry is judged on unless a caller says otherwise."""
    return utcnow().date()


def half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator for non-negative integers, rounded half up."""
    return (2 * numerator + denominator) // (2 * denominator)


def share_of_value(on_hand: int, value_cents: int, eaches: int) -> int:
    """Cents carried by `eaches` of `on_hand` eaches worth value_cents (half-up; last: all)."""
    if eaches >= on_hand:
        return value_cents
    return half_up_div(value_cents * eaches, on_hand)


def value_at_pack_price(pack_price_cents: int, units_per_pack: int, eaches: int) -> int:
    """Cents for eaches bought at a per-pack price, pro rata and rounded half up."""
    return half_up_div(pack_price_cents * eaches, units_per_pack)


# --------------------------------------------------------------------------- lots


def check_batch(lot: Lot, batch: str | None, field: str = "scan") -> None:
    """A batch read from a serial's label agrees with the lot's; one first seen is recorded.

    :raises InvalidInput: the lot is on file with another batch (field names the input).
    """
    if batch is None or lot.batch == batch:
        return
    if lot.batch is not None:
        raise InvalidInput(
            f"Serial {lot.lot_number} of {lot.part.part_number} is on file with batch "
            f"{lot.batch}; the label says {batch}.",
            field=field,
        )
    lot.batch = batch


def find_lot(session: Session, *, part: Part, lot_number: str) -> Lot | None:
    """The lot of a part with this lot number, if it exists."""
    return session.scalar(select(Lot).where(Lot.part_id == part.id, Lot.lot_number == lot_number))


_LOTS_BY_ID = select(Lot).where(Lot.id.in_(bindparam("ids", expanding=True)))  # built once


def load_lots(session: Session, lot_ids: Iterable[int]) -> dict[int, Lot]:
    """Lots (with their parts) by id in one statement; unknown ids are left out."""
    ids = set(lot_ids)
    if not ids:
        return {}
    return {lot.id: lot for lot in session.scalars(_LOTS_BY_ID, {"ids": list(ids)})}


def get_lot(session: Session, lot_id: int) -> Lot:
    """Load a lot by id.

    :raises NotFound: no such lot.
    """
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(f"No lot with id {lot_id}.")
    return lot


def _lot_for_receipt(
    session: Session,
    *,
    part: Part,
    lot_number: str,
    expiry_date: date,
    gtin: str | None,
    serial: str | None,
    batch: str | None,
    on_date: date,
) -> Lot:
    """Find or create the received lot, refusing contradictions and expired stock.

    A serialised unit's batch is recorded the first time it is known and refused when it
    contradicts the one on file.
    """
    if serial is not None and lot_number != serial:
        raise InvalidInput(
            "A serialised unit is a lot of one: its lot number must be its serial.",
            field="lot_number",
        )
    lot = find_lot(session, part=part, lot_number=lot_number)
    if lot is None:
        # ON CONFLICT DO NOTHING: two first receipts of a lot at once both succeed, and the
        # loser then checks the winner's expiry like any later receipt.
        session.execute(
            _insert(session, Lot)
            .values(
                part_id=part.id,
                lot_number=lot_number,
                expiry_date=expiry_date,
                gtin=gtin,
                serial=serial,
                batch=batch,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
        lot = find_lot(session, part=part, lot_number=lot_number)
    if lot.expiry_date != expiry_date:
        raise InvalidInput(
            f"Lot {lot_number} of {part.part_number} is on file with expiry "
            f"{lot.expiry_date.isoformat()}, not {expiry_date.isoformat()}.",
            field="expiry_date",
        )
    elif lot.serial != serial:
        raise InvalidInput(
            f"Lot {lot_number} of {part.part_number} is on file "
            + ("as serial " + lot.serial if lot.serial else "without a serial number")
            + "; the receipt disagrees.",
            field="serial",
        )
    check_batch(lot, batch)
    if lot.expired_on(on_date):
        raise LotExpired(
            f"Lot {lot_number} expired on {lot.expiry_date.isoformat()}; it cannot be received.",
            lot_id=lot.id,
        )
    return lot


# --------------------------------------------------------------------------- balances


def _insert(session: Session, model: type) -> Any:
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


def _lock(session: Session, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Snapshot]:
    """Lock the existing balance rows for (facility_id, lot_id) keys, in id order."""
    rows = session.execute(_LOCK_BALANCES, {"keys": sorted(set(keys))}).all()
    return {(r.facility_id, r.lot_id): Snapshot(r.id, r.on_hand, r.value_cents) for r in rows}


def _lock_one(session: Session, facility_id: int, lot_id: int) -> Snapshot | None:
    return _lock(session, [(facility_id, lot_id)]).get((facility_id, lot_id))


def _increase(session: Session, facility_id: int, lot_id: int, eaches: int, value: int) -> None:
    """Add eaches and value to a balance, creating the row on first receipt."""
    stmt = _insert(session, StockBalance).values(
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


_DECREASE_MANY = (
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
_DECREASE = _DECREASE_MANY.returning(_BALANCE.c.facility_id, _BALANCE.c.lot_id)


def _decrease(session: Session, snap: Snapshot, eaches: int, value: int) -> None:
    """Take eaches and value with one conditional UPDATE; refuse if stock is short.

    :raises InsufficientStock: the row holds fewer than eaches (nothing is written).
    """
    row = session.execute(
        _DECREASE, {"balance_id": snap.id, "eaches": eaches, "value": value, "now": utcnow()}
    ).one_or_none()
    if row is None:
        raise _short_now(session, snap, eaches)
    _expire_cached_balance(session, row.facility_id, row.lot_id)


def _decrease_many(
    session: Session, takes: list[tuple[tuple[int, int], Snapshot, int, int]]
) -> None:
    """Several conditional decrements of locked rows as one executemany (one round trip).

    Each row is still its own conditional UPDATE; the summed rowcount says whether every
    one took. A single take uses _decrease, which names what was short.

    :raises InsufficientStock: a row held less than its take (nothing is kept: the caller's
        transaction rolls back).
    """
    if len(takes) == 1 or not session.get_bind().dialect.supports_sane_multi_rowcount:
        for _, snap, eaches, value in takes:
            _decrease(session, snap, eaches, value)
        return
    now = utcnow()
    result = session.execute(
        _DECREASE_MANY,
        [
            {"balance_id": snap.id, "eaches": eaches, "value": value, "now": now}
            for _, snap, eaches, value in takes
        ],
    )
    if result.rowcount != len(takes):
        # Not reached while the rows are locked and checked first; still refuse clearly.
        _, snap, eaches, _ = takes[0]
        raise _short_now(session, snap, eaches)
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


def _insufficient(available: int, eaches: int) -> InsufficientStock:
    """The 409 for a take of eaches from a balance holding available."""
    return InsufficientStock(
        f"Only {available} on hand; {eaches} requested.", requested=eaches, available=available
    )


def _short_now(session: Session, snap: Snapshot, eaches: int) -> InsufficientStock:
    """The 409 for a conditional decrement that found too little, with what is there now."""
    available = session.scalar(select(StockBalance.on_hand).where(StockBalance.id == snap.id))
    return _insufficient(available or 0, eaches)


def _require_stock(snap: Snapshot | None, eaches: int) -> Snapshot:
    """The snapshot if it holds eaches, else InsufficientStock with requested/available."""
    if snap is None or snap.on_hand < eaches:
        raise _insufficient(snap.on_hand if snap else 0, eaches)
    return snap


# --------------------------------------------------------------------------- posting


def _check_eaches(eaches: int, field: str = "eaches") -> None:
    if not 1 <= eaches <= MAX_EACHES:
        raise InvalidInput(f"{field} must be between 1 and {MAX_EACHES}.", field=field)


def _check_reference(reference: tuple[str, int] | None) -> None:
    if reference is not None and reference[0] not in REFERENCE_TYPES:
        raise InvalidInput(f"Reference type must be one of {', '.join(REFERENCE_TYPES)}.")


def _check_facility_active(facility: Facility) -> None:
    if not facility.active:
        raise Conflict(f"Facility {facility.code} is deactivated; its stock cannot move.")


def _movement_row(
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
    """The column values of one ledger row."""
    return dict(
        facility_id=facility_id,
        lot_id=lot.id,
        kind=kind,
        eaches=eaches,
        value_cents=value_cents,
        reason=reason,
        note=note,
        reference_type=reference[0] if reference else None,
        reference_id=reference[1] if reference else None,
        reverses_id=reverses_id,
        actor_id=actor.id if actor is not None else None,
        created_at=utcnow(),
    )


def _post(session: Session, **fields: Any) -> StockMovement:
    """Append one ledger row (the balance was already changed in this transaction)."""
    movement = StockMovement(**_movement_row(**fields), lot=fields["lot"])
    session.add(movement)
    session.flush()
    return movement


def _take(
    session: Session,
    *,
    facility: Facility,
    lot: Lot,
    eaches: int,
    kind: str,
    actor: User | None,
    reason: str | None = None,
    note: str | None = None,
    reference: tuple[str, int] | None = None,
) -> StockMovement:
    """Lock, value at moving average, decrement and record an outbound movement."""
    snap = _require_stock(_lock_one(session, facility.id, lot.id), eaches)
    value = share_of_value(snap.on_hand, snap.value_cents, eaches)
    _decrease(session, snap, eaches, value)
    return _post(
        session,
        facility_id=facility.id,
        lot=lot,
        kind=kind,
        eaches=-eaches,
        value_cents=-value,
        actor=actor,
        reason=reason,
        note=note,
        reference=reference,
    )


# --------------------------------------------------------------------------- movements


def receive(
    session: Session,
    *,
    facility: Facility,
    part: Part,
    lot_number: str,
    expiry_date: date,
    eaches: int,
    value_cents: int,
    actor: User | None,
    kind: str = "receipt",
    reason: str | None = None,
    reference: tuple[str, int] | None = None,
    gtin: str | None = None,
    serial: str | None = None,
    batch: str | None = None,
    note: str | None = None,
    on_date: date | None = None,
) -> StockMovement:
    """Receive eaches of a lot (created on first sight) worth value_cents into a facility.

    :raises InvalidInput: bad quantity/value/reason, or a lot on file with another expiry.
    :raises LotExpired: the lot is already expired.
    :raises Conflict: inactive facility, or a serialised unit already in stock somewhere.
    """
    if kind != "receipt":
        raise InvalidInput("Only receipts are posted through receive().", field="kind")
    _check_eaches(eaches)
    _check_reference(reference)
    if not 0 <= value_cents <= MAX_VALUE_CENTS:
        raise InvalidInput("Receipt value is out of range.", field="value_cents")
    reason = reason or ("order" if reference and reference[0] == "order_line" else None)
    if reason not in RECEIPT_REASONS:
        raise InvalidInput(
            f"Receipt reason must be one of {', '.join(RECEIPT_REASONS)}.", field="reason"
        )
    _check_facility_active(facility)
    lot = _lot_for_receipt(
        session,
        part=part,
        lot_number=lot_number,
        expiry_date=expiry_date,
        gtin=gtin,
        serial=serial,
        batch=batch,
        on_date=on_date or today(),
    )
    if lot.serial is not None:
        _check_serial_free(session, lot, eaches)
    _lock_one(session, facility.id, lot.id)
    _increase(session, facility.id, lot.id, eaches, value_cents)
    return _post(
        session,
        facility_id=facility.id,
        lot=lot,
        kind="receipt",
        eaches=eaches,
        value_cents=value_cents,
        actor=actor,
        reason=reason,
        note=note,
        reference=reference,
    )


def _check_serial_free(session: Session, lot: Lot, eaches: int) -> None:
    """A serial number is one physical unit: receive one, and only if none is in stock."""
    if eaches != 1:
        raise InvalidInput("A serialised unit is received one at a time.", field="eaches")
    held = session.scalar(
        select(func.coalesce(func.sum(StockBalance.on_hand), 0)).where(
            StockBalance.lot_id == lot.id
        )
    )
    if held:
        raise Conflict(f"Serial {lot.serial} is already in stock; it cannot be received twice.")


def issue(
    session: Session,
    *,
    facility: Facility,
    lot: Lot,
    eaches: int,
    actor: User | None,
    reference: tuple[str, int] | None = None,
    reason: str | None = None,
    note: str | None = None,
    on_date: date | None = None,
) -> StockMovement:
    """Issue eaches of a lot for use, valued at the balance's moving-average cost.

    :raises InsufficientStock: fewer on hand (409 with requested/available); nothing written.
    :raises LotExpired: the lot is past expiry on on_date (default today).
    """
    return issue_many(
        session,
        facility=facility,
        picks=[(lot, eaches)],
        actor=actor,
        reference=reference,
        reason=reason,
        note=note,
        on_date=on_date,
    )[0]


def issue_many(
    session: Session,
    *,
    facility: Facility,
    picks: Sequence[tuple[Lot, int]],
    actor: User | None,
    reference: tuple[str, int] | None = None,
    reason: str | None = None,
    note: str | None = None,
    on_date: date | None = None,
) -> list[StockMovement]:
    """Issue several (lot, eaches) picks as issue() does each, in order; one movement per pick.

    The balances are locked in one statement in id order (so two multi-line issues cannot
    deadlock) and the ledger rows go in with insert_rows (one statement on PostgreSQL);
    each decrement is still its own conditional UPDATE.

    :raises InsufficientStock: a pick is short (409 with requested/available).
    :raises LotExpired: a lot is past expiry on on_date (default today).
    """
    for _, eaches in picks:
        _check_eaches(eaches)
    _check_reference(reference)
    _check_facility_active(facility)
    on_date = on_date or today()
    for lot, _ in picks:
        if lot.expired_on(on_date):
            raise LotExpired(
                f"Lot {lot.lot_number} expired on {lot.expiry_date.isoformat()}; "
                "expired stock cannot be used (waste it instead).",
                lot_id=lot.id,
            )
    if not picks:
        return []
    snaps = _lock(session, [(facility.id, lot.id) for lot, _ in picks])
    rows = []
    takes: list[tuple[tuple[int, int], Snapshot, int, int]] = []
    for lot, eaches in picks:
        key = (facility.id, lot.id)
        snap = _require_stock(snaps.get(key), eaches)
        value = share_of_value(snap.on_hand, snap.value_cents, eaches)
        takes.append((key, snap, eaches, value))
        # A later pick of the same lot values what this one left.
        snaps[key] = Snapshot(snap.id, snap.on_hand - eaches, snap.value_cents - value)
        rows.append(
            _movement_row(
                facility_id=facility.id,
                lot=lot,
                kind="issue",
                eaches=-eaches,
                value_cents=-value,
                actor=actor,
                reason=reason,
                note=note,
                reference=reference,
            )
        )
    _decrease_many(session, takes)
    movements = insert_rows(session, StockMovement, rows)
    for movement, (lot, _) in zip(movements, picks, strict=True):
        set_committed_value(movement, "lot", lot)
    return movements


def waste(
    session: Session,
    *,
    facility: Facility,
    lot: Lot,
    eaches: int,
    reason: str,
    actor: User | None,
    note: str | None = None,
) -> StockMovement:
    """Remove expired, damaged, contaminated or recalled stock, at moving-average value.

    :raises InvalidInput: unknown reason or bad quantity.
    :raises InsufficientStock: fewer on hand.
    """
    _check_eaches(eaches)
    if reason not in WASTE_REASONS:
        raise InvalidInput(
            f"Waste reason must be one of {', '.join(WASTE_REASONS)}.", field="reason"
        )
    _check_facility_active(facility)
    return _take(
        session,
        facility=facility,
        lot=lot,
        eaches=eaches,
        kind="waste",
        actor=actor,
        reason=reason,
        note=note,
    )


def _inbound_unit_cost(session: Session, facility_id: int, lot_id: int) -> int:
    """Cents per each of the latest stock that came into this balance (0 if none)."""
    row = session.execute(
        select(StockMovement.eaches, StockMovement.value_cents)
        .where(
            StockMovement.facility_id == facility_id,
            StockMovement.lot_id == lot_id,
            StockMovement.kind.in_(("receipt", "transfer_in")),
        )
        .order_by(StockMovement.id.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return 0
    return share_of_value(row.eaches, row.value_cents, 1)


def _adjust_locked(
    session: Session,
    *,
    facility: Facility,
    lot: Lot,
    snap: Snapshot,
    eaches: int,
    reason: str,
    actor: User | None,
    note: str | None,
    unit_cost_cents: int | None,
    reference: tuple[str, int] | None = None,
) -> StockMovement:
    """Post a signed adjustment to an already locked balance."""
    if eaches < 0:
        taken = -eaches
        _require_stock(snap, taken)
        value = share_of_value(snap.on_hand, snap.value_cents, taken)
        _decrease(session, snap, taken, value)
        signed_value = -value
    else:
        if unit_cost_cents is not None:
            signed_value = unit_cost_cents * eaches
        elif snap.on_hand > 0:
            # Found stock joins at the balance's average cost, so the average is unchanged.
            signed_value = half_up_div(snap.value_cents * eaches, snap.on_hand)
        else:
            signed_value = _inbound_unit_cost(session, facility.id, lot.id) * eaches
        _increase(session, facility.id, lot.id, eaches, signed_value)
    return _post(
        session,
        facility_id=facility.id,
        lot=lot,
        kind="adjustment",
        eaches=eaches,
        value_cents=signed_value,
        actor=actor,
        reason=reason,
        note=note,
        reference=reference,
    )


def _held_snapshot(session: Session, facility: Facility, lot: Lot) -> Snapshot:
    """Lock the balance of a lot the facility has held at some time.

    :raises InvalidInput: the facility never held this lot.
    """
    snap = _lock_one(session, facility.id, lot.id)
    if snap is None:
        raise InvalidInput(
            f"{facility.code} has never held lot {lot.lot_number}; receive it instead.",
            field="lot_id",
        )
    return snap


def adjust(
    session: Session,
    *,
    facility: Facility,
    lot: Lot,
    eaches: int,
    reason: str,
    actor: User | None,
    note: str | None = None,
    unit_cost_cents: int | None = None,
) -> StockMovement:
    """Correct a balance up or down with a reason code.

    Increases are valued at unit_cost_cents if given, else the balance's average cost (or,
    on an empty shelf, the cost per each of the last stock received into it).

    :raises InvalidInput: zero/absurd quantity, unknown reason, or a lot never held here.
    :raises InsufficientStock: a decrease larger than what is on hand.
    """
    if eaches == 0 or abs(eaches) > MAX_EACHES:
        raise InvalidInput(
            f"eaches must be non-zero and at most {MAX_EACHES} either way.", field="eaches"
        )
    if reason not in ADJUSTMENT_REASONS or reason == "physical_count":
        allowed = ", ".join(r for r in ADJUSTMENT_REASONS if r != "physical_count")
        raise InvalidInput(f"Adjustment reason must be one of {allowed}.", field="reason")
    _check_facility_active(facility)
    snap = _held_snapshot(session, facility, lot)
    return _adjust_locked(
        session,
        facility=facility,
        lot=lot,
        snap=snap,
        eaches=eaches,
        reason=reason,
        actor=actor,
        note=note,
        unit_cost_cents=unit_cost_cents,
    )


def count(
    session: Session,
    *,
    facility: Facility,
    lot: Lot,
    counted: int,
    actor: User | None,
    note: str | None = None,
) -> tuple[StockCount, StockMovement | None]:
    """Record a physical count; a difference from the books is posted as an adjustment.

    :raises InvalidInput: a negative or absurd count, or a lot never held here.
    """
    if not 0 <= counted <= MAX_EACHES:
        raise InvalidInput(f"counted must be between 0 and {MAX_EACHES}.", field="counted")
    _check_facility_active(facility)
    snap = _held_snapshot(session, facility, lot)
    record = StockCount(
        facility_id=facility.id,
        lot_id=lot.id,
        counted=counted,
        previous_on_hand=snap.on_hand,
        actor_id=actor.id if actor is not None else None,
    )
    session.add(record)
    session.flush()
    if counted == snap.on_hand:
        return record, None
    movement = _adjust_locked(
        session,
        facility=facility,
        lot=lot,
        snap=snap,
        eaches=counted - snap.on_hand,
        reason="physical_count",
        actor=actor,
        note=note,
        unit_cost_cents=None,
        reference=("count", record.id),
    )
    return record, movement


def transfer(
    session: Session,
    *,
    source: Facility,
    destination: Facility,
    lot: Lot,
    eaches: int,
    actor: User | None,
    note: str | None = None,
    on_date: date | None = None,
) -> tuple[StockMovement, StockMovement]:
    """Move eaches of a lot between facilities in one transaction; the value moves with them.

    :raises InvalidInput: same facility or bad quantity.
    :raises Conflict: either facility is deactivated.
    :raises LotExpired: expired stock is wasted where it is, not shipped.
    :raises InsufficientStock: fewer on hand at the source.
    """
    _check_eaches(eaches)
    if source.id == destination.id:
        raise InvalidInput("Source and destination must differ.", field="to_facility_id")
    _check_facility_active(source)
    if not destination.active:
        raise InvalidInput(f"Facility {destination.code} is deactivated.", field="to_facility_id")
    if lot.expired_on(on_date or today()):
        raise LotExpired(
            f"Lot {lot.lot_number} expired on {lot.expiry_date.isoformat()}; waste it instead.",
            lot_id=lot.id,
        )
    snaps = _lock(session, [(source.id, lot.id), (destination.id, lot.id)])
    snap = _require_stock(snaps.get((source.id, lot.id)), eaches)
    value = share_of_value(snap.on_hand, snap.value_cents, eaches)
    _decrease(session, snap, eaches, value)
    _increase(session, destination.id, lot.id, eaches, value)
    out = _post(
        session,
        facility_id=source.id,
        lot=lot,
        kind="transfer_out",
        eaches=-eaches,
        value_cents=-value,
        actor=actor,
        note=note,
    )
    inbound = _post(
        session,
        facility_id=destination.id,
        lot=lot,
        kind="transfer_in",
        eaches=eaches,
        value_cents=value,
        actor=actor,
        note=note,
        reference=("movement", out.id),
    )
    return out, inbound


def get_movement(session: Session, movement_id: int) -> StockMovement:
    """Load a movement by id.

    :raises NotFound: no such movement.
    """
    movement = session.get(StockMovement, movement_id)
    if movement is None:
        raise NotFound(f"No stock movement with id {movement_id}.")
    return movement


def transfer_legs(session: Session, movement: StockMovement) -> list[StockMovement]:
    """Both legs of a transfer (out first), or just the movement for any other kind."""
    if movement.kind == "transfer_out":
        inbound = session.scalar(
            select(StockMovement).where(
                StockMovement.kind == "transfer_in",
                StockMovement.reference_type == "movement",
                StockMovement.reference_id == movement.id,
            )
        )
        return [movement, inbound] if inbound is not None else [movement]
    if movement.kind == "transfer_in" and movement.reference_id is not None:
        return [get_movement(session, movement.reference_id), movement]
    return [movement]


def reverse(
    session: Session, *, movement: StockMovement, actor: User | None, reason: str
) -> StockMovement:
    """Undo a movement, at most once, by posting its opposite (both legs of a transfer).

    Stock that came in goes back out at its recorded value when the balance still holds
    it; if the balance's value has since fallen below that (issues at a higher average),
    it takes what is left, so no balance ever goes negative in eaches or cents.

    :raises InvalidTransition: a reversal, or a movement already reversed.
    :raises InsufficientStock: the stock a receipt brought in has since been used.
    :returns: the reversal of `movement` itself.
    """
    if not reason or len(reason) > 200:
        raise InvalidInput("Give a reason of 1 to 200 characters.", field="reason")
    if movement.kind == "reversal":
        raise InvalidTransition("A reversal cannot itself be reversed; post a new movement.")
    legs = transfer_legs(session, movement)
    snaps = _lock(session, [(leg.facility_id, leg.lot_id) for leg in legs])
    already = session.scalar(
        select(StockMovement.id).where(StockMovement.reverses_id.in_([leg.id for leg in legs]))
    )
    if already is not None:
        raise InvalidTransition(
            f"Movement {movement.id} was already reversed by movement {already}."
        )
    # Undo the inbound leg first: for a transfer its value (what the destination can give
    # back) is what the source gets back, so the total value is conserved.
    ordered = sorted(legs, key=lambda leg: leg.eaches < 0)
    reversals: dict[int, StockMovement] = {}
    returned_value: int | None = None
    for leg in ordered:
        if leg.eaches > 0:
            snap = _require_stock(snaps.get((leg.facility_id, leg.lot_id)), leg.eaches)
            if leg.eaches == snap.on_hand:
                value = snap.value_cents
            else:
                value = min(leg.value_cents, snap.value_cents)
            _decrease(session, snap, leg.eaches, value)
            returned_value = value
            signed = -value
        else:
            value = -leg.value_cents if returned_value is None else returned_value
            _increase(session, leg.facility_id, leg.lot_id, -leg.eaches, value)
            signed = value
        reversals[leg.id] = _post(
            session,
            facility_id=leg.facility_id,
            lot=leg.lot,
            kind="reversal",
            eaches=-leg.eaches,
            value_cents=signed,
            actor=actor,
            reason=leg.kind,
            note=reason,
            reference=("movement", leg.id),
            reverses_id=leg.id,
        )
    return reversals[movement.id]


# --------------------------------------------------------------------------- picking


def pick_fefo(
    session: Session, *, facility: Facility, part: Part, eaches: int, on_date: date
) -> list[tuple[Lot, int]]:
    """Lots to take eaches of a part from, earliest expiry first; expired and empty excluded.

    :raises InsufficientStock: the unexpired stock of the part is short.
    """
    _check_eaches(eaches)
    rows = session.execute(
        select(Lot, StockBalance.on_hand)
        .join(StockBalance, StockBalance.lot_id == Lot.id)
        .where(
            StockBalance.facility_id == facility.id,
            Lot.part_id == part.id,
            StockBalance.on_hand > 0,
            Lot.expiry_date >= on_date,
        )
        .order_by(Lot.expiry_date, Lot.id)
    ).all()
    picks: list[tuple[Lot, int]] = []
    remaining = eaches
    for lot, on_hand in rows:
        if remaining == 0:
            break
        take = min(on_hand, remaining)
        picks.append((lot, take))
        remaining -= take
    if remaining:
        available = eaches - remaining
        raise InsufficientStock(
            f"Only {available} unexpired {part.part_number} on hand; {eaches} requested.",
            requested=eaches,
            available=available,
        )
    return picks


# --------------------------------------------------------------------------- reads


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def on_hand_by_part(
    session: Session, facility_id: int, usable_on: date | None = None
) -> dict[int, int]:
    """Eaches on hand per part_id at a facility (only lots unexpired on usable_on, if given)."""
    stmt = (
        select(Lot.part_id, func.sum(StockBalance.on_hand))
        .join(Lot, Lot.id == StockBalance.lot_id)
        .where(StockBalance.facility_id == facility_id, StockBalance.on_hand > 0)
        .group_by(Lot.part_id)
    )
    if usable_on is not None:
        stmt = stmt.where(Lot.expiry_date >= usable_on)
    return {part_id: int(total) for part_id, total in session.execute(stmt)}


def issued_eaches_by_part(session: Session, facility_id: int, since: date) -> dict[int, int]:
    """Net eaches issued per part_id since a date (issues minus reversed issues): burn rate."""
    original = aliased(StockMovement)
    issued = (
        select(Lot.part_id, func.sum(-StockMovement.eaches))
        .join(Lot, Lot.id == StockMovement.lot_id)
        .where(
            StockMovement.facility_id == facility_id,
            StockMovement.kind == "issue",
            StockMovement.created_at >= _start_of(since),
        )
        .group_by(Lot.part_id)
    )
    returned = (
        select(Lot.part_id, func.sum(StockMovement.eaches))
        .join(Lot, Lot.id == StockMovement.lot_id)
        .join(original, original.id == StockMovement.reverses_id)
        .where(
            StockMovement.facility_id == facility_id,
            StockMovement.kind == "reversal",
            original.kind == "issue",
            original.created_at >= _start_of(since),
        )
        .group_by(Lot.part_id)
    )
    totals = {part_id: int(n) for part_id, n in session.execute(issued)}
    for part_id, n in session.execute(returned):
        totals[part_id] = totals.get(part_id, 0) - int(n)
    return {part_id: n for part_id, n in totals.items() if n > 0}


def balances_query(facility_id: int, part_id: int | None = None, include_empty: bool = False):
    """Balance rows of a facility by part, then expiry (FEFO order), then lot."""
    stmt = (
        select(StockBalance)
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
    """Per-part totals at a facility: eaches, usable (unexpired) eaches, value, next expiry."""
    rows = session.execute(
        select(
            Part,
            func.sum(StockBalance.on_hand).label("on_hand"),
            func.sum(case((Lot.expiry_date >= on_date, StockBalance.on_hand), else_=0)).label(
                "usable"
            ),
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
    stmt = select(StockMovement).limit(limit)
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


# --------------------------------------------------------------------------- par levels


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


def set_par_levels(
    session: Session, *, facility: Facility, levels: list[dict[str, Any]], actor: User | None
) -> list[ParLevel]:
    """Replace a facility's par levels with `levels`; every change is audited.

    :raises InvalidInput: a part listed twice, or max below min.
    :raises NotFound: an unknown part.
    """
    wanted: dict[int, tuple[int, int]] = {}
    for index, level in enumerate(levels):
        part_id = level["part_id"]
        if part_id in wanted:
            raise InvalidInput(f"Part {part_id} is listed twice.", field=f"levels.{index}")
        if level["max_eaches"] < level["min_eaches"] or level["max_eaches"] == 0:
            raise InvalidInput(
                "max_eaches must be at least min_eaches and above zero.",
                field=f"levels.{index}",
            )
        if session.get(Part, part_id) is None:
            raise NotFound(f"No part with id {part_id}.")
        wanted[part_id] = (level["min_eaches"], level["max_eaches"])
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
    def _as_dict(pair: tuple[int, int] | None) -> dict[str, int] | None:
        return None if pair is None else {"min_eaches": pair[0], "max_eaches": pair[1]}

    record_audit(
        session,
        actor=actor,
        action="par_level.delete" if after is None else "par_level.set",
        entity=("par_level", level.id),
        facility_id=facility.id,
        before={"part_id": level.part_id, **(_as_dict(before) or {})} if before else None,
        after={"part_id": level.part_id, **(_as_dict(after) or {})} if after else None,
    )


# --------------------------------------------------------------------------- alerts


def alerts(session: Session, facility: Facility, on_date: date) -> list[dict[str, Any]]:
    """Below-min parts, lots expiring within the facility's window, and expired stock on hand."""
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
                }
            )
    for balance in session.scalars(balances_query(facility.id)):
        days = (balance.lot.expiry_date - on_date).days
        if days > facility.expiry_window_days:
            continue
        found.append(
            {
                "kind": "expired" if days < 0 else "expiring",
                "part": balance.lot.part,
                "lot": balance.lot,
                "on_hand": balance.on_hand,
                "min_eaches": None,
                "max_eaches": None,
                "days_to_expiry": days,
            }
        )
    return found


# --------------------------------------------------------------------------- scanning


def parse_scan(session: Session, raw: str) -> ScanResult:
    """Read a scanned string: GS1 fields with the catalog part, or a plain lot number.

    A serial number (AI 21) is its own lot of one, so it becomes the lot number; the batch
    (AI 10) is kept beside it. Plain text loses only the whitespace around it, which no lot
    number has (LOT_NUMBER).

    :raises InvalidInput: GS1 that cannot be read, or a GTIN with a bad check digit.
    """
    raw = raw.strip("\r\n")
    fields = read_gs1(raw)
    if fields is None:
        return ScanResult(raw, False, None, raw.strip(), None, None, None, None, None)
    package = part_for_gtin(session, fields.gtin) if fields.gtin else None
    return ScanResult(
        raw=raw,
        gs1=True,
        gtin=fields.gtin,
        lot_number=fields.serial or fields.batch,
        expiry_date=fields.expiry_date,
        serial=fields.serial,
        part=package.part if package else None,
        units_per_package=package.units if package else None,
        batch=fields.batch,
    )


# --------------------------------------------------------------------------- verify


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
