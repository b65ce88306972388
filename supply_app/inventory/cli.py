"""`supply-app inventory ...`: ledger verification."""

from __future__ import annotations

import click

from supply_app.cli import fail, unit_of_work
from supply_app.money import format_cents

inventory_cli = click.Group("inventory", help="Stock ledger and balances.")


@inventory_cli.command("verify")
@unit_of_work(writes=False)
def verify() -> list[str]:
    """Check every balance (eaches and value) against its ledger sums; exit 1 on any difference."""
    from sqlalchemy import func, select

    from supply_app.extensions import db
    from supply_app.facilities.models import Facility
    from supply_app.inventory.models import Lot, StockBalance
    from supply_app.inventory.service import verify as find_discrepancies

    problems = find_discrepancies(db.session)
    rows = db.session.scalar(select(func.count()).select_from(StockBalance))
    if not problems:
        return [f"ok: all {rows} balances match the ledger in eaches and value"]
    for p in problems:
        facility = db.session.get(Facility, p.facility_id)
        lot = db.session.get(Lot, p.lot_id)
        click.echo(
            f"MISMATCH facility {facility.code} (id {p.facility_id}) lot {lot.lot_number} "
            f"(id {p.lot_id}, {lot.part.part_number}): balance {p.balance_on_hand} eaches / "
            f"{format_cents(p.balance_value_cents)}, ledger {p.ledger_on_hand} eaches / "
            f"{format_cents(p.ledger_value_cents)}",
            err=True,
        )
    fail(f"{len(problems)} of {rows} balances differ from the ledger")
    return []
