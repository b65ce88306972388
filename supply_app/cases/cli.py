"""`supply-app cases ...`: bulk repricing from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from supply_app.errors import DomainError

cases_cli = click.Group("cases", help="Procedure cases.")


@cases_cli.command("reprice")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="Only this year.")
@with_appcontext
def reprice(year: int | None) -> None:
    """Reprice every non-void case priced under an older schedule version; commit once."""
    from supply_app.cases.service import reprice_cases
    from supply_app.cli import fail
    from supply_app.extensions import db

    with click.progressbar(length=0, label="repricing", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            report = reprice_cases(db.session, user=None, year=year, progress=progress)
        except DomainError as exc:
            fail(exc.detail)
    db.session.commit()
    for y, version in sorted(report.versions.items()):
        click.echo(f"CY{y}: current schedule version {version}")
    click.echo(
        f"{report.repriced} case(s) repriced, {report.changed} with changed amounts, "
        f"{len(report.failed)} could not be priced"
    )
    for failure in report.failed:
        click.echo(f"  case {failure['case_id']}: {failure['detail']}", err=True)
