"""Helpers shared by the cases and reporting tests: stock at a known price, case bodies."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from supply_app.cases.models import CaseSupply, ProcedureCase
from supply_app.catalog.models import Part, PartGtin
from supply_app.catalog.service import price_in_effect
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory import service as inventory
from supply_app.inventory.models import Lot, StockBalance, StockMovement

DOS = date(2026, 3, 2)
FAR_EXPIRY = date(2027, 12, 31)


def receive_packs(
    facility: Facility,
    part: Part,
    lot_number: str,
    packs: int,
    *,
    expiry: date = FAR_EXPIRY,
    on: date = date(2026, 2, 1),
) -> Lot:
    """Receive whole packs at the contract price in effect (packs × pack price); commit."""
    price = price_in_effect(db.session, part.id, on)
    assert price is not None, f"{part.part_number} has no contract price on {on}"
    movement = inventory.receive(
        db.session,
        facility=facility,
        part=part,
        lot_number=lot_number,
        expiry_date=expiry,
        eaches=packs * part.units_per_pack,
        value_cents=packs * price.unit_price_cents,
        actor=None,
        reason="opening_balance",
        on_date=on,
    )
    db.session.commit()
    return movement.lot


def gtin14(body13: str) -> str:
    """A GTIN-14 with its GS1 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body13)))
    return body13 + str((10 - total % 10) % 10)


def give_gtin(part: Part, body13: str, units: int = 1) -> str:
    """Attach a GTIN to a part (the real catalog has none on file yet); commit."""
    gtin = gtin14(body13)
    db.session.add(PartGtin(part_id=part.id, gtin=gtin, units=units))
    db.session.commit()
    return gtin


def gs1_scan(gtin: str, lot_number: str, expiry: date) -> str:
    """A GS1 element string as a scanner sends it: (01) GTIN, (17) expiry, (10) lot."""
    return f"01{gtin}17{expiry:%y%m%d}10{lot_number}"


def usd(amount: str | Decimal, factor: str | Decimal = "1") -> Decimal:
    """amount × factor rounded half-up to cents, the way Medicare rounds each line."""
    return (Decimal(amount) * Decimal(factor)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def case_body(facility: Facility, reference: str, **overrides: Any) -> dict[str, Any]:
    """A valid case body: 64640 on two anterior-knee nerves, right side, no supplies."""
    return {
        "facility_id": facility.id,
        "reference": reference,
        "date_of_service": DOS.isoformat(),
        "laterality": "RT",
        "procedures": [{"code": "64640", "nerves": ["afcn", "lfcn"]}],
        "supplies": [],
        **overrides,
    }


def counts() -> tuple[int, int, int]:
    """Rows in procedure_case, case_supply and stock_movement."""
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (ProcedureCase, CaseSupply, StockMovement)
    )


def on_hand(facility: Facility, lot: Lot) -> int:
    """Eaches of a lot on hand at a facility."""
    db.session.expire_all()
    held = db.session.scalar(
        select(StockBalance.on_hand).where(
            StockBalance.facility_id == facility.id, StockBalance.lot_id == lot.id
        )
    )
    return int(held or 0)
