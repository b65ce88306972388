"""`supply-app orders ...`: ECAT export and reorder suggestions from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from supply_app.http import format_cents

orders_cli = click.Group("orders", help="Purchase orders on the ECAT contract.")


@orders_cli.command("export")
@click.argument("document_number")
@with_appcontext
def export(document_number: str) -> None:
    """Print the ECAT CSV of the order with this MILSTRIP document number."""
    from sqlalchemy import select

    from supply_app.cli import fail
    from supply_app.errors import DomainError
    from supply_app.extensions import db
    from supply_app.ordering.models import PurchaseOrder
    from supply_app.ordering.service import ecat_csv

    order = db.session.scalar(
        select(PurchaseOrder).where(PurchaseOrder.document_number == document_number.upper())
    )
    if order is None:
        fail(f"no order with document number {document_number}")
    try:
        click.echo(ecat_csv(order), nl=False)
    except DomainError as exc:
        fail(exc.detail)
    db.session.rollback()


@orders_cli.command("suggest")
@click.argument("facility_code")
@with_appcontext
def suggest(facility_code: str) -> None:
    """Print the reorder suggestions of a facility with the figures behind each."""
    from sqlalchemy import select

    from supply_app.cli import fail
    from supply_app.extensions import db
    from supply_app.facilities.models import Facility
    from supply_app.ordering.service import reorder_suggestions

    facility = db.session.scalar(select(Facility).where(Facility.code == facility_code.upper()))
    if facility is None:
        fail(f"unknown facility code {facility_code}")
    suggestions = reorder_suggestions(db.session, facility=facility)
    db.session.rollback()
    if not suggestions:
        click.echo(f"{facility.code}: no par levels set, so nothing to suggest")
        return
    for s in suggestions:
        cost = format_cents(s.estimated_cents) if s.estimated_cents is not None else "unpriced"
        click.echo(
            f"{s.part.part_number:<16} order {s.packs:>4} pack(s) = {s.eaches:>5} eaches "
            f"({cost}); on hand {s.on_hand}, on order {s.on_order}, "
            f"burn {s.burn_rate_per_day}/day, lead-time demand {s.lead_time_demand}, "
            f"par {s.par_min}-{s.par_max}. {s.reason}"
        )
