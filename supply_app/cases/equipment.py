"""Equipment cost per case: a handpiece's cost spread straight-line over its life and cases.

(acquisition − salvage) ÷ (years of life × cases per year), rounded half up to the cent,
set per handpiece serial or once for a facility (serial ""). A case that names its
handpiece takes that handpiece's figure, else the facility's; a change re-costs the
facility's recorded cases it applies to, in one statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, not_, select, update
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.service import record_audit
from supply_app.cases import rules
from supply_app.cases.models import EquipmentCost, ProcedureCase
from supply_app.errors import InvalidInput, NotFound
from supply_app.facilities.models import Facility
from supply_app.inventory.models import Lot, StockBalance
from supply_app.inventory.rules import SERIAL
from supply_app.money import PRICE, format_cents

FACILITY_WIDE = ""  # the serial of a facility's own figure


def per_case_cents(acquisition: int, salvage: int, years: int, cases_per_year: int) -> int:
    """(acquisition − salvage) ÷ (years × cases a year), in cents rounded half up."""
    uses = years * cases_per_year
    return (2 * (acquisition - salvage) + uses) // (2 * uses)


def equipment_costs(session: Session, facility: Facility) -> list[EquipmentCost]:
    """The facility's figure first, then each handpiece's by serial."""
    stmt = (
        select(EquipmentCost)
        .where(EquipmentCost.facility_id == facility.id)
        .order_by(EquipmentCost.serial)
    )
    return list(session.scalars(stmt))


def case_equipment_cents(session: Session, facility: Facility, serial: str | None) -> int:
    """What one case at a facility costs in equipment, for the handpiece it names (or none).

    With no handpiece named the facility's own figure, loaded with it, is the answer. A
    named handpiece must be one the facility has on file (see check_handpiece).

    :raises InvalidInput: a handpiece serial the facility does not know.
    """
    if serial is None:
        own = facility.equipment_cost
        return 0 if own is None else own.per_case_cents
    check_handpiece(session, facility, serial)
    return _equipment_cents(session, facility.id, serial)


def check_handpiece(session: Session, facility: Facility, serial: str) -> None:
    """A case names a handpiece the facility knows: one costed there, or a serialised unit
    its shelf has held. A typo, or another facility's handpiece, would cost the case wrongly
    and send a device trace to the wrong place.

    :raises InvalidInput: naming the serial and what to do.
    """
    costed = select(EquipmentCost.id).where(
        EquipmentCost.facility_id == facility.id, EquipmentCost.serial == serial
    )
    shelved = (
        select(Lot.id)
        .join(StockBalance, StockBalance.lot_id == Lot.id)
        .where(StockBalance.facility_id == facility.id, Lot.serial == serial)
    )
    if session.scalar(costed.union_all(shelved).limit(1)) is None:
        raise InvalidInput(
            f"No handpiece with serial {serial} is on file at {facility.code}: check the "
            "serial on the handpiece, receive it there, or leave the field empty.",
            field="handpiece_serial",
        )


def _equipment_cents(session: Session, facility_id: int, serial: str | None) -> int:
    serials = [FACILITY_WIDE] if serial is None else [serial, FACILITY_WIDE]
    rows = dict(
        session.execute(
            select(EquipmentCost.serial, EquipmentCost.per_case_cents).where(
                EquipmentCost.facility_id == facility_id, EquipmentCost.serial.in_(serials)
            )
        ).all()
    )
    return next((rows[s] for s in serials if s in rows), 0)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    values = {
        "acquisition_cents": PRICE.check(data["acquisition"], "acquisition"),
        "salvage_cents": PRICE.check(data.get("salvage", 0), "salvage"),
        "life_years": rules.LIFE_YEARS.check(data["life_years"], "life_years"),
        "cases_per_year": rules.CASES_PER_YEAR.check(data["cases_per_year"], "cases_per_year"),
        "note": rules.EQUIPMENT_NOTE.check(data.get("note") or "", "note") or None,
    }
    if values["salvage_cents"] > values["acquisition_cents"]:
        raise InvalidInput(
            "The salvage value cannot be more than the acquisition cost.", field="salvage"
        )
    return values


def _snapshot(row: EquipmentCost | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "serial": row.serial or None,
        "acquisition": format_cents(row.acquisition_cents),
        "salvage": format_cents(row.salvage_cents),
        "life_years": row.life_years,
        "cases_per_year": row.cases_per_year,
        "per_case": format_cents(row.per_case_cents),
        "note": row.note,
    }


def set_equipment_cost(
    session: Session,
    *,
    facility: Facility,
    serial: str | None,
    data: dict[str, Any],
    actor: User | None,
) -> tuple[EquipmentCost, int]:
    """Set the facility's figure (serial None) or a handpiece's; audited. Returns the row and
    how many recorded cases it re-costed.

    :raises InvalidInput: a value its rule refuses, or salvage above the cost.
    """
    key = FACILITY_WIDE if serial is None else SERIAL.check(serial, "serial")
    values = _clean(data)
    values["per_case_cents"] = per_case_cents(
        values["acquisition_cents"],
        values["salvage_cents"],
        values["life_years"],
        values["cases_per_year"],
    )
    row = _find(session, facility, key)
    before = _snapshot(row)
    if row is None:
        row = EquipmentCost(facility_id=facility.id, serial=key)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by_id = actor.id if actor else None
    session.flush()
    recosted = _recost(session, facility, key)
    record_audit(
        session,
        actor=actor,
        action="equipment_cost.set",
        entity=("equipment_cost", row.id),
        facility_id=facility.id,
        before=before,
        after={**_snapshot(row), "cases_recosted": recosted},
    )
    return row, recosted


def delete_equipment_cost(
    session: Session, *, facility: Facility, serial: str | None, actor: User | None
) -> int:
    """Remove a figure; its cases fall back to the facility's (or to none). Audited.

    :raises NotFound: no such figure.
    """
    key = FACILITY_WIDE if serial is None else serial
    row = _find(session, facility, key)
    if row is None:
        what = "no equipment cost" if serial is None else f"no cost for handpiece {serial!r}"
        raise NotFound(f"{facility.code} has {what}.")
    before, row_id = _snapshot(row), row.id
    session.delete(row)
    session.flush()
    recosted = _recost(session, facility, key)
    record_audit(
        session,
        actor=actor,
        action="equipment_cost.delete",
        entity=("equipment_cost", row_id),
        facility_id=facility.id,
        before=before,
        after={"cases_recosted": recosted},
    )
    return recosted


def _find(session: Session, facility: Facility, serial: str) -> EquipmentCost | None:
    return session.scalar(
        select(EquipmentCost).where(
            EquipmentCost.facility_id == facility.id, EquipmentCost.serial == serial
        )
    )


def _recost(session: Session, facility: Facility, serial: str) -> int:
    """Give the recorded cases a figure applies to the cost it now sets."""
    session.expire(facility, ["equipment_cost"])  # loaded with the facility, now changed
    c = ProcedureCase
    own = select(EquipmentCost.serial).where(
        EquipmentCost.facility_id == facility.id, EquipmentCost.serial != FACILITY_WIDE
    )
    if serial == FACILITY_WIDE:  # cases naming no handpiece, or one without its own figure
        which = c.handpiece_serial.is_(None) | not_(c.handpiece_serial.in_(own))
        cents = _equipment_cents(session, facility.id, None)
    else:
        which = c.handpiece_serial == serial
        cents = _equipment_cents(session, facility.id, serial)
    result = session.execute(
        update(c)
        .where(and_(c.facility_id == facility.id, c.status == "recorded", which))
        .values(equipment_cents=cents)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
