"""Returns to the vendor: stock shipped back under a returned-goods authorisation (RGA).

The movement leaves at the balance's moving-average cost, like any issue, and that value is
the credit the vendor owes until the credit is recorded. It links to the order line whose
receipt brought the lot into the facility, when one did. An RGA is good for 30 days from
its date, counted in the facility's own calendar. A return is one of the two dispositions
of a lot on hold, so a recall never refuses it (expired stock may be returned too).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from supply_app.auth.models import User
from supply_app.auth.service import record_audit
from supply_app.db import lock_row
from supply_app.errors import InvalidInput, InvalidTransition, NotFound
from supply_app.facilities.models import Facility
from supply_app.inventory import ledger
from supply_app.inventory.errors import RgaExpired
from supply_app.inventory.models import Lot, StockMovement, VendorReturn
from supply_app.inventory.movements import take
from supply_app.inventory.rules import (
    CREDIT_DATE,
    CREDIT_MEMO,
    EACHES,
    RGA_DATE,
    RGA_NUMBER,
    RGA_VALID_DAYS,
)

CREDIT_STATES = ("expected", "credited")


def check_rga(rga_date: date, facility: Facility, on_date: date | None = None) -> date:
    """An RGA dated no later than today and no more than 30 days ago, at the facility.

    :raises InvalidInput: a date after today.
    :raises RgaExpired: the RGA is more than 30 days old.
    """
    rga_date = RGA_DATE.check(rga_date, "rga_date")
    today = on_date or facility.today()
    age = (today - rga_date).days
    if age < 0:
        raise InvalidInput(
            f"The RGA date {rga_date.isoformat()} is after today at {facility.code} "
            f"({today.isoformat()}).",
            field="rga_date",
        )
    if age > RGA_VALID_DAYS:
        raise RgaExpired(
            f"The RGA of {rga_date.isoformat()} is {age} days old at {facility.code}; an RGA "
            f"is good for {RGA_VALID_DAYS} days. Ask the vendor for a new one.",
            field="rga_date",
            rga_age_days=age,
        )
    return rga_date


def _order_lines(session: Session, facility: Facility, lot: Lot) -> list[int]:
    """The order lines whose receipts brought this lot into the facility, newest first."""
    return list(
        session.scalars(
            select(StockMovement.reference_id)
            .where(
                StockMovement.facility_id == facility.id,
                StockMovement.lot_id == lot.id,
                StockMovement.kind == "receipt",
                StockMovement.reference_type == "order_line",
            )
            .order_by(StockMovement.id.desc())
        )
    )


def _order_line(
    session: Session, facility: Facility, lot: Lot, order_line_id: int | None
) -> int | None:
    """The order line to credit: the one named (it must have received the lot here) or the
    latest that did; None when the lot came in outside an order.

    :raises InvalidInput: the named line never brought this lot into the facility.
    """
    lines = _order_lines(session, facility, lot)
    if order_line_id is None:
        return lines[0] if lines else None
    if order_line_id not in lines:
        raise InvalidInput(
            f"Order line {order_line_id} did not bring {lot.part.part_number} lot "
            f"{lot.lot_number} into {facility.code}.",
            field="order_line_id",
        )
    return order_line_id


def return_to_vendor(
    session: Session,
    *,
    facility: Facility,
    lot: Lot,
    eaches: int,
    rga_number: str,
    rga_date: date,
    actor: User | None,
    order_line_id: int | None = None,
    note: str | None = None,
    on_date: date | None = None,
) -> VendorReturn:
    """Ship eaches of a lot back to the vendor under an RGA, at moving-average cost.

    :raises InvalidInput: bad quantity or RGA number, an RGA dated after today, or an order
        line that did not receive this lot here.
    :raises RgaExpired: the RGA is more than 30 days old (the facility's date).
    :raises InsufficientStock: fewer on hand.
    :raises Conflict: the facility is deactivated.
    """
    EACHES.check(eaches, "eaches")
    rga_number = RGA_NUMBER.check(rga_number, "rga_number")
    rga_date = check_rga(rga_date, facility, on_date)
    ledger.check_active(facility)
    line_id = _order_line(session, facility, lot, order_line_id)
    movement = take(
        session,
        facility=facility,
        lot=lot,
        eaches=eaches,
        kind="return_to_vendor",
        actor=actor,
        note=note,
        reference=("order_line", line_id) if line_id is not None else None,
    )
    record = VendorReturn(
        movement=movement, rga_number=rga_number, rga_date=rga_date, order_line_id=line_id
    )
    session.add(record)
    session.flush()
    return record


_reversal = aliased(StockMovement)


def returns_query(facility_ids: set[int] | None, credit: str | None = None) -> Select:
    """Returns at the facilities (None: all), newest first; reversed returns are left out.

    credit: "expected" (no credit recorded yet) or "credited".
    """
    stmt = (
        select(VendorReturn)
        .join(StockMovement, StockMovement.id == VendorReturn.movement_id)
        .where(~exists().where(_reversal.reverses_id == StockMovement.id))
        .order_by(StockMovement.id.desc())
    )
    if facility_ids is not None:
        stmt = stmt.where(StockMovement.facility_id.in_(facility_ids))
    if credit == "expected":
        stmt = stmt.where(VendorReturn.credited_on.is_(None))
    elif credit == "credited":
        stmt = stmt.where(VendorReturn.credited_on.is_not(None))
    return stmt


def credit_expected_cents(session: Session, facility_ids: set[int] | None) -> int:
    """The credit owed on returns at the facilities (None: all) that has not come yet."""
    listed = returns_query(facility_ids, "expected").order_by(None).subquery()
    total = session.scalar(
        select(func.coalesce(func.sum(-StockMovement.value_cents), 0)).join(
            listed, listed.c.movement_id == StockMovement.id
        )
    )
    return int(total)


def get_return(session: Session, return_id: int, facility_ids: set[int] | None) -> VendorReturn:
    """A return at one of the facilities (None: any).

    :raises NotFound: no such return there.
    """
    record = session.get(VendorReturn, return_id)
    if record is None or (
        facility_ids is not None and record.movement.facility_id not in facility_ids
    ):
        raise NotFound(f"No return to the vendor with id {return_id}.")
    return record


def record_credit(
    session: Session,
    *,
    record: VendorReturn,
    facility: Facility,
    credit_memo: str,
    credited_on: date,
    actor: User | None,
) -> VendorReturn:
    """Record the vendor's credit for a return (once; audited, as money is).

    :raises InvalidInput: a bad memo number, or a date before the return or after today.
    :raises InvalidTransition: the credit was already recorded, or the return was reversed.
    """
    credit_memo = CREDIT_MEMO.check(credit_memo, "credit_memo")
    credited_on = CREDIT_DATE.check(credited_on, "credited_on")
    # The return's row orders a credit against another credit and against a reversal.
    record = lock_row(session, record)
    if record.credited_on is not None:
        raise InvalidTransition(
            f"Return {record.id} was credited on {record.credited_on.isoformat()} "
            f"(memo {record.credit_memo})."
        )
    if session.scalar(select(_reversal.id).where(_reversal.reverses_id == record.movement_id)):
        raise InvalidTransition(f"Return {record.id} was reversed; no credit is due.")
    today = facility.today()
    if not record.rga_date <= credited_on <= today:
        raise InvalidInput(
            f"The credit date must be between the RGA date {record.rga_date.isoformat()} and "
            f"today at {facility.code} ({today.isoformat()}).",
            field="credited_on",
        )
    record.credit_memo, record.credited_on = credit_memo, credited_on
    record.credited_by_id = actor.id if actor is not None else None
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="vendor_return.credit",
        entity=("vendor_return", record.id),
        facility_id=facility.id,
        after={
            "credit_memo": credit_memo,
            "credited_on": credited_on.isoformat(),
            "credit_cents": -record.movement.value_cents,
        },
    )
    return record


def refuse_if_credited(session: Session, movement: StockMovement) -> None:
    """A credited return stands: reversing it would put stock back the vendor paid for.

    :raises InvalidTransition: the return's credit is recorded.
    """
    # Locked, as a credit locks it: one of a credit and a reversal wins, the other sees it.
    credited = session.scalar(
        select(VendorReturn.credit_memo)
        .where(VendorReturn.movement_id == movement.id)
        .with_for_update()
    )
    if credited is not None:
        raise InvalidTransition(
            f"Movement {movement.id} is a return the vendor has credited (memo {credited}); "
            "it cannot be reversed."
        )
