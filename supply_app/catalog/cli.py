"""`supply-app catalog ...` and `supply-app prices ...`: the ECAT catalog and its prices."""

from __future__ import annotations

import click
from flask import current_app

from supply_app.catalog.rules import PART_NUMBER, PRICE_NOTE
from supply_app.cli import RuleParam, unit_of_work
from supply_app.money import PRICE, format_cents
from supply_app.rules import Day

catalog_cli = click.Group("catalog", help="The ECAT catalog.")
prices_cli = click.Group("prices", help="Contract prices.")


@catalog_cli.command("sync")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Catalog JSON (default: catalog/ecat_parts.json).",
)
@unit_of_work()
def catalog_sync(path: str | None) -> list[str]:
    """Validate the catalog file, then upsert it in one transaction."""
    from supply_app.catalog.service import load_catalog_file, sync_catalog
    from supply_app.extensions import db

    report = sync_catalog(db.session, load_catalog_file(path or current_app.config["CATALOG_PATH"]))
    if not report.changed:
        return [f"catalog unchanged: {len(report.unchanged)} parts already up to date"]
    lines = [
        f"catalog synced: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.deactivated)} deactivated, {len(report.unchanged)} unchanged"
    ]
    for label, numbers in (
        ("created", report.created),
        ("updated", report.updated),
        ("deactivated", report.deactivated),
    ):
        lines += [f"  {label}: {number}" for number in numbers]
    return lines


@prices_cli.command("set")
@click.argument("part_number", type=RuleParam(PART_NUMBER))
@click.argument("unit_price", type=RuleParam(PRICE))
@click.option(
    "--from",
    "effective_from",
    type=RuleParam(Day("first day")),
    default=None,
    help="First day, YYYY-MM-DD (default today, UTC).",
)
@click.option("--to", "effective_to", type=RuleParam(Day("last day")), default=None)
@click.option("--note", type=RuleParam(PRICE_NOTE), default=None)
@unit_of_work()
def prices_set(part_number: str, unit_price: int, effective_from, effective_to, note) -> list[str]:
    """Set the contract price of one pack (unit of issue) of a part, e.g. 1234.50."""
    from supply_app.catalog.service import get_part_by_number, set_contract_price
    from supply_app.clock import utcnow
    from supply_app.extensions import db

    price = set_contract_price(
        db.session,
        part=get_part_by_number(db.session, part_number),
        unit_price_cents=unit_price,
        effective_from=effective_from or utcnow().date(),
        effective_to=effective_to,
        note=note or None,
        actor=None,
    )
    return [
        f"{part_number}: {format_cents(unit_price)} per {price.part.unit_of_issue} from "
        f"{price.effective_from.isoformat()}"
    ]
