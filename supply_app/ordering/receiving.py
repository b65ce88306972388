"""Receiving against an order: each delivered lot booked into stock at the line's price."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.permissions import ORDER_RECEIVERS
from supply_app.auth.service import require_role
from supply_app.clock import utcnow
from supply_app.errors import InvalidInput, NotFound
from supply_app.inventory import service as inventory
from supply_app.inventory.models import StockMovement
from supply_app.ordering.errors import OverReceipt
from supply_app.ordering.models import (
    OrderReceipt,
    OrderReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
)
from supply_app.ordering.rules import RECEIPT_NOTE
from supply_app.ordering.service import audit, require_state


def _received_lot(
    session: Session, line: PurchaseOrderLine, item: dict[str, Any], field: str
) -> inventory.ReceivedLot:
    """The lot a received item brings in: its scan and typed fields, for the line's part.

    :raises InvalidInput: a label for another part, or a missing or refused lot or expiry.
    """
    scan = inventory.parse_scan(session, item["scan"], f"{field}.scan") if "scan" in item else None
    return inventory.received_lot(
        session,
        scan=scan,
        part=line.part,
        lot_number=item.get("lot_number"),
        expiry_date=item.get("expiry_date"),
        field=f"{field}.",
    )


def _resolve_receipt_lines(
    session: Session, order: PurchaseOrder, items: list[dict[str, Any]]
) -> list[tuple[PurchaseOrderLine, int, inventory.ReceivedLot]]:
    """Match each received item to its order line and lot, refusing over-receipt.

    :raises InvalidInput: a line not on the order, no lot given, or an unusable scan.
    :raises OverReceipt: more packs of a line than are outstanding.
    """
    resolved = []
    wanted: Counter[int] = Counter()
    first_row: dict[int, int] = {}  # where each line's packs were first given
    for index, item in enumerate(items):
        field = f"lines.{index}"
        line = next((ln for ln in order.lines if ln.id == item["line_id"]), None)
        if line is None:
            raise InvalidInput(
                f"Line {item['line_id']} is not on order {order.id}.", field=f"{field}.line_id"
            )
        lot = _received_lot(session, line, item, field)
        wanted[line.id] += item["packs"]
        first_row.setdefault(line.id, index)
        resolved.append((line, item["packs"], lot))
    for line in order.lines:
        if wanted[line.id] > line.outstanding_packs:
            raise OverReceipt(
                f"{line.part.part_number} has {line.outstanding_packs} pack(s) outstanding on "
                f"this order; {wanted[line.id]} cannot be received. Check the packs counted, "
                "or receive the rest against another order.",
                field=f"lines.{first_row[line.id]}.packs",
                line_id=line.id,
                part_number=line.part.part_number,
                requested=wanted[line.id],
                outstanding=line.outstanding_packs,
            )
    return resolved


def receive_order(
    session: Session,
    *,
    order: PurchaseOrder,
    actor: User,
    items: list[dict[str, Any]],
    note: str | None = None,
) -> OrderReceipt:
    """Receive packs against an approved order, booking each lot into stock.

    Each item is {line_id, packs} with lot_number + expiry_date, a GS1 scan, or both (they
    must agree). Stock is valued at the line's snapshotted pack price (packs × price). The
    receipt, the stock movements and the order's new status are written in the caller's
    one transaction.

    :raises InvalidTransition: the order is not approved or partially received.
    :raises InvalidInput: unknown line, bad scan, or an inventory refusal (expired lot, a
        lot number already known with another expiry).
    :raises OverReceipt: more packs than outstanding on a line.
    """
    require_role(actor, *ORDER_RECEIVERS)
    require_state(order, "receive")
    note = RECEIPT_NOTE.check(note, "note") or None if note is not None else None
    resolved = _resolve_receipt_lines(session, order, items)
    receipt = OrderReceipt(order=order, received_by_id=actor.id, note=note)
    session.add(receipt)
    on = order.facility.today()
    for line, packs, lot in resolved:
        eaches = packs * line.units_per_pack
        value = inventory.receipt_value(
            session,
            part=line.part,
            eaches=eaches,
            on_date=on,
            pack_cost_cents=line.unit_price_cents,
            units_per_pack=line.units_per_pack,
        )
        movement = inventory.receive(
            session,
            facility=order.facility,
            eaches=eaches,
            value_cents=value,
            actor=actor,
            reference=("order_line", line.id),
            on_date=on,
            **lot.lot_fields(),
        )
        line.received_packs += packs
        receipt.lines.append(
            OrderReceiptLine(
                order_line_id=line.id,
                packs=packs,
                eaches=eaches,
                lot_number=lot.lot_number,
                expiry_date=lot.expiry_date,
                value_cents=value,
                movement_id=movement.id,
            )
        )
    done = all(line.outstanding_packs == 0 for line in order.lines)
    order.status = "received" if done else "partially_received"
    if done:
        order.received_at = utcnow()
    session.flush()
    audit(session, order, actor, "receive", receipt_id=receipt.id)
    return receipt


def get_receipt_line(order: PurchaseOrder, receipt_line_id: int) -> OrderReceiptLine:
    """One lot received against the order.

    :raises NotFound: the order has no such receipt line.
    """
    for receipt in order.receipts:
        for received in receipt.lines:
            if received.id == receipt_line_id:
                return received
    raise NotFound(f"No receipt line {receipt_line_id} on order {order.id}.")


def undo_receipt_line(
    session: Session,
    *,
    order: PurchaseOrder,
    receipt_line_id: int,
    reason: str,
    actor: User,
) -> StockMovement:
    """Undo one lot received against the order (a wrong lot scanned, a miscount): its stock
    goes back out by a reversal, the line's packs are outstanding again and the order can
    be received against again. Once only; audited. `order` must be row-locked.

    :raises NotFound: the receipt line is not on this order.
    :raises InvalidTransition: the order has nothing received, or the line was undone.
    :raises InsufficientStock: the stock it brought in has since been used or moved.
    """
    require_role(actor, *ORDER_RECEIVERS)
    require_state(order, "undo_receipt")
    received = get_receipt_line(order, receipt_line_id)
    movement = inventory.get_movement(session, received.movement_id)
    reversal = inventory.reverse(
        session, movement=movement, actor=actor, reason=reason, for_order=True
    )
    received.order_line.received_packs -= received.packs
    order.status = (
        "partially_received" if any(line.received_packs for line in order.lines) else "approved"
    )
    order.received_at = None
    session.flush()
    audit(
        session,
        order,
        actor,
        "undo_receipt",
        receipt_line_id=received.id,
        packs=received.packs,
        lot_number=received.lot_number,
        reversal_id=reversal.id,
    )
    return reversal
