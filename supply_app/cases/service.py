"""Record, void and reprice procedure cases; every function takes its session and never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from supply_app.auth.models import User
from supply_app.auth.service import can_access_facility, scoped
from supply_app.cases.equipment import case_equipment_cents
from supply_app.cases.models import CaseProcedure, CaseSupply, ProcedureCase
from supply_app.cases.pricing import (
    CasePrice,
    case_claim,
    check_nerves,
    price_case,
    pricing_columns,
)
from supply_app.catalog.models import Part
from supply_app.catalog.service import get_part
from supply_app.clock import utcnow
from supply_app.db import insert_rows
from supply_app.errors import InvalidInput, InvalidTransition, NotFound
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_active_facility
from supply_app.inventory import service as inventory
from supply_app.inventory.models import Lot, StockMovement
from supply_app.payers.service import usable_payer
from supply_app.reporting.queries import case_costs

CONSUMABLE_CATEGORIES = ("smart_tip", "cartridge")


def _check_date(date_of_service: date, facility: Facility) -> None:
    """A case is recorded on or after the day it happened, by the facility's calendar."""
    today = facility.today()
    if date_of_service > today:
        raise InvalidInput(
            f"The date of service {date_of_service.isoformat()} is after today at "
            f"{facility.code} ({today.isoformat()}); record a case on or after the day it "
            "happened.",
            field="date_of_service",
        )


def record_case(
    session: Session, *, user: User, data: dict[str, Any], on_date: date | None = None
) -> ProcedureCase:
    """Record a case: price it, consume its supplies and store the priced snapshot.

    Everything happens in the caller's transaction: any error leaves nothing written.

    :raises NotFound: facility, part or lot unknown (or not the user's facility).
    :raises InvalidInput: future date, missing nerves, bad supply line, duplicate reference.
    :raises CodingRejected: the coding module refused the claim (422, field named).
    :raises InsufficientStock, LotExpired: a supply line cannot be consumed (409).
    """
    facility = get_active_facility(session, user, data["facility_id"])
    _check_date(data["date_of_service"], facility)
    check_nerves(data["procedures"])
    payer_id = data.get("payer_id", facility.default_payer_id)
    priced = price_case(
        session,
        case_claim(
            site=facility.site_of_service,
            cf_track=facility.cf_track,
            date_of_service=data["date_of_service"],
            laterality=data["laterality"],
            procedures=data["procedures"],
        ),
        payer=usable_payer(session, payer_id, "payer_id"),
        facility=facility,
    )
    case = _insert_case(session, facility, user, data, priced)
    lines = data.get("supplies", ())
    # Every typed lot (with its part) in one statement rather than one per line.
    lots = inventory.load_lots(session, [line["lot_id"] for line in lines if "lot_id" in line])
    named = [
        _resolve_named(session, facility, line, f"supplies[{index}]", lots)
        for index, line in enumerate(lines)
    ]
    # Reads first, then the stock locks: rows stay locked only while the issues are posted.
    # Named lots are issued together; a FEFO line picks after the lines before it were
    # issued, so it sees what they took.
    movements: list[tuple[str, Lot, int, StockMovement]] = []
    picks: list[Pick] = []
    for index, line in enumerate(lines):
        if named[index]:
            picks.extend(named[index])
            continue
        movements += _issue(session, case, facility, user, picks)
        picks = _fefo(session, facility, line, case.date_of_service, f"supplies[{index}]")
    movements += _issue(session, case, facility, user, picks)
    supplies = insert_rows(
        session,
        CaseSupply,
        [
            {
                "case_id": case.id,
                "part_id": lot.part_id,
                "lot_id": lot.id,
                "movement_id": m.id,
                "eaches": eaches,
                "source": source,
            }
            for source, lot, eaches, m in movements
        ],
    )
    set_committed_value(case, "supplies", supplies)
    case.supply_cost = -sum(m.value_cents for *_, m in movements)
    return case


def _insert_case(
    session: Session, facility: Facility, user: User, data: dict[str, Any], priced: CasePrice
) -> ProcedureCase:
    """Insert the case and its procedure lines; a taken reference is refused by the unique key.

    The key decides, so two requests with one reference cannot both pass a check first.
    """
    columns = {
        "facility_id": facility.id,
        "reference": data["reference"],
        "date_of_service": data["date_of_service"],
        "laterality": data["laterality"],
        "site_of_service": facility.site_of_service,
        "cf_track": facility.cf_track,
        "status": "recorded",
        "recorded_by_id": user.id,
        "created_at": utcnow(),
        "voided_at": None,
        "voided_by_id": None,
        "void_reason": None,
        "handpiece_serial": data.get("handpiece_serial"),
        "equipment_cents": case_equipment_cents(session, facility, data.get("handpiece_serial")),
        **pricing_columns(priced, facility.today()),
    }
    try:
        (case,) = insert_rows(session, ProcedureCase, [columns])
    except IntegrityError as exc:
        raise InvalidInput(
            f"Case reference {data['reference']!r} is already used at {facility.code}.",
            field="reference",
        ) from exc
    set_committed_value(case, "payer", priced.payer)
    procedures = insert_rows(
        session,
        CaseProcedure,
        [
            {
                "case_id": case.id,
                "position": index,
                "code": line.code,
                "laterality": line.laterality.value if line.laterality else None,
                "units": line.units,
                "nerves": list(line.nerves),
                "modifiers": list(line.modifiers),
            }
            for index, line in enumerate(priced.benchmark.lines)
        ],
    )
    set_committed_value(case, "procedures", procedures)
    return case


def _consumable(session: Session, part_id: int, where: str) -> Part:
    try:
        part = get_part(session, part_id)
    except NotFound as exc:
        raise InvalidInput(exc.detail, field=f"{where}.part_id") from exc
    if part.category not in CONSUMABLE_CATEGORIES:
        raise InvalidInput(
            f"{part.part_number} is capital equipment, not a supply a case consumes; "
            "record Smart Tips and cartridges.",
            field=f"{where}.part_id",
        )
    return part


Pick = tuple[str, Lot, int]  # how the lot was chosen, the lot, eaches taken from it


def _resolve_named(
    session: Session, facility: Facility, line: dict[str, Any], where: str, lots: dict[int, Lot]
) -> list[Pick]:
    """The lot a scanned or typed supply line names; [] when it is left to FEFO."""
    if "scan" in line:
        lot = _scanned_lot(session, facility, line["scan"], where)
        return [("scan", lot, line.get("eaches", 1))]
    if "lot_id" in line or "lot_number" in line:
        return [("lot", _named_lot(session, line, where, lots), line["eaches"])]
    _consumable(session, line["part_id"], where)
    return []


def _fefo(
    session: Session, facility: Facility, line: dict[str, Any], on: date, where: str
) -> list[Pick]:
    """Lots by earliest expiry, read after the lines before it were issued."""
    part = _consumable(session, line["part_id"], where)
    picks = inventory.pick_fefo(
        session, facility=facility, part=part, eaches=line["eaches"], on_date=on
    )
    return [("fefo", lot, eaches) for lot, eaches in picks]


def _issue(
    session: Session, case: ProcedureCase, facility: Facility, actor: User, picks: list[Pick]
) -> list[tuple[str, Lot, int, StockMovement]]:
    """Issue the picks for the case; each comes back with its movement."""
    issued = inventory.issue_many(
        session,
        facility=facility,
        picks=[(lot, eaches) for _, lot, eaches in picks],
        actor=actor,
        reference=("case", case.id),
        on_date=case.date_of_service,
    )
    return [(*pick, movement) for pick, movement in zip(picks, issued, strict=True)]


def _named_lot(session: Session, line: dict[str, Any], where: str, lots: dict[int, Lot]) -> Lot:
    """The typed lot of the line's part (`lots` holds the typed ids, each with its part)."""
    if "lot_id" in line:
        lot = lots.get(line["lot_id"])
        part = _consumable(session, line["part_id"], where)
        if lot is None or lot.part_id != part.id:
            raise InvalidInput(
                f"Lot {line['lot_id']} is not a lot of {part.part_number}.",
                field=f"{where}.lot_id",
            )
        return lot
    part = _consumable(session, line["part_id"], where)
    lot = inventory.find_lot(session, part=part, lot_number=line["lot_number"])
    if lot is None:
        raise InvalidInput(
            f"{part.part_number} has no lot {line['lot_number']!r}.",
            field=f"{where}.lot_number",
        )
    return lot


def _scanned_lot(session: Session, facility: Facility, raw: str, where: str) -> Lot:
    """The lot on the facility's shelf that a scanned label (or a scanned lot number) names."""
    field = f"{where}.scan"
    lot = inventory.lot_for_scan(
        session, inventory.parse_scan(session, raw, field), facility=facility, field=field
    )
    _consumable(session, lot.part_id, where)
    return lot


def visible_cases(
    session: Session,
    user: User,
    *,
    facility_id: int | None = None,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Select:
    """Cases at the user's facilities, newest date of service first."""
    stmt = scoped(
        select(ProcedureCase).order_by(
            ProcedureCase.date_of_service.desc(), ProcedureCase.id.desc()
        ),
        ProcedureCase.facility_id,
        user,
    )
    if facility_id is not None:
        stmt = stmt.where(ProcedureCase.facility_id == facility_id)
    if status is not None:
        stmt = stmt.where(ProcedureCase.status == status)
    if date_from is not None:
        stmt = stmt.where(ProcedureCase.date_of_service >= date_from)
    if date_to is not None:
        stmt = stmt.where(ProcedureCase.date_of_service <= date_to)
    return stmt


def get_case(session: Session, user: User, case_id: int) -> ProcedureCase:
    """Load a case at one of the user's facilities.

    :raises NotFound: no such case, or one at a facility the user does not belong to.
    """
    case = session.get(ProcedureCase, case_id)
    if case is None or not can_access_facility(session, user, case.facility_id):
        raise NotFound(f"No case with id {case_id}.")
    return case


def supply_cost_cents(session: Session, case: ProcedureCase) -> int:
    """The exact cost of the case's issue movements, net of any reversals."""
    costs = dict(session.execute(case_costs([case.id])).all())
    return int(costs.get(case.id, 0))


def void_case(session: Session, *, case: ProcedureCase, actor: User, reason: str) -> ProcedureCase:
    """Void a case: reverse its supply movements and keep the record, marked voided.

    The case row is locked and read afresh first, so of simultaneous voids one wins and
    the others see the state it left.

    :raises InvalidTransition: the case is already voided.
    """
    lock_case(session, case)
    if case.status != "recorded":
        raise InvalidTransition(f"Case {case.id} is already voided.", case_status=case.status)
    for supply in case.supplies:
        movement = session.get(StockMovement, supply.movement_id)
        if _reversed(session, movement):
            continue  # already put back by a stock reversal; reversing twice would oversell
        inventory.reverse(
            session, movement=movement, actor=actor, reason=f"case {case.id} voided: {reason}"
        )
    case.status = "voided"
    case.voided_at = utcnow()
    case.voided_by_id = actor.id
    case.void_reason = reason
    session.flush()
    return case


def _reversed(session: Session, movement: StockMovement) -> bool:
    return (
        session.scalar(select(StockMovement.id).where(StockMovement.reverses_id == movement.id))
        is not None
    )


def lock_case(session: Session, case: ProcedureCase) -> None:
    """Lock the case row and read it afresh (the state another request left)."""
    session.scalar(
        select(ProcedureCase)
        .where(ProcedureCase.id == case.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
