"""Lots and what a scan names: one resolution of barcode or typed lot to a lot, for every door.

Receipts (free or against an order) merge a scan with what was typed; issues, cases and
stock forms find the lot on file that a scan names. Every door calls these, so a lot
number is checked by the same rule and resolved the same way wherever it enters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from supply_app.catalog.models import Part
from supply_app.catalog.service import part_for_gtin
from supply_app.clock import utcnow
from supply_app.errors import Conflict, InvalidInput, NotFound
from supply_app.facilities.models import Facility
from supply_app.inventory.errors import LotExpired
from supply_app.inventory.ledger import upsert
from supply_app.inventory.models import Lot, StockBalance
from supply_app.inventory.rules import LOT_NUMBER, SCAN, SERIAL
from supply_app.inventory.scan import read_gs1


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
    batch: str | None = None  # AI 10; for a serialised unit the lot number is the serial


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


def held_by(session: Session, lot: Lot, facility_ids: set[int] | None) -> bool:
    """True when one of the facilities (None: any) has ever held the lot."""
    stmt = select(StockBalance.id).where(StockBalance.lot_id == lot.id).limit(1)
    if facility_ids is not None:
        stmt = stmt.where(StockBalance.facility_id.in_(facility_ids))
    return session.scalar(stmt) is not None


def parse_scan(session: Session, raw: str, field: str = "scan") -> ScanResult:
    """Read a scanned string: GS1 fields with the catalog part, or a plain lot number.

    A serial number (AI 21) is its own lot of one, so it becomes the lot number; the batch
    (AI 10) is kept beside it.

    :raises InvalidInput: not the text of a barcode, GS1 that cannot be read, or a GTIN
        with a bad check digit.
    """
    raw = SCAN.check(raw, field)
    fields = read_gs1(raw)
    if fields is None:
        return ScanResult(raw, False, None, LOT_NUMBER.check(raw, field), None, None, None, None)
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


def agree(scanned: Any, typed: Any, what: str, field: str) -> Any:
    """The scanned value, the typed one, or either when they agree; never a silent override.

    :raises InvalidInput: both given and different.
    """
    if scanned is not None and typed is not None and scanned != typed:
        raise InvalidInput(f"The scan says {what} {scanned}, but {typed} was typed.", field=field)
    return scanned if scanned is not None else typed


def lot_for_scan(
    session: Session,
    scan: ScanResult,
    *,
    facility: Facility,
    part: Part | None = None,
    field: str = "scan",
) -> Lot:
    """The lot on file that a scan names, for using or moving stock that is on the shelf.

    A GS1 label whose GTIN is in the catalog names its part's lot. Any other scan (a plain
    lot number, or a label whose GTIN the catalog does not list) is looked up by its lot
    number among the lots the facility holds, narrowed to `part` when given; it must name
    exactly one. The expiry on the label must match the lot on file.

    :raises InvalidInput: the label and `part` disagree, the lot number is on several
        parts, no such lot is on file, or the expiry differs.
    """
    if not scan.lot_number:
        raise InvalidInput(
            "The barcode carries no lot or serial number (AI 10 or 21); scan the label that "
            "has it, or type the lot number.",
            field=field,
        )
    if scan.part is not None:
        agree(scan.part.part_number, part.part_number if part else None, "part", field)
        lot = find_lot(session, part=scan.part, lot_number=scan.lot_number)
        candidates = [lot] if lot is not None else []
    else:
        candidates = _held_lots_numbered(session, facility, scan.lot_number, part)
    if len(candidates) > 1:
        numbers = ", ".join(sorted(lot.part.part_number for lot in candidates))
        raise InvalidInput(
            f"Lot number {scan.lot_number} is on file for several parts ({numbers}); "
            "choose the part.",
            field=field,
        )
    if not candidates:
        of = f" of {(scan.part or part).part_number}" if (scan.part or part) else ""
        raise InvalidInput(
            f"No lot {scan.lot_number}{of} is on the shelf at {facility.code}; check the "
            "label, or receive the stock first.",
            field=field,
        )
    lot = candidates[0]
    if scan.expiry_date is not None and scan.expiry_date != lot.expiry_date:
        raise InvalidInput(
            f"The label says expiry {scan.expiry_date.isoformat()}, but lot {lot.lot_number} "
            f"is on file with {lot.expiry_date.isoformat()}.",
            field=field,
        )
    if scan.serial is not None:
        check_batch(lot, scan.batch, field)
    return lot


def held_lot_named(
    session: Session, facility: Facility, lot_number: str, part: Part | None = None
) -> Lot:
    """The lot a person names by its number at a facility, as the stock forms take it.

    The lots the facility holds (or held) come first, matched exactly and then without
    regard to case (people type "tip-7" for TIP-7); with a part given, a lot of that part
    on file anywhere is found too (the service then says whether it was held here).

    :raises InvalidInput: no such lot, or the number fits lots of several parts (choose one).
    """
    lot_number = LOT_NUMBER.check(lot_number, "lot_number")
    stmt = (
        select(Lot)
        .join(StockBalance, StockBalance.lot_id == Lot.id)
        .where(StockBalance.facility_id == facility.id)
        .order_by(Lot.id)
    )
    if part is not None:
        stmt = stmt.where(Lot.part_id == part.id)
    found = list(session.scalars(stmt.where(Lot.lot_number == lot_number)))
    if not found:
        found = list(session.scalars(stmt.where(func.upper(Lot.lot_number) == lot_number.upper())))
    if not found and part is not None:
        found = [lot] if (lot := find_lot(session, part=part, lot_number=lot_number)) else []
    if len(found) > 1:
        numbers = ", ".join(sorted(f"{lot.part.part_number} {lot.lot_number}" for lot in found))
        raise InvalidInput(
            f"Lot {lot_number} could be {numbers}; choose the part.", field="part_id"
        )
    if not found:
        of = f" of {part.part_number}" if part is not None else ""
        raise InvalidInput(
            f"No lot {lot_number}{of} is on file at {facility.code}; pick one from the list.",
            field="lot_number",
        )
    return found[0]


def _held_lots_numbered(
    session: Session, facility: Facility, lot_number: str, part: Part | None
) -> list[Lot]:
    """Lots with this number that the facility has on hand (of the part, if given)."""
    stmt = (
        select(Lot)
        .join(StockBalance, StockBalance.lot_id == Lot.id)
        .where(
            StockBalance.facility_id == facility.id,
            StockBalance.on_hand > 0,
            Lot.lot_number == lot_number,
        )
        .order_by(Lot.id)
    )
    if part is not None:
        stmt = stmt.where(Lot.part_id == part.id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class ReceivedLot:
    """The lot a receipt names, from its scan and what was typed, agreed field by field."""

    part: Part
    lot_number: str
    expiry_date: date
    serial: str | None
    gtin: str | None
    units_per_package: int | None
    batch: str | None = None  # a serialised unit's AI 10, kept so a recall by batch finds it

    def lot_fields(self) -> dict[str, Any]:
        """The keyword arguments receive() takes for this lot."""
        return {
            "part": self.part,
            "lot_number": self.lot_number,
            "expiry_date": self.expiry_date,
            "serial": self.serial,
            "batch": self.batch,
            "gtin": self.gtin,
        }


def received_lot(
    session: Session,
    *,
    scan: ScanResult | None,
    part: Part | None,
    lot_number: str | None,
    expiry_date: date | None,
    serial: str | None = None,
    field: str = "",
) -> ReceivedLot:
    """What a receipt says it brings in, for every receiving door.

    A scan fills what was not typed; where both say something they must agree. A GS1
    label must name a catalog part (a receipt never guesses the product). `field` prefixes
    the names of fields in errors (e.g. "lines.0.").

    :raises InvalidInput: a label for no catalog part, a disagreement, a missing part, lot
        or expiry, or a lot or serial number its rule refuses.
    """
    if scan is not None and scan.gs1 and scan.part is None:
        raise InvalidInput(
            f"Barcode {scan.gtin} is not linked to a part yet: link it once (the scan offers "
            "to), or type the lot number and expiry instead."
            if scan.gtin
            else "The label has no GTIN; type the lot number and expiry instead.",
            field=f"{field}scan",
        )
    scanned_part = scan.part if scan else None
    if scanned_part is not None and part is not None and scanned_part.id != part.id:
        raise InvalidInput(
            f"This label is for {scanned_part.part_number}, not {part.part_number}; this is "
            f"not the item expected here. Scan a {part.part_number} label, or put it aside.",
            field=f"{field}scan",
        )
    part = part or scanned_part
    serial = agree(scan.serial if scan else None, serial, "serial", f"{field}serial")
    # A serialised unit is its own lot: its serial is its lot number.
    lot_number = agree(
        scan.lot_number if scan else None, lot_number or serial, "lot", f"{field}lot_number"
    )
    expiry_date = agree(
        scan.expiry_date if scan else None, expiry_date, "expiry", f"{field}expiry_date"
    )
    for name, value in (
        ("part_id", part),
        ("lot_number", lot_number),
        ("expiry_date", expiry_date),
    ):
        if value is None:
            words = name.replace("_id", "").replace("_", " ")
            raise InvalidInput(f"Give the {words} (typed or scanned).", field=f"{field}{name}")
    return ReceivedLot(
        part=part,  # type: ignore[arg-type]
        lot_number=LOT_NUMBER.check(lot_number, f"{field}lot_number"),
        expiry_date=expiry_date,  # type: ignore[arg-type]
        serial=None if serial is None else SERIAL.check(serial, f"{field}serial"),
        gtin=scan.gtin if scan else None,
        units_per_package=scan.units_per_package if scan else None,
        batch=scan.batch if scan and scan.serial else None,
    )


def lot_for_receipt(
    session: Session,
    *,
    part: Part,
    lot_number: str,
    expiry_date: date,
    serial: str | None,
    gtin: str | None,
    on_date: date | None,
    batch: str | None = None,
) -> Lot:
    """Find or create the received lot, refusing contradictions and expired stock.

    Lot and serial numbers are checked by their rules here too, so no door that posts a
    receipt can create a look-alike lot. A serialised unit's batch is recorded the first
    time it is known and refused when it contradicts the one on file.

    :raises InvalidInput: a lot or serial number its rule refuses, a serial that is not the
        lot number, or a lot on file with another expiry or serial.
    :raises LotExpired: the lot is past expiry on on_date (None: expired stock may arrive).
    """
    lot_number = LOT_NUMBER.check(lot_number, "lot_number")
    serial = None if serial is None else SERIAL.check(serial, "serial")
    batch = None if batch is None else LOT_NUMBER.check(batch, "batch")
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
            upsert(session, Lot)
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
        # The date on file is not named: the lot may be on file from another facility's
        # receipt, and what it holds is not this user's to read. The label in hand decides.
        raise InvalidInput(
            f"Lot {lot_number} of {part.part_number} is on file with another expiry date "
            f"than {expiry_date.isoformat()}; check the date on the label.",
            field="expiry_date",
        )
    if lot.serial != serial:
        raise InvalidInput(
            f"Lot {lot_number} of {part.part_number} is on file "
            + ("as serial " + lot.serial if lot.serial else "without a serial number")
            + "; the receipt disagrees.",
            field="serial",
        )
    check_batch(lot, batch)
    if on_date is not None and lot.expired_on(on_date):
        raise LotExpired(
            f"Lot {lot_number} of {part.part_number} expired on "
            f"{lot.expiry_date.isoformat()}; it cannot be received.",
            lot_id=lot.id,
        )
    return lot


def check_serial_free(session: Session, lot: Lot, eaches: int) -> None:
    """A serial number is one physical unit: receive one, and only if none is in stock.

    :raises InvalidInput: more than one each.
    :raises Conflict: the serial is already in stock somewhere.
    """
    if eaches != 1:
        raise InvalidInput("A serialised unit is received one at a time.", field="eaches")
    held = session.scalar(
        select(func.coalesce(func.sum(StockBalance.on_hand), 0)).where(
            StockBalance.lot_id == lot.id
        )
    )
    if held:
        raise Conflict(f"Serial {lot.serial} is already in stock; it cannot be received twice.")
