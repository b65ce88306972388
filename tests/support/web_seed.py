"""Stock and GTINs for UI tests, put in place through the services."""

from __future__ import annotations

from datetime import date, timedelta

from supply_app.catalog.models import Part, PartGtin
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory import service as inventory

# A valid GTIN-14 (check digit 6) used only in tests for a 5-pack of Smart Tips.
TEST_GTIN = "00812345000016"


def give_gtin(part: Part, gtin: str = TEST_GTIN, units: int = 1) -> None:
    """Print a test GTIN on a part's each-level packaging; commit."""
    part.gtins.append(PartGtin(gtin=gtin, units=units))
    db.session.commit()


def stock_lot(
    facility: Facility,
    part: Part,
    lot_number: str,
    eaches: int,
    value_cents: int,
    days_to_expiry: int = 365,
) -> None:
    """Receive eaches of a lot into a facility as an opening balance; commit."""
    inventory.receive(
        db.session,
        facility=facility,
        part=part,
        lot_number=lot_number,
        expiry_date=date.today() + timedelta(days=days_to_expiry),
        eaches=eaches,
        value_cents=value_cents,
        actor=None,
        reason="opening_balance",
    )
    db.session.commit()


def gs1_hri(gtin: str, lot: str, expiry: date) -> str:
    """A GS1 label in human-readable form, as many wedge scanners are set to send."""
    return f"(01){gtin}(17){expiry:%y%m%d}(10){lot}"
