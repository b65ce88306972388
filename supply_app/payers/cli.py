"""`supply-app payers ...`: list payers and load a fee table from a CSV file."""

from __future__ import annotations

import click

from supply_app.cli import RuleParam, unit_of_work
from supply_app.fields import ID
from supply_app.money import format_cents

payers_cli = click.Group("payers", help="Payer categories and their fee tables.")


@payers_cli.command("list")
@unit_of_work(writes=False)
def list_command() -> list[str]:
    """Every payer: id, name, how it pays, fee-table rows and revision."""
    from supply_app.extensions import db
    from supply_app.payers.service import list_payers

    lines = []
    for payer in list_payers(db.session):
        percent = (
            ""
            if payer.percent_hundredths is None
            else f" {format_cents(payer.percent_hundredths)}%"
        )
        state = "" if payer.active else " (deactivated)"
        lines.append(
            f"{payer.id:>4}  {payer.name}{state}: {payer.basis}{percent}, "
            f"{payer.fee_rows} fee row(s), revision {payer.revision}"
        )
    return lines or ["No payers yet."]


@payers_cli.command("load-fees")
@click.argument("payer_id", type=RuleParam(ID))
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@unit_of_work()
def load_fees(payer_id: int, csv_file: click.utils.LazyFile) -> list[str]:
    """Replace a payer's fee table with CSV_FILE, checked whole first (audited).

    The header is code,site_of_service,component,modifier,amount,effective_from,effective_to.
    Every problem is listed by row and column, and nothing is loaded until there are none.
    """
    from supply_app.errors import InvalidInput
    from supply_app.extensions import db
    from supply_app.payers.service import get_payer, replace_fees

    payer = get_payer(db.session, payer_id)
    try:
        rows = replace_fees(db.session, payer=payer, text=csv_file.read(), actor=None)
    except InvalidInput as exc:
        problems = exc.members.get("problems") or []
        listed = "\n".join(
            f"  row {p['row']}" + (f", {p['column']}" if p["column"] else "") + f": {p['message']}"
            for p in problems
        )
        raise InvalidInput(f"{exc.detail}\n{listed}" if listed else exc.detail) from None
    return [
        f"{payer.name}: {len(rows)} fee row(s) loaded; revision {payer.revision}.",
        "Its cases are now stale: run `supply-app cases reprice` to price them again.",
    ]
