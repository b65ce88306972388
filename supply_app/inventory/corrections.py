"""Putting the books right: adjustments, physical counts and reversals of mistakes.

The ledger is never edited: a correction is a new movement that explains the difference.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.errors import InvalidInput, InvalidTransition, NotFound
from supply_app.facilities.models import Facility
from supply_app.inventory import ledger
from supply_app.inventory.holds import REVERSAL_OUT
from supply_app.inventory.models import Lot, StockCount, StockMovement
from supply_app.inventory.returns import refuse_if_credited
from supply_app.inventory.rules import (
    CHANGE_IN_EACHES,
    COUNTED_EACHES,
    REVERSAL_REASON,
    TYPED_ADJUSTMENT_REASON,
)
from supply_app.inventory.valuation import half_up_div, share_of_value


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
    snap: ledger.Snapshot,
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
        ledger.require_stock(session, snap, taken, lot, kind="adjustment")
        value = share_of_value(snap.on_hand, snap.value_cents, taken)
        ledger.decrease(session, snap, taken, value, lot, kind="adjustment")
        signed_value = -value
    else:
        if unit_cost_cents is not None:
            signed_value = unit_cost_cents * eaches
        elif snap.on_hand > 0:
            # Found stock joins at the balance's average cost, so the average is unchanged.
            signed_value = half_up_div(snap.value_cents * eaches, snap.on_hand)
        else:
            signed_value = _inbound_unit_cost(session, facility.id, lot.id) * eaches
        ledger.increase(session, facility.id, lot, eaches, signed_value, kind="adjustment")
    return ledger.post(
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


def _held_snapshot(session: Session, facility: Facility, lot: Lot) -> ledger.Snapshot:
    """Lock the balance of a lot the facility has held at some time.

    :raises InvalidInput: the facility never held this lot.
    """
    snap = ledger.lock_one(session, facility.id, lot.id)
    if snap is None:
        raise InvalidInput(
            f"{facility.code} has never held {lot.part.part_number} lot {lot.lot_number}; "
            "receive it instead.",
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

    :raises InvalidInput: zero/absurd quantity, unknown reason, a reason the sign contradicts
        (found stock taken away, lost stock added), or a lot never held here.
    :raises InsufficientStock: a decrease larger than what is on hand.
    """
    CHANGE_IN_EACHES.check(eaches, "eaches")
    if eaches == 0:
        raise InvalidInput("An adjustment must change the balance.", field="eaches")
    TYPED_ADJUSTMENT_REASON.check(reason, "reason")
    if (reason, eaches > 0) in (("found", False), ("lost", True)):
        more, fewer = ("more", "fewer") if reason == "found" else ("fewer", "more")
        raise InvalidInput(
            f"{reason.capitalize()} stock means {more} eaches on the shelf, but this change "
            f"makes {fewer}: check the sign, or choose another reason.",
            field="reason",
        )
    ledger.check_active(facility)
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
    COUNTED_EACHES.check(counted, "counted")
    ledger.check_active(facility)
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


def is_order_receipt(movement: StockMovement) -> bool:
    """Whether the movement booked packs received against an order line."""
    return movement.kind == "receipt" and movement.reference_type == "order_line"


def reversed_by(session: Session, movements: list[StockMovement]) -> int | None:
    """The id of a reversal of any of the movements, if one was posted."""
    return session.scalar(
        select(StockMovement.id).where(StockMovement.reverses_id.in_([m.id for m in movements]))
    )


def reverse(
    session: Session,
    *,
    movement: StockMovement,
    actor: User | None,
    reason: str,
    for_order: bool = False,
) -> StockMovement:
    """Undo a movement, at most once, by posting its opposite (both legs of a transfer).

    Stock that came in goes back out at its recorded value when the balance still holds
    it; if the balance's value has since fallen below that (issues at a higher average),
    it takes what is left, so no balance ever goes negative in eaches or cents.

    :raises InvalidInput: no reason given.
    :raises InvalidTransition: a reversal, a movement already reversed, a credited return,
        or a receipt against an order (undone on the order, `for_order`, so its line counts
        the packs outstanding again).
    :raises InsufficientStock: the stock a receipt brought in has since been used.
    :returns: the reversal of `movement` itself.
    """
    reason = REVERSAL_REASON.check(reason, "reason")
    if movement.kind == "reversal":
        raise InvalidTransition("A reversal cannot itself be reversed; post a new movement.")
    if is_order_receipt(movement) and not for_order:
        raise InvalidTransition(
            f"Movement {movement.id} received packs against an order; undo that receipt on "
            "the order, so the order counts the packs as outstanding again."
        )
    if movement.kind == "return_to_vendor":
        refuse_if_credited(session, movement)
    legs = transfer_legs(session, movement)
    snaps = ledger.lock(session, [(leg.facility_id, leg.lot_id) for leg in legs])
    already = reversed_by(session, legs)
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
            snap = ledger.require_stock(
                session,
                snaps.get((leg.facility_id, leg.lot_id)),
                leg.eaches,
                leg.lot,
                kind=REVERSAL_OUT,
            )
            if leg.eaches == snap.on_hand:
                value = snap.value_cents
            else:
                value = min(leg.value_cents, snap.value_cents)
            ledger.decrease(session, snap, leg.eaches, value, leg.lot, kind=REVERSAL_OUT)
            returned_value = value
            signed = -value
        else:
            value = -leg.value_cents if returned_value is None else returned_value
            ledger.increase(session, leg.facility_id, leg.lot, -leg.eaches, value, kind="reversal")
            signed = value
        reversals[leg.id] = ledger.post(
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
