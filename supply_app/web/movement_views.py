"""Stock movement forms: receive, adjust, transfer, waste, count, and reverse a movement.

Every form starts at the facility you work in; links from a lot's row or an alert fill in
the lot (?lot=<id>). A lot is picked from the facility's list or typed in any case, or
scanned: the scan goes through the same inventory.lots resolution the API uses.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from sqlalchemy import select

from supply_app.auth.permissions import STOCK_MOVERS
from supply_app.auth.service import facility_ids_for
from supply_app.catalog.models import Part
from supply_app.catalog.service import get_part
from supply_app.errors import InvalidInput, NotFound
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_active_facility
from supply_app.inventory import service as inventory
from supply_app.inventory.models import Lot
from supply_app.money import dollars
from supply_app.ordering.models import PurchaseOrder, PurchaseOrderLine
from supply_app.web import bp
from supply_app.web.forms import (
    AdjustForm,
    CountForm,
    ReceiveForm,
    ReturnForm,
    ReverseForm,
    TransferForm,
    WasteForm,
    options,
)
from supply_app.web.helpers import (
    chosen_facility,
    facility_choices,
    me,
    my_facilities,
    page,
    part_choices,
    query_id,
    run_write,
    ui_roles,
)

# The service names the lot by id; the forms name it by part + lot number.
LOT_FIELDS = {"lot_id": "lot_number", "to_facility_id": "to_facility_id", "counted": "packs"}


def _prepare(form, blank: str = "Any part (found by its lot number)"):
    """Fill a stock form's choices and, on first view, what the link it came from says."""
    form.facility_id.choices = facility_choices()
    form.part_id.choices = options(("", blank)) + part_choices()
    if hasattr(form, "to_facility_id"):
        form.to_facility_id.choices = facility_choices()
    if request.method != "GET":
        return form
    facility = chosen_facility()
    form.facility_id.data = facility.id
    if hasattr(form, "to_facility_id"):  # never the source: the first other facility
        others = [c for c in form.to_facility_id.choices if c.value != facility.id]
        form.to_facility_id.data = others[0].value if others else None
    lot = _linked_lot()
    if lot is not None:
        form.part_id.data, form.lot_number.data = lot.part_id, lot.lot_number
    reason = request.args.get("reason")
    if hasattr(form, "reason") and reason in {c.value for c in form.reason.choices}:
        form.reason.data = reason
    return form


def _linked_lot() -> Lot | None:
    """The lot a row's link names (?lot=<id>), if one of your facilities holds it."""
    lot_id = query_id("lot")
    if lot_id is None:
        return None
    lot = db.session.get(Lot, lot_id)
    if lot is None or not inventory.held_by(db.session, lot, facility_ids_for(db.session, me())):
        raise NotFound(f"No lot with id {lot_id}.")
    return lot


def _facility(form) -> Facility:
    """The active facility chosen in a form (one of the user's, by its choices)."""
    return get_active_facility(db.session, me(), form.facility_id.data)


def _typed_part(form) -> Part | None:
    return get_part(db.session, form.part_id.data) if form.part_id.data else None


def _lot(form, facility: Facility) -> Lot:
    """The lot a form names: its scan (checked against what was typed) or its lot number.

    :raises InvalidInput: nothing names a lot, or the scan and the typed lot disagree.
    """
    part = _typed_part(form)
    if form.scan.data:
        lot = inventory.lot_for_scan(
            db.session,
            inventory.parse_scan(db.session, form.scan.data),
            facility=facility,
            part=part,
        )
        typed = form.lot_number.data
        if typed and typed.upper() != lot.lot_number.upper():
            raise InvalidInput(
                f"The scan says lot {lot.lot_number}, but {typed} was typed.", field="lot_number"
            )
        return lot
    if not form.lot_number.data:
        raise InvalidInput("Pick or type the lot number, or scan the label.", field="lot_number")
    return inventory.held_lot_named(db.session, facility, form.lot_number.data, part)


def _eaches(form, part: Part, *, zero_allowed: bool = False) -> int:
    """Packs and loose eaches of a form as eaches of the part (an empty box counts as none).

    :raises InvalidInput: nothing typed (or zero where zero means nothing).
    """
    if form.packs.data is None and form.eaches.data is None:
        raise InvalidInput(
            "Type the packs and loose eaches counted (0 for an empty shelf)."
            if zero_allowed
            else "Type how many packs or loose eaches.",
            field="packs",
        )
    total = (form.packs.data or 0) * part.units_per_pack + (form.eaches.data or 0)
    if total <= 0 and not zero_allowed:
        raise InvalidInput("Enter at least one pack or each.", field="packs")
    return total


def _done(message: str, facility_id: int):
    """Flash what happened and show the facility's stock."""
    db.session.expire_all()
    flash(message, "success")
    return redirect(url_for("web.stock", facility=facility_id))


def _stock_form(form, title: str):
    """Render a stock movement form with the lots each facility holds to pick from; a scan
    warns of a lot that cannot be received, or moved on to another facility."""
    lots = {f.id: list(db.session.scalars(inventory.balances_query(f.id))) for f in my_facilities()}
    purpose = {ReceiveForm: "receive", TransferForm: "use"}.get(type(form))
    return page("stock/move.html", form=form, title=title, shelf_lots=lots, scan_purpose=purpose)


@bp.route("/stock/receive", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_receive():
    """Receive stock outside an order (opening balance, loan, donation, return, found)."""
    form = _prepare(ReceiveForm(), blank="Choose, or scan the label")
    if form.validate_on_submit():

        def work():
            facility = _facility(form)
            scan = inventory.parse_scan(db.session, form.scan.data) if form.scan.data else None
            received = inventory.received_lot(
                db.session,
                scan=scan,
                part=_typed_part(form),
                lot_number=form.lot_number.data or None,
                expiry_date=form.expiry_date.data,
            )
            eaches = _eaches(form, received.part)
            return inventory.receive(
                db.session,
                facility=facility,
                eaches=eaches,
                value_cents=inventory.receipt_value(
                    db.session,
                    part=received.part,
                    eaches=eaches,
                    on_date=facility.today(),
                    pack_cost_cents=form.pack_cost.data,
                    field="pack_cost",
                ),
                actor=me(),
                reason=form.reason.data,
                note=form.note.data or None,
                **received.lot_fields(),
            )

        movement = run_write(form, work, {"value_cents": "pack_cost", "eaches": "packs"})
        if movement:
            lot = movement.lot
            return _done(
                f"Received {movement.eaches} eaches of {lot.part.part_number} lot "
                f"{lot.lot_number} (expires {lot.expiry_date.isoformat()}).",
                form.facility_id.data,
            )
    return _stock_form(form, "Receive stock")


@bp.route("/stock/adjust", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_adjust():
    """Correct a lot's balance up or down with a reason."""
    form = _prepare(AdjustForm())
    if form.validate_on_submit():

        def work():
            facility = _facility(form)
            return inventory.adjust(
                db.session,
                facility=facility,
                lot=_lot(form, facility),
                eaches=form.change.data,
                reason=form.reason.data,
                actor=me(),
                note=form.note.data or None,
            )

        if run_write(form, work, {**LOT_FIELDS, "eaches": "change"}):
            return _done("Adjustment posted.", form.facility_id.data)
    return _stock_form(form, "Adjust a balance")


@bp.route("/stock/transfer", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_transfer():
    """Send stock of a lot to another of your facilities (never to the one it is at)."""
    form = _prepare(TransferForm())
    if form.validate_on_submit():

        def work():
            source = _facility(form)
            if form.to_facility_id.data == source.id:
                raise InvalidInput(
                    f"The stock is at {source.code} already; choose another facility to send "
                    "it to.",
                    field="to_facility_id",
                )
            lot = _lot(form, source)
            return inventory.transfer(
                db.session,
                source=source,
                destination=get_active_facility(db.session, me(), form.to_facility_id.data),
                lot=lot,
                eaches=_eaches(form, lot.part),
                actor=me(),
                note=form.note.data or None,
            )

        if run_write(form, work, {**LOT_FIELDS, "eaches": "packs"}):
            return _done("Transfer posted.", form.facility_id.data)
    return _stock_form(form, "Transfer stock")


@bp.route("/stock/waste", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_waste():
    """Write off expired, damaged, contaminated or recalled stock."""
    form = _prepare(WasteForm())
    if form.validate_on_submit():

        def work():
            facility = _facility(form)
            lot = _lot(form, facility)
            return inventory.waste(
                db.session,
                facility=facility,
                lot=lot,
                eaches=_eaches(form, lot.part),
                reason=form.reason.data,
                actor=me(),
                note=form.note.data or None,
            )

        if run_write(form, work, {**LOT_FIELDS, "eaches": "packs"}):
            return _done("Waste posted.", form.facility_id.data)
    return _stock_form(form, "Waste stock")


@bp.route("/stock/count", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_count():
    """Record a physical count of a lot; any difference becomes an adjustment."""
    form = _prepare(CountForm())
    if form.validate_on_submit():

        def work():
            facility = _facility(form)
            lot = _lot(form, facility)
            return inventory.count(
                db.session,
                facility=facility,
                lot=lot,
                counted=_eaches(form, lot.part, zero_allowed=True),
                actor=me(),
                note=form.note.data or None,
            )

        result = run_write(form, work, LOT_FIELDS)
        if result:
            record, movement = result
            change = (
                "no difference"
                if movement is None
                else f"difference {movement.eaches:+d} eaches posted as an adjustment"
            )
            return _done(
                f"Count recorded: {record.counted} eaches (books said "
                f"{record.previous_on_hand}); {change}.",
                form.facility_id.data,
            )
    return _stock_form(form, "Count a lot")


@bp.route("/stock/return", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_return():
    """Ship stock back to the vendor under an RGA (at most 30 days old)."""
    form = _prepare(ReturnForm())
    if form.validate_on_submit():

        def work():
            facility = _facility(form)
            lot = _lot(form, facility)
            return inventory.return_to_vendor(
                db.session,
                facility=facility,
                lot=lot,
                eaches=_eaches(form, lot.part),
                rga_number=form.rga_number.data,
                rga_date=form.rga_date.data,
                actor=me(),
                note=form.note.data or None,
            )

        record = run_write(form, work, {"lot_id": "lot_number", "eaches": "packs"})
        if record is not None:
            return _done(
                f"Returned to the vendor under RGA {record.rga_number}; credit expected "
                f"{dollars(record.credit_cents)}.",
                form.facility_id.data,
            )
    return _stock_form(form, "Return to vendor")


def reversible(movement: Any, reversed_ids: set[int]) -> bool:
    """Whether a ledger row offers Reverse: not a reversal, not reversed, not a case's issue
    (void the case instead) and not an order receipt (undone on the order, which the
    service insists on)."""
    return (
        movement.kind != "reversal"
        and movement.id not in reversed_ids
        and movement.reference_type != "case"
        and not inventory.is_order_receipt(movement)
    )


def orders_by_line(movements: list[Any]) -> dict[int, tuple[int, str]]:
    """For the ledger rows booked against order lines: line id → (order id, its label)."""
    line_ids = {m.reference_id for m in movements if m.reference_type == "order_line"}
    if not line_ids:
        return {}
    rows = db.session.execute(
        select(PurchaseOrderLine.id, PurchaseOrder.id, PurchaseOrder.document_number)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(PurchaseOrderLine.id.in_(line_ids))
    ).all()
    return {line: (order, number or str(order)) for line, order, number in rows}


@bp.route("/stock/movements/<int(max=2147483647):movement_id>/reverse", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def movement_reverse(movement_id: int):
    """Reverse a movement (both legs of a transfer), saying why; once only."""
    movement = _movement(movement_id)
    form = ReverseForm()
    if form.validate_on_submit():

        def work():
            return inventory.reverse(
                db.session, movement=_movement(movement_id), actor=me(), reason=form.reason.data
            )

        reversal = run_write(form, work, {"eaches": "reason", "lot_id": "reason"})
        if reversal is not None:
            flash(f"Movement {movement_id} reversed by movement {reversal.id}.", "success")
            return redirect(url_for("web.movements", facility=movement.facility_id))
        movement = _movement(movement_id)
    return page("stock/reverse.html", movement=movement, form=form)


def _movement(movement_id: int):
    """A movement every leg of which is at one of your facilities (404 otherwise)."""
    missing = NotFound(f"No stock movement with id {movement_id}.")
    try:
        movement = inventory.get_movement(db.session, movement_id)
    except NotFound:
        raise missing from None
    allowed = facility_ids_for(db.session, me())
    legs = inventory.transfer_legs(db.session, movement)
    if allowed is not None and any(leg.facility_id not in allowed for leg in legs):
        raise missing
    return movement
