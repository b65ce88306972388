"""Read-only SQL for per-case margin: supply cost from the ledger against the priced snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from supply_app.cases.models import CaseProcedure, ProcedureCase
from supply_app.facilities.models import Facility
from supply_app.inventory.models import StockMovement
from supply_app.reporting.rules import GROUPING

GROUPINGS = GROUPING.values


class service_month(FunctionElement):
    """'YYYY-MM' of a date column, in each dialect's own spelling."""

    type = String()
    inherit_cache = True


@compiles(service_month)
def _month_sqlite(element: service_month, compiler: Any, **kw: Any) -> str:
    # SQLite keeps dates as ISO text, so the month is its first seven characters.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(service_month, "postgresql")
def _month_pg(element: service_month, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@dataclass(frozen=True)
class MarginFilter:
    """Which cases a margin report covers; facility_ids None means every facility."""

    facility_ids: frozenset[int] | None = None
    date_from: date | None = None
    date_to: date | None = None
    site_of_service: str | None = None
    code: str | None = None


FIGURES = (
    "cases",
    "supply_cost",
    "facility_cents",
    "professional_cents",
    "device_cents",
    "reimbursement_cents",
    "device_unpriced_cases",
    "stale_cases",
)


def _cost_sum(issue: Any, reversal: Any) -> Any:
    return -func.sum(issue.value_cents + func.coalesce(reversal.value_cents, 0))


def _issues_of(case_id: Any) -> tuple[Any, Any, Any]:
    """Aliases for a case's issue movements and their reversals, and the join condition."""
    issue, reversal = aliased(StockMovement), aliased(StockMovement)
    condition = and_(
        issue.reference_type == "case",
        issue.reference_id == case_id,
        issue.reverses_id.is_(None),
    )
    return issue, reversal, condition


def case_costs(case_ids: Iterable[int]) -> Select:
    """(case_id, supply_cost) in cents from the cases' issue movements, net of reversals."""
    issue, reversal = aliased(StockMovement), aliased(StockMovement)
    return (
        select(issue.reference_id.label("case_id"), _cost_sum(issue, reversal).label("supply_cost"))
        .select_from(issue)
        .outerjoin(reversal, reversal.reverses_id == issue.id)
        .where(
            issue.reference_type == "case",
            issue.reverses_id.is_(None),
            issue.reference_id.in_(case_ids),
        )
        .group_by(issue.reference_id)
    )


def stale_expression(versions: dict[int, str]) -> Any:
    """True for a case priced under a schedule version other than its year's current one."""
    current = [
        and_(ProcedureCase.schedule_year == year, ProcedureCase.schedule_version == version)
        for year, version in versions.items()
    ]
    return not_(or_(false(), *current))


def _filtered(stmt: Select, filters: MarginFilter) -> Select:
    """Non-void cases within the filter."""
    c = ProcedureCase
    stmt = stmt.where(c.status == "recorded")
    if filters.facility_ids is not None:
        stmt = stmt.where(c.facility_id.in_(sorted(filters.facility_ids)))
    if filters.date_from is not None:
        stmt = stmt.where(c.date_of_service >= filters.date_from)
    if filters.date_to is not None:
        stmt = stmt.where(c.date_of_service <= filters.date_to)
    if filters.site_of_service is not None:
        stmt = stmt.where(c.site_of_service == filters.site_of_service)
    if filters.code is not None:
        stmt = stmt.where(
            exists().where(CaseProcedure.case_id == c.id, CaseProcedure.code == filters.code)
        )
    return stmt


def _snapshot_figures(versions: dict[int, str]) -> list[Any]:
    """A case's priced-snapshot figures, as columns (one case) or the inputs of sums."""
    c = ProcedureCase
    return [
        c.facility_cents,
        c.professional_cents,
        c.device_cents,
        c.reimbursement_cents,
        case((c.device_priced, 0), else_=1).label("device_unpriced_cases"),
        case((stale_expression(versions), 1), else_=0).label("stale_cases"),
    ]


def case_page(filters: MarginFilter, versions: dict[int, str]) -> Select:
    """One row per non-void case, oldest first; each cost is looked up by index.

    Used with LIMIT/OFFSET (or streamed for an export): the correlated cost subquery runs
    only for the rows returned, so a page never aggregates the whole ledger.
    """
    c = ProcedureCase
    issue, reversal, condition = _issues_of(c.id)
    cost = (
        select(func.coalesce(_cost_sum(issue, reversal), 0))
        .select_from(issue)
        .outerjoin(reversal, reversal.reverses_id == issue.id)
        .where(condition)
        .scalar_subquery()
    )
    stmt = select(
        c.id.label("case_id"),
        c.reference,
        c.date_of_service,
        c.facility_id,
        Facility.code.label("facility_code"),
        service_month(c.date_of_service).label("month"),
        c.site_of_service,
        c.code_mix,
        c.schedule_version,
        literal(1, Integer).label("cases"),
        cost.label("supply_cost"),
        *_snapshot_figures(versions),
    ).join(Facility, Facility.id == c.facility_id)
    return _filtered(stmt, filters).order_by(c.date_of_service, c.id)


def _group_keys(group_by: list[str]) -> list[Any]:
    c = ProcedureCase
    keys = {
        "facility": c.facility_id.label("facility_id"),
        "month": service_month(c.date_of_service).label("month"),
        "site_of_service": c.site_of_service.label("site_of_service"),
        "code_mix": c.code_mix.label("code_mix"),
    }
    return [keys[name] for name in group_by]


def grouped(filters: MarginFilter, versions: dict[int, str], group_by: list[str]) -> Select:
    """Margin figures per group (any mix of facility, month, site, code mix), or in total.

    Two aggregates joined on the group keys: the cases' snapshot sums, and the ledger's
    cost of those cases. Neither builds a per-case intermediate, so a report over a
    million cases is two hash aggregates and one hash join.
    """
    c = ProcedureCase
    keys = _group_keys(group_by)
    figures = _snapshot_figures(versions)
    snapshots = _filtered(
        select(
            *keys,
            func.count().label("cases"),
            *(func.sum(figure).label(figure.key) for figure in figures),
        ),
        filters,
    ).group_by(*keys)
    snapshots = snapshots.subquery("snapshots")
    issue, reversal, condition = _issues_of(c.id)
    ledger = _filtered(
        select(*keys, _cost_sum(issue, reversal).label("supply_cost"))
        .select_from(c)
        .join(issue, condition)
        .outerjoin(reversal, reversal.reverses_id == issue.id),
        filters,
    ).group_by(*keys)
    ledger = ledger.subquery("ledger")
    names = [key.key for key in keys]
    on = and_(true(), *(snapshots.c[name] == ledger.c[name] for name in names))
    stmt = select(
        *(snapshots.c[name] for name in names),
        snapshots.c.cases,
        func.coalesce(ledger.c.supply_cost, 0).label("supply_cost"),
        *(snapshots.c[figure.key] for figure in figures),
    ).select_from(snapshots.outerjoin(ledger, on))
    if "facility" in group_by:
        stmt = stmt.add_columns(Facility.code.label("facility_code")).join(
            Facility, Facility.id == snapshots.c.facility_id
        )
    return stmt.order_by(*(snapshots.c[name] for name in names))


def case_count(filters: MarginFilter) -> Select:
    """How many non-void cases the filter covers (no ledger join needed to count them)."""
    return _filtered(select(func.count(ProcedureCase.id)), filters)
