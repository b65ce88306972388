"""`supply-app cases ...`: bulk repricing from the command line."""

from __future__ import annotations

import click

from supply_app.cases.rules import SCHEDULE_YEAR
from supply_app.cli import RuleParam, unit_of_work

cases_cli = click.Group("cases", help="Procedure cases.")


@cases_cli.command("reprice")
@click.option("--year", type=RuleParam(SCHEDULE_YEAR), default=None, help="Only this year.")
@unit_of_work()
def reprice(year: int | None) -> list[str]:
    """Reprice every non-void case priced under an older schedule version; commit once."""
    from supply_app.cases.repricing import reprice_cases
    from supply_app.extensions import db

    with click.progressbar(length=0, label="repricing", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = reprice_cases(db.session, user=None, year=year, progress=progress)
    lines = [
        f"CY{y}: current schedule version {version}"
        for y, version in sorted(report.versions.items())
    ]
    lines.append(
        f"{report.repriced} case(s) repriced, {report.changed} with changed amounts, "
        f"{len(report.failed)} could not be priced"
    )
    return lines + [f"  case {f['case_id']}: {f['detail']}" for f in report.failed]
