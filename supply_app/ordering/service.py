"""Ordering: ECAT purchase orders from draft to receipt (the export and reorder suggestions
live in ordering.ecat and ordering.suggestions).

Services take explicit arguments, raise DomainErrors and never commit. Every step that
changes an order loads it with `lock=True` (a row lock on PostgreSQL; the write view's
BEGIN IMMEDIATE on SQLite), so two requests never both move the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from supply_app.auth.models import User
from supply_app.auth.permissions import ORDER_APPROVERS, ORDER_BUILDERS
from supply_app.auth.service import can_access_facility, record_audit, require_role, scoped
from supply_app.catalog.models import ContractPrice, Part
from supply_app.catalog.service import get_part, get_part_by_number, price_in_effect
from supply_app.clock import utcnow
from supply_app.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from supply_app.facilities.models import Facility
from supply_app.ordering.errors import (
    SelfApproval,
    SerialsExhausted,
    UnpricedPart,
)
from supply_app.ordering.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    RequisitionSerial,
)
from supply_app.ordering.rules import (
    CANCEL_REASON,
    FUND_CODE,
    ORDER_NOTES,
    PACKS,
    PRIORITY,
)

HEADER_FIELDS = ("fund_code", "priority", "required_delivery_date", "notes")
MAX_SERIAL = 9999
#: How far ahead a required delivery date may be; anything later is a typo.
MAX_DELIVERY_DAYS = 730

#: The states each action is allowed from.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "edit": ("draft",),
    "submit": ("draft",),
    "approve": ("submitted",),
    "cancel": ("draft", "submitted", "approved"),
    "receive": ("approved", "partially_received"),
    "undo_receipt": ("partially_received", "received"),
    # The ECAT file goes to the vendor: only once a second purchaser has approved the order.
    "export": ("approved", "partially_received", "received"),
}
_VERBS = {
    "edit": "changed",
    "submit": "submitted",
    "approve": "approved",
    "cancel": "cancelled",
    "receive": "received against",
    "undo_receipt": "have a receipt undone",
    "export": "exported",
}


def julian_date(on: date) -> str:
    """The MILSTRIP ordinal date YDDD: last digit of the year and day of the year."""
    return f"{on.year % 10}{on.timetuple().tm_yday:03d}"


def next_document_number(session: Session, *, dodaac: str, on: date) -> str:
    """Allocate the next MILSTRIP document number for a DoDAAC on a date.

    One atomic upsert takes the serial: concurrent submitters of the same DoDAAC and day
    queue on the counter row (PostgreSQL) or the write lock (SQLite), so no two orders get
    the same serial and none is skipped by a race.

    :raises SerialsExhausted: the DoDAAC has used all 9999 serials on that Julian date.
    """
    ydd = julian_date(on)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(RequisitionSerial)
        .values(dodaac=dodaac, julian_date=ydd, last_serial=1)
        .on_conflict_do_update(
            index_elements=["dodaac", "julian_date"],
            set_={"last_serial": RequisitionSerial.last_serial + 1},
            where=RequisitionSerial.last_serial < MAX_SERIAL,
        )
        .returning(RequisitionSerial.last_serial)
    )
    serial = session.execute(stmt).scalar()
    if serial is None:
        raise SerialsExhausted(
            f"DoDAAC {dodaac} has used all {MAX_SERIAL} document serials for Julian date "
            f"{ydd}; submit again tomorrow.",
            dodaac=dodaac,
            julian_date=ydd,
        )
    return f"{dodaac}{ydd}{serial:04d}"


# --- reading --------------------------------------------------------------------------

#: Everything an order's JSON shows, loaded in a few batched queries instead of per row.
ORDER_LOADS = (
    selectinload(PurchaseOrder.facility),
    selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.part),
    selectinload(PurchaseOrder.created_by),
    selectinload(PurchaseOrder.submitted_by),
    selectinload(PurchaseOrder.approved_by),
    selectinload(PurchaseOrder.cancelled_by),
)


def orders_query(
    session: Session,
    user: User,
    *,
    facility_id: int | None = None,
    status: str | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
) -> Select:
    """Orders the user may see, newest first, with optional filters.

    :raises InvalidInput: created_from after created_to.
    """
    if created_from and created_to and created_from > created_to:
        raise InvalidInput("created_from must be on or before created_to.", field="created_from")
    stmt = scoped(
        select(PurchaseOrder).options(*ORDER_LOADS).order_by(PurchaseOrder.id.desc()),
        PurchaseOrder.facility_id,
        user,
    )
    if facility_id is not None:
        stmt = stmt.where(PurchaseOrder.facility_id == facility_id)
    if status is not None:
        stmt = stmt.where(PurchaseOrder.status == status)
    if created_from is not None:
        stmt = stmt.where(PurchaseOrder.created_at >= _start_of(created_from))
    if created_to is not None:
        stmt = stmt.where(PurchaseOrder.created_at < _start_of(created_to, days=1))
    return stmt


def _start_of(day: date, days: int = 0) -> datetime:
    """Midnight UTC at the start of day (+ days)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=days)


def get_order(session: Session, user: User, order_id: int, *, lock: bool = False) -> PurchaseOrder:
    """Load an order of one of the user's facilities; lock=True before changing it.

    :raises NotFound: no such order, or one of a facility the user does not belong to.
    """
    stmt = select(PurchaseOrder).where(PurchaseOrder.id == order_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(stmt)
    if order is None or not can_access_facility(session, user, order.facility_id):
        raise NotFound(f"No order with id {order_id}.")
    return order


def line_prices(
    session: Session, order: PurchaseOrder, on: date
) -> list[tuple[PurchaseOrderLine, ContractPrice | None]]:
    """Each line with the contract price in effect for its part on a day (None: unpriced):
    what submitting snapshots, and what a draft shows it will cost."""
    return [(line, price_in_effect(session, line.part_id, on)) for line in order.lines]


def get_order_by_document_number(session: Session, document_number: str) -> PurchaseOrder:
    """The order with a MILSTRIP document number (for the command line, which sees all).

    :raises NotFound: no order has it.
    """
    order = session.scalar(
        select(PurchaseOrder).where(PurchaseOrder.document_number == document_number)
    )
    if order is None:
        raise NotFound(f"No order with document number {document_number}.")
    return order


def get_line(order: PurchaseOrder, line_id: int) -> PurchaseOrderLine:
    """One line of an order.

    :raises NotFound: the order has no such line.
    """
    for line in order.lines:
        if line.id == line_id:
            return line
    raise NotFound(f"Order {order.id} has no line {line_id}.")


# --- building a draft -----------------------------------------------------------------


def require_state(order: PurchaseOrder, action: str) -> None:
    """Refuse an action the order's status does not allow, naming the current status.

    :raises InvalidTransition: the action is not allowed from the current status.
    """
    allowed = ALLOWED_FROM[action]
    if order.status not in allowed:
        raise InvalidTransition(
            f"Order {order.id} is {order.status}; it can be {_VERBS[action]} only when "
            f"{' or '.join(allowed)}.",
            current_state=order.status,
            allowed_states=list(allowed),
        )


def _check_delivery_date(required: date, on: date) -> None:
    """A required delivery date lies between today and MAX_DELIVERY_DAYS ahead.

    :raises InvalidInput: a date in the past, or one so far ahead it must be a typo.
    """
    if required < on:
        raise InvalidInput(
            f"required_delivery_date {required.isoformat()} is before today ({on.isoformat()}).",
            field="required_delivery_date",
        )
    if required > on + timedelta(days=MAX_DELIVERY_DAYS):
        raise InvalidInput(
            f"required_delivery_date must be within {MAX_DELIVERY_DAYS} days of today.",
            field="required_delivery_date",
        )


def resolve_part(session: Session, *, part_id: int | None, part_number: str | None) -> Part:
    """The active catalog part named by id or part number.

    :raises InvalidInput: unknown or inactive part (a 422 naming the field, since the
        order itself exists).
    """
    field = "part_id" if part_id is not None else "part_number"
    try:
        part = (
            get_part(session, part_id)
            if part_id is not None
            else get_part_by_number(session, part_number or "")
        )
    except NotFound as exc:
        raise InvalidInput(exc.detail, field=field) from exc
    if not part.active:
        raise InvalidInput(f"{part.part_number} is no longer in the catalog.", field=field)
    return part


def checked_header(header: dict[str, Any]) -> dict[str, Any]:
    """An order's header fields, each cleaned by its rule (every door that writes them).

    :raises InvalidInput: a field its rule refuses.
    """
    clean = dict(header)
    if "fund_code" in header:
        clean["fund_code"] = FUND_CODE.check(header["fund_code"], "fund_code")
    if "priority" in header:
        priority = header["priority"]
        text = f"{priority:02d}" if isinstance(priority, int) else priority
        clean["priority"] = int(PRIORITY.check(text, "priority"))
    if header.get("notes") is not None:
        clean["notes"] = ORDER_NOTES.check(header["notes"], "notes") or None
    return clean


def create_order(
    session: Session,
    *,
    facility: Facility,
    actor: User,
    header: dict[str, Any],
    lines: Iterable[tuple[Part, int]] = (),
) -> PurchaseOrder:
    """Create a draft order for a facility, with optional (part, packs) lines.

    :raises InvalidInput: a delivery date in the past, a bad pack count, a repeated part.
    :raises Conflict: the facility is deactivated.
    """
    require_role(actor, *ORDER_BUILDERS)
    if not facility.active:
        raise Conflict(f"Facility {facility.code} is deactivated.")
    header = checked_header(header)
    _check_delivery_date(header["required_delivery_date"], facility.today())
    order = PurchaseOrder(
        facility=facility,
        status="draft",
        created_by_id=actor.id,
        **{name: header.get(name) for name in HEADER_FIELDS},
    )
    session.add(order)
    for part, packs in lines:
        _append_line(order, part, packs)
    session.flush()
    return order


def _append_line(order: PurchaseOrder, part: Part, packs: int) -> PurchaseOrderLine:
    """Add a line for a part not yet on the order."""
    PACKS.check(packs, "packs")
    if any(line.part_id == part.id for line in order.lines):
        raise InvalidInput(
            f"{part.part_number} is already on this order; change that line's packs instead.",
            field="part_id",
        )
    line = PurchaseOrderLine(
        part=part, part_id=part.id, packs=packs, units_per_pack=part.units_per_pack
    )
    order.lines.append(line)
    return line


def update_order(
    session: Session, *, order: PurchaseOrder, changes: dict[str, Any], actor: User
) -> PurchaseOrder:
    """Change a draft's header fields (fund code, priority, delivery date, notes).

    :raises InvalidTransition: the order is no longer a draft.
    :raises InvalidInput: nothing to change, or a delivery date in the past.
    """
    require_role(actor, *ORDER_BUILDERS)
    require_state(order, "edit")
    if not changes:
        raise InvalidInput("Send at least one field to change.")
    changes = checked_header(changes)
    if "required_delivery_date" in changes:
        _check_delivery_date(changes["required_delivery_date"], order.facility.today())
    for name, value in changes.items():
        setattr(order, name, value)
    session.flush()
    return order


def add_line(
    session: Session, *, order: PurchaseOrder, part: Part, packs: int, actor: User
) -> PurchaseOrderLine:
    """Add packs of a part to a draft.

    :raises InvalidTransition: the order is no longer a draft.
    :raises InvalidInput: bad pack count or the part is already on the order.
    """
    require_role(actor, *ORDER_BUILDERS)
    require_state(order, "edit")
    line = _append_line(order, part, packs)
    session.flush()
    return line


def set_line_packs(
    session: Session, *, order: PurchaseOrder, line: PurchaseOrderLine, packs: int, actor: User
) -> PurchaseOrderLine:
    """Change the packs of a draft's line.

    :raises InvalidTransition: the order is no longer a draft.
    :raises InvalidInput: bad pack count.
    """
    require_role(actor, *ORDER_BUILDERS)
    require_state(order, "edit")
    PACKS.check(packs, "packs")
    line.packs = packs
    session.flush()
    return line


def remove_line(
    session: Session, *, order: PurchaseOrder, line: PurchaseOrderLine, actor: User
) -> None:
    """Delete a line from a draft.

    :raises InvalidTransition: the order is no longer a draft.
    """
    require_role(actor, *ORDER_BUILDERS)
    require_state(order, "edit")
    order.lines.remove(line)
    session.flush()


# --- lifecycle ------------------------------------------------------------------------


def audit(session: Session, order: PurchaseOrder, actor: User, action: str, **after: Any) -> None:
    """Record an order step in the audit log."""
    record_audit(
        session,
        actor=actor,
        action=f"order.{action}",
        entity=("purchase_order", order.id),
        facility_id=order.facility_id,
        after={"status": order.status, "document_number": order.document_number, **after},
    )


def submit_order(
    session: Session, *, order: PurchaseOrder, actor: User, on: date | None = None
) -> PurchaseOrder:
    """Submit a draft: snapshot each line's contract pack price and assign a document number.

    :raises InvalidTransition: the order is not a draft.
    :raises InvalidInput: no lines, or the required delivery date has passed.
    :raises Conflict: the facility is deactivated or a part left the catalog.
    :raises UnpricedPart: a part has no contract price in effect today (names every one).
    """
    require_role(actor, *ORDER_BUILDERS)
    require_state(order, "submit")
    on = on or order.facility.today()
    if not order.lines:
        raise InvalidInput("Add at least one line before submitting.", field="lines")
    _check_delivery_date(order.required_delivery_date, on)
    if not order.facility.active:
        raise Conflict(f"Facility {order.facility.code} is deactivated.")
    inactive = [line.part.part_number for line in order.lines if not line.part.active]
    if inactive:
        raise Conflict(
            f"No longer in the catalog: {', '.join(inactive)}; remove those lines.",
            part_numbers=inactive,
        )
    prices = line_prices(session, order, on)
    unpriced = [line.part.part_number for line, price in prices if price is None]
    if unpriced:
        raise UnpricedPart(
            f"No contract price in effect on {on.isoformat()} for {', '.join(unpriced)}; "
            "set a price or remove the line before submitting.",
            part_numbers=unpriced,
        )
    for line, price in prices:
        line.unit_price_cents = price.unit_price_cents  # type: ignore[union-attr]
        line.contract_price_id = price.id  # type: ignore[union-attr]
        line.units_per_pack = line.part.units_per_pack
    order.ship_to_dodaac = order.facility.dodaac
    order.document_number = next_document_number(session, dodaac=order.ship_to_dodaac, on=on)
    order.status = "submitted"
    order.submitted_by_id = actor.id
    order.submitted_at = utcnow()
    session.flush()
    audit(session, order, actor, "submit", total_cents=order.total_cents)
    return order


def approve_order(session: Session, *, order: PurchaseOrder, actor: User) -> PurchaseOrder:
    """Approve a submitted order; the approver must be neither its creator nor its submitter.

    :raises InvalidTransition: the order is not submitted.
    :raises SelfApproval: the approver built or submitted it.
    """
    require_role(actor, *ORDER_APPROVERS)
    require_state(order, "approve")
    if actor.id in (order.created_by_id, order.submitted_by_id):
        raise SelfApproval(
            f"You created or submitted order {order.id}; another purchaser or an admin "
            "must approve it."
        )
    order.status = "approved"
    order.approved_by_id = actor.id
    order.approved_at = utcnow()
    session.flush()
    audit(session, order, actor, "approve")
    return order


def cancel_order(
    session: Session, *, order: PurchaseOrder, actor: User, reason: str | None = None
) -> PurchaseOrder:
    """Cancel an order that has received nothing yet.

    :raises InvalidTransition: the order is partially received, received or cancelled.
    """
    require_role(actor, *ORDER_BUILDERS)
    require_state(order, "cancel")
    reason = CANCEL_REASON.check(reason, "reason") or None if reason is not None else None
    order.status = "cancelled"
    order.cancelled_by_id = actor.id
    order.cancelled_at = utcnow()
    order.cancel_reason = reason
    session.flush()
    audit(session, order, actor, "cancel", reason=reason)
    return order
