"""A payer's fee table read from CSV: every row checked, every error named by row and column.

The file is read whole and checked whole before anything is stored: a table with one bad
row is refused with the list of every problem, so a user fixes the file once, not one
error per upload.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

from supply_app.coding import (
    FeeSchedule,
    SiteOfService,
    available_years,
    fee_row_misfit,
    load_schedule,
)
from supply_app.payers import rules
from supply_app.rules import Rule, RuleBroken

#: The header a fee-table file starts with; modifier and effective_to may be left empty.
COLUMNS = (
    "code",
    "site_of_service",
    "component",
    "modifier",
    "amount",
    "effective_from",
    "effective_to",
)
REQUIRED = ("code", "site_of_service", "component", "amount", "effective_from")
_RULES: dict[str, Rule] = {
    "code": rules.FEE_CODE,
    "site_of_service": rules.SITE,
    "component": rules.COMPONENT,
    "modifier": rules.FEE_MODIFIER,
    "amount": rules.FEE_AMOUNT,
    "effective_from": rules.EFFECTIVE_DATE,
    "effective_to": rules.EFFECTIVE_DATE,
}
EXAMPLE = (
    ",".join(COLUMNS)
    + "\n64640,HOPD,facility,,850.00,2026-01-01,\n64640,HOPD,professional,,101.50,2026-01-01,\n"
)


@dataclass(frozen=True)
class FeeLine:
    """One checked row of a fee table."""

    code: str
    site_of_service: str
    component: str
    modifier: str  # "" when the amount is for any line
    amount_cents: int
    effective_from: date
    effective_to: date | None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What two rows must not both price on one day."""
        return (self.code, self.site_of_service, self.component, self.modifier)


@dataclass(frozen=True)
class Problem:
    """One error in the file: the row (1 is the header) and column, and what to fix."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        """As the API and the page list it."""
        return {"row": self.row, "column": self.column, "message": self.message}


class FeeTableRefused(ValueError):
    """The file has problems; nothing was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the fee table")
        self.problems = problems


def read_fee_table(text: str) -> list[FeeLine]:
    """The rows of a fee-table CSV, checked as a whole.

    :raises FeeTableRefused: every problem found, by row and column; nothing is returned.
    """
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        body = list(reader)
    except csv.Error as exc:
        raise FeeTableRefused(
            [Problem(reader.line_num, "", f"The file is not CSV: {exc}.")]
        ) from None
    if missing := [name for name in COLUMNS if name not in header]:
        problems.append(
            Problem(
                1,
                missing[0],
                f"The header lacks {', '.join(missing)}; it must name {', '.join(COLUMNS)}.",
            )
        )
    if extra := [name for name in header if name not in COLUMNS]:
        problems.append(Problem(1, extra[0], f"Unknown column {extra[0]!r}; remove it."))
    if problems:
        raise FeeTableRefused(problems)
    if len(body) > rules.MAX_FEE_ROWS:
        raise FeeTableRefused(
            [Problem(rules.MAX_FEE_ROWS + 2, "", f"At most {rules.MAX_FEE_ROWS} rows per file.")]
        )
    lines: list[tuple[int, FeeLine]] = []
    for number, cells in enumerate(body, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, as spreadsheets leave at the end
        line = _read_row(number, header, cells, problems)
        if line is not None:
            lines.append((number, line))
    problems += _overlaps(lines)
    if problems:
        raise FeeTableRefused(sorted(problems, key=lambda problem: problem.row))
    if not lines:
        raise FeeTableRefused([Problem(2, "", "The file has a header but no rows.")])
    return [line for _, line in lines]


def _read_row(
    number: int, header: list[str], cells: list[str], problems: list[Problem]
) -> FeeLine | None:
    if len(cells) != len(header):
        problems.append(
            Problem(number, "", f"{len(cells)} cells where the header has {len(header)}.")
        )
        return None
    raw = dict(zip(header, (cell.strip(" \t") for cell in cells), strict=True))
    values: dict[str, Any] = {}
    found = len(problems)
    for name in COLUMNS:
        text = raw[name]
        if not text:
            if name in REQUIRED:
                problems.append(Problem(number, name, f"Give the {_RULES[name].label}."))
            values[name] = None
            continue
        try:
            rule = _RULES[name]
            values[name] = rule.parse(text) if hasattr(rule, "parse") else rule.clean(text)
        except RuleBroken as exc:
            problems.append(Problem(number, name, str(exc)))
    if len(problems) > found:
        return None
    if values["effective_to"] is not None and values["effective_to"] < values["effective_from"]:
        problems.append(Problem(number, "effective_to", "It ends before it starts."))
        return None
    misfit = fee_row_misfit(
        _schedule_near(values["effective_from"].year),
        values["code"],
        SiteOfService(values["site_of_service"]),
        values["component"],
        values["modifier"],
    )
    if misfit is not None:
        column, reason = misfit
        problems.append(Problem(number, column, f"{reason} The row would never price a claim."))
        return None
    return FeeLine(
        code=values["code"],
        site_of_service=values["site_of_service"],
        component=values["component"],
        modifier=values["modifier"] or "",
        amount_cents=values["amount"],
        effective_from=values["effective_from"],
        effective_to=values["effective_to"],
    )


@functools.cache
def _schedule_near(year: int) -> FeeSchedule:
    """The schedule of a row's first year, or of the nearest year that has one."""
    return load_schedule(min(available_years(), key=lambda known: abs(known - year)))


def _overlaps(lines: list[tuple[int, FeeLine]]) -> list[Problem]:
    """Two rows for one code, site, component and modifier may not cover the same day."""
    problems = []
    by_key: dict[tuple[str, str, str, str], list[tuple[int, FeeLine]]] = {}
    for number, line in lines:
        by_key.setdefault(line.key, []).append((number, line))
    for rows in by_key.values():
        rows.sort(key=lambda item: item[1].effective_from)
        for (first, earlier), (number, later) in itertools.pairwise(rows):
            if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                problems.append(
                    Problem(
                        number,
                        "effective_from",
                        f"It overlaps row {first} ({later.code} {later.site_of_service} "
                        f"{later.component} from {earlier.effective_from}); end row {first} "
                        f"before {later.effective_from}.",
                    )
                )
    return sorted(problems, key=lambda p: p.row)


def write_fee_table(lines: list[Any]) -> str:
    """Stored rows (with the same attributes as FeeLine) as a CSV the loader reads back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow(
            [
                line.code,
                line.site_of_service,
                line.component,
                line.modifier,
                rules.FEE_AMOUNT.format(line.amount_cents),
                line.effective_from.isoformat(),
                line.effective_to.isoformat() if line.effective_to else "",
            ]
        )
    return out.getvalue()
