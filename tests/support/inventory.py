"""Inventory test helpers: stock set-up through the services and ledger/balance readers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from supply_app.catalog.models import Part, PartGtin
from supply_app.clock import utcnow
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory import service
from supply_app.inventory.models import Lot, StockBalance, StockMovement

GTIN_TIP = "09501101530003"  # valid check digit; registered to the 309 tip 5-pack in tests


def in_days(days: int) -> date:
    """A date relative to today (UTC)."""
    return utcnow().date() + timedelta(days=days)


def stock(
    facility: Facility,
    part: Part,
    eaches: int,
    value_cents: int,
    lot_number: str = "LOT-A",
    expiry: date | None = None,
) -> Lot:
    """Receive stock through the service and commit; returns the lot."""
    movement = service.receive(
        db.session,
        facility=facility,
        part=part,
        lot_number=lot_number,
        expiry_date=expiry or in_days(365),
        eaches=eaches,
        value_cents=value_cents,
        actor=None,
        reason="opening_balance",
    )
    db.session.commit()
    return movement.lot


def ledger_rows() -> int:
    """Rows in stock_movement."""
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def balance(facility: Facility, lot: Lot) -> tuple[int, int]:
    """(on_hand, value_cents) of a facility's lot, read fresh from the database."""
    db.session.expire_all()
    row = db.session.execute(
        select(StockBalance.on_hand, StockBalance.value_cents).where(
            StockBalance.facility_id == facility.id, StockBalance.lot_id == lot.id
        )
    ).one_or_none()
    return (row.on_hand, row.value_cents) if row else (0, 0)


def register_gtin(part: Part, gtin: str = GTIN_TIP, units: int | None = None) -> None:
    """Give a part a GTIN (the shipped catalog has none yet); commit."""
    db.session.add(PartGtin(part_id=part.id, gtin=gtin, units=units or part.units_per_pack))
    db.session.commit()


def hold(lots: list[tuple[Part, str]], notice: str = "PCR-1") -> Any:
    """Place a manufacturer's recall on (part, lot number) pairs through the service; commit."""
    recall = service.place_recall(
        db.session,
        source="manufacturer",
        notice_number=notice,
        notice_date=date.today() - timedelta(days=1),
        reason="Seal may leak",
        lots=[{"part_id": part.id, "lot_number": number} for part, number in lots],
        actor=None,
    )
    db.session.commit()
    return recall
