"""`supply-app orders ...`: ECAT export and reorder suggestions from the command line."""

from __future__ import annotations

import click

from supply_app.cli import RuleParam, unit_of_work
from supply_app.facilities.rules import FACILITY_CODE
from supply_app.money import format_cents
from supply_app.ordering.rules import DOCUMENT_NUMBER

orders_cli = click.Group("orders", help="Purchase orders on the ECAT contract.")


@orders_cli.command("export")
@click.argument("document_number", type=RuleParam(DOCUMENT_NUMBER))
@unit_of_work(writes=False)
def export(document_number: str) -> str:
    """Print the ECAT CSV of the order with this MILSTRIP document number."""
    from supply_app.extensions import db
    from supply_app.ordering.ecat import ecat_csv
    from supply_app.ordering.service import get_order_by_document_number

    return ecat_csv(get_order_by_document_number(db.session, document_number))


@orders_cli.command("suggest")
@click.argument("facility_code", type=RuleParam(FACILITY_CODE))
@unit_of_work(writes=False)
def suggest(facility_code: str) -> list[str]:
    """Print the reorder suggestions of a facility with the figures behind each."""
    from supply_app.extensions import db
    from supply_app.facilities.service import get_facility_by_code
    from supply_app.ordering.suggestions import reorder_suggestions

    facility = get_facility_by_code(db.session, facility_code)
    suggestions = reorder_suggestions(db.session, facility=facility)
    if not suggestions:
        return [f"{facility.code}: no par levels set, so nothing to suggest"]
    return [
        f"{s.part.part_number:<16} order {s.packs:>4} pack(s) = {s.eaches:>5} eaches "
        f"({format_cents(s.estimated_cents) if s.estimated_cents is not None else 'unpriced'}"
        f"); on hand {s.on_hand}, on order {s.on_order}, "
        f"burn {s.burn_rate_per_day}/day, lead-time demand {s.lead_time_demand}, "
        f"par {s.par_min}-{s.par_max}. {s.reason}"
        for s in suggestions
    ]
