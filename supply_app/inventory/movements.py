"""Stock coming in and going out: receipts, issues for use, waste and transfers.

Each is a ledger row plus its balance change, in the caller's transaction (see ledger).
"Today" for expiry is the facility's own date unless the caller names the day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from supply_app.auth.models import User
from supply_app.catalog.models import Part
from supply_app.db import insert_rows
from supply_app.errors import InvalidInput
from supply_app.facilities.models import Facility
from supply_app.inventory import ledger
from supply_app.inventory.errors import LotExpired
from supply_app.inventory.lots import check_serial_free, lot_for_receipt
from supply_app.inventory.models import Lot, StockMovement
from supply_app.inventory.rules import (
    EACHES,
    EXPIRED_MAY_ARRIVE_AS,
    RECEIPT_REASON,
    WASTE_REASON,
)
from supply_app.inventory.valuation import MAX_VALUE_CENTS, share_of_value


def refuse_expired(lot: Lot, on_date: date, what: str = "used") -> None:
    """Expired stock may be wasted where it is, never used or shipped.

    :raises LotExpired: the lot is past expiry on on_date.
    """
    if lot.expired_on(on_date):
        raise LotExpired(
            f"{lot.part.part_number} lot {lot.lot_number} expired on "
            f"{lot.expiry_date.isoformat()}; expired stock cannot be {what} (waste it instead).",
            lot_id=lot.id,
        )


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
    :raises LotExpired: the lot is already expired on the facility's date (unless it was
        found on the shelf: expired stock found must be booked before it can be wasted).
    :raises Conflict: inactive facility, or a serialised unit already in stock somewhere.
    """
    EACHES.check(eaches, "eaches")
    ledger.check_reference(reference)
    if not 0 <= value_cents <= MAX_VALUE_CENTS:
        raise InvalidInput("Receipt value is out of range.", field="value_cents")
    reason = reason or ("order" if reference and reference[0] == "order_line" else None)
    RECEIPT_REASON.check(reason, "reason")
    ledger.check_active(facility)
    lot = lot_for_receipt(
        session,
        part=part,
        lot_number=lot_number,
        expiry_date=expiry_date,
        serial=serial,
        gtin=gtin,
        batch=batch,
        on_date=None if reason in EXPIRED_MAY_ARRIVE_AS else on_date or facility.today(),
    )
    if lot.serial is not None:
        check_serial_free(session, lot, eaches)
    ledger.lock_one(session, facility.id, lot.id)
    ledger.increase(session, facility.id, lot, eaches, value_cents, kind="receipt")
    return ledger.post(
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


def issue(
    session: Session,
    *,
    facility: Facility,
    lot: Lot,
    eaches: int,
    actor: User | None,
    reference: tuple[str, int] | None = None,
    note: str | None = None,
    on_date: date | None = None,
) -> StockMovement:
    """Issue eaches of a lot for use, valued at the balance's moving-average cost.

    :raises InsufficientStock: fewer on hand (409 with requested/available); nothing written.
    :raises LotExpired: the lot is past expiry on on_date (default: the facility's today).
    """
    return issue_many(
        session,
        facility=facility,
        picks=[(lot, eaches)],
        actor=actor,
        reference=reference,
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
    note: str | None = None,
    on_date: date | None = None,
) -> list[StockMovement]:
    """Issue several (lot, eaches) picks as issue() does each, in order; one movement per pick.

    The balances are locked in one statement in id order (so two multi-line issues cannot
    deadlock) and the ledger rows go in with insert_rows (one statement on PostgreSQL);
    each decrement is still its own conditional UPDATE. A lot picked on several lines is
    checked against its total, so a shortage names everything asked of it.

    :raises InsufficientStock: a lot holds less than its picks ask (409 with figures).
    :raises LotExpired: a lot is past expiry on on_date (default: the facility's today).
    """
    for _, eaches in picks:
        EACHES.check(eaches, "eaches")
    ledger.check_reference(reference)
    ledger.check_active(facility)
    on_date = on_date or facility.today()
    for lot, _ in picks:
        refuse_expired(lot, on_date)
    if not picks:
        return []
    snaps = ledger.lock(session, [(facility.id, lot.id) for lot, _ in picks])
    asked: Counter[int] = Counter()
    for lot, eaches in picks:
        asked[lot.id] += eaches
    for lot, _ in picks:
        ledger.require_stock(
            session, snaps.get((facility.id, lot.id)), asked[lot.id], lot, kind="issue"
        )
    rows, takes = [], []
    for lot, eaches in picks:
        key = (facility.id, lot.id)
        snap = snaps[key]
        value = share_of_value(snap.on_hand, snap.value_cents, eaches)
        takes.append((key, snap, eaches, value))
        # A later pick of the same lot values what this one left.
        snaps[key] = ledger.Snapshot(snap.id, snap.on_hand - eaches, snap.value_cents - value)
        rows.append(
            ledger.movement_row(
                facility_id=facility.id,
                lot=lot,
                kind="issue",
                eaches=-eaches,
                value_cents=-value,
                actor=actor,
                note=note,
                reference=reference,
            )
        )
    ledger.decrease_many(session, takes, [lot for lot, _ in picks], kind="issue")
    movements = insert_rows(session, StockMovement, rows)
    for movement, (lot, _) in zip(movements, picks, strict=True):
        set_committed_value(movement, "lot", lot)
    return movements


def take(
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
    snap = ledger.require_stock(
        session, ledger.lock_one(session, facility.id, lot.id), eaches, lot, kind=kind
    )
    value = share_of_value(snap.on_hand, snap.value_cents, eaches)
    ledger.decrease(session, snap, eaches, value, lot, kind=kind)
    return ledger.post(
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

    Waste is one of the two dispositions of a lot on hold, so a hold never refuses it.

    :raises InvalidInput: unknown reason or bad quantity.
    :raises InsufficientStock: fewer on hand.
    """
    EACHES.check(eaches, "eaches")
    WASTE_REASON.check(reason, "reason")
    ledger.check_active(facility)
    return take(
        session,
        facility=facility,
        lot=lot,
        eaches=eaches,
        kind="waste",
        actor=actor,
        reason=reason,
        note=note,
    )


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
    :raises LotExpired: expired stock (on the source's date) is wasted where it is.
    :raises InsufficientStock: fewer on hand at the source.
    """
    EACHES.check(eaches, "eaches")
    if source.id == destination.id:
        raise InvalidInput("Choose another facility to send the stock to.", field="to_facility_id")
    ledger.check_active(source)
    if not destination.active:
        raise InvalidInput(f"Facility {destination.code} is deactivated.", field="to_facility_id")
    refuse_expired(lot, on_date or source.today(), "shipped")
    snaps = ledger.lock(session, [(source.id, lot.id), (destination.id, lot.id)])
    snap = ledger.require_stock(
        session, snaps.get((source.id, lot.id)), eaches, lot, kind="transfer_out"
    )
    value = share_of_value(snap.on_hand, snap.value_cents, eaches)
    ledger.decrease(session, snap, eaches, value, lot, kind="transfer_out")
    ledger.increase(session, destination.id, lot, eaches, value, kind="transfer_in")
    out = ledger.post(
        session,
        facility_id=source.id,
        lot=lot,
        kind="transfer_out",
        eaches=-eaches,
        value_cents=-value,
        actor=actor,
        note=note,
    )
    inbound = ledger.post(
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
