"""Demo stock: opening balances, a serialised handpiece and par levels at each demo facility.

Idempotent: a facility that already has any stock balance is left as it is.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.catalog.models import Part
from supply_app.catalog.service import price_in_effect
from supply_app.clock import utcnow
from supply_app.facilities.models import Facility
from supply_app.inventory import service
from supply_app.inventory.models import StockBalance

# (part number, lot suffix, eaches, days to expiry); one lot expires soon to show alerts.
DEMO_LOTS = (
    ("STT2309-5", "A", 15, 240),
    ("STT2309-5", "B", 5, 30),
    ("STT2190-5", "A", 10, 300),
    ("CRX2111-10", "A", 30, 365),
)
DEMO_PAR = {"STT2309-5": (10, 30), "STT2190-5": (15, 30), "CRX2111-10": (20, 60)}


def load_demo_stock(session: Session, facility_codes: list[str]) -> list[str]:
    """Stock the demo facilities (once each) and return a line that reruns print unchanged."""
    present = []
    for code in facility_codes:
        facility = session.scalar(select(Facility).where(Facility.code == code))
        if facility is None:
            continue
        present.append(code)
        if not _has_stock(session, facility):
            _stock_facility(session, facility)
    if not present:
        return ["Demo stock: no demo facilities."]
    return [
        f"Demo stock: opening balances, a handpiece and par levels at {', '.join(present)} "
        "(loaded once; reruns leave stock alone)."
    ]


def _has_stock(session: Session, facility: Facility) -> bool:
    return (
        session.scalar(
            select(StockBalance.id).where(StockBalance.facility_id == facility.id).limit(1)
        )
        is not None
    )


def _part(session: Session, number: str) -> Part:
    return session.scalar(select(Part).where(Part.part_number == number))


def _stock_facility(session: Session, facility: Facility) -> None:
    today = facility.today()
    # The same demo lot sits at every demo facility, so its expiry (a property of the lot,
    # not of where it is) counts from one calendar, not each facility's own.
    made = utcnow().date()
    for number, suffix, eaches, days in DEMO_LOTS:
        part = _part(session, number)
        price = price_in_effect(session, part.id, today)
        pack_cents = price.unit_price_cents if price else 0
        service.receive(
            session,
            facility=facility,
            part=part,
            lot_number=f"DEMO-{number}-{suffix}",
            expiry_date=made + timedelta(days=days),
            eaches=eaches,
            value_cents=service.value_at_pack_price(pack_cents, part.units_per_pack, eaches),
            actor=None,
            reason="opening_balance",
            note="demo opening balance",
        )
    handpiece = _part(session, "IST2221")
    serial = f"DEMO-SN-{facility.code}"
    if service.find_lot(session, part=handpiece, lot_number=serial) is None:
        price = price_in_effect(session, handpiece.id, today)
        service.receive(
            session,
            facility=facility,
            part=handpiece,
            lot_number=serial,
            serial=serial,
            expiry_date=made + timedelta(days=3650),
            eaches=1,
            value_cents=price.unit_price_cents if price else 0,
            actor=None,
            reason="opening_balance",
            note="demo handpiece",
        )
    service.set_par_levels(
        session,
        facility=facility,
        levels=[
            {"part_id": _part(session, number).id, "min_eaches": low, "max_eaches": high}
            for number, (low, high) in DEMO_PAR.items()
        ],
        actor=None,
    )
