"""Read-only SQL for per-case margin: supply cost from the ledger against the priced snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from supply_app.cases.fees import PriceVersions
from supply_app.cases.models import CaseProcedure, ProcedureCase
from supply_app.facilities.models import Facility
from supply_app.inventory.models import StockMovement
from supply_app.payers.models import Payer
from supply_app.reporting.columns import SUMMED, Column
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
    payer_id: int | None = None
    billed: bool | None = None


def _cost_sum(issue: Any, reversal: Any, billed_only: bool = False) -> Any:
    """Cents of issues net of their reversals, as a positive cost (bigint on both databases);
    of billed cases only when asked (the query joins the case)."""
    value = issue.value_cents + func.coalesce(reversal.value_cents, 0)
    if billed_only:
        value = case((ProcedureCase.billed, value), else_=0)
    return cast(-func.sum(value), BigInteger)


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
    if filters.payer_id is not None:
        stmt = stmt.where(c.payer_id == filters.payer_id)
    if filters.billed is not None:
        stmt = stmt.where(c.billed == filters.billed)
    if filters.code is not None:
        stmt = stmt.where(
            exists().where(CaseProcedure.case_id == c.id, CaseProcedure.code == filters.code)
        )
    return stmt


def _ledger_costs(filters: MarginFilter, keys: list[Any]) -> Select:
    """Supply cost per key (a grouping's keys, or the case id) over the filtered cases.

    One join of the filtered cases to their issue movements and one aggregate: for a
    narrow filter the planner looks the few cases' movements up by index, for a wide one
    it hashes the ledger once; neither runs a subquery per case.
    """
    c = ProcedureCase
    issue, reversal, condition = _issues_of(c.id)
    stmt = (
        select(
            *keys,
            _cost_sum(issue, reversal).label("supply_cost"),
            _cost_sum(issue, reversal, billed_only=True).label("billed_supply_cost"),
        )
        .select_from(c)
        .join(issue, condition)
        .outerjoin(reversal, reversal.reverses_id == issue.id)
    )
    return _filtered(stmt, filters).group_by(*keys)


def _case_columns(cost: Any, versions: PriceVersions) -> list[Any]:
    """A case's keys, its costs and its summed figures' per-case values, by column name."""
    c = ProcedureCase
    cost = func.coalesce(cost, 0)
    return [
        c.id.label("case_id"),
        c.reference,
        c.date_of_service,
        c.facility_id,
        Facility.code.label("facility_code"),
        c.site_of_service,
        c.code_mix,
        c.schedule_version,
        c.payer_id,
        Payer.name.label("payer_name"),
        c.handpiece_serial,
        cost.label("supply_cost"),
        case((c.billed, cost), else_=0).label("billed_supply_cost"),
        *(column.summed(versions).label(column.name) for column in SUMMED),
    ]


def _with_names(stmt: Select) -> Select:
    """Join the facility and payer a case row names."""
    c = ProcedureCase
    return stmt.join(Facility, Facility.id == c.facility_id).join(Payer, Payer.id == c.payer_id)


def case_page(filters: MarginFilter, versions: PriceVersions) -> Select:
    """One row per non-void case, oldest first, each cost looked up by index (for pages).

    Used with LIMIT/OFFSET: the correlated cost subquery runs only for the rows returned,
    so a page never aggregates the ledger. An export reads every row: see case_rows.
    """
    c = ProcedureCase
    issue, reversal, condition = _issues_of(c.id)
    cost = (
        select(_cost_sum(issue, reversal))
        .select_from(issue)
        .outerjoin(reversal, reversal.reverses_id == issue.id)
        .where(condition)
        .scalar_subquery()
    )
    stmt = _with_names(select(*_case_columns(cost, versions)))
    return _filtered(stmt, filters).order_by(c.date_of_service, c.id)


def case_rows(filters: MarginFilter, versions: PriceVersions) -> Select:
    """Every non-void case of the filter, oldest first, costs joined from one aggregate.

    The same rows and figures as case_page; for exports, where a subquery per case would
    cost an index probe per row.
    """
    c = ProcedureCase
    costs = _ledger_costs(filters, [c.id.label("case_id")]).subquery("costs")
    stmt = _with_names(select(*_case_columns(costs.c.supply_cost, versions))).outerjoin(
        costs, costs.c.case_id == c.id
    )
    return _filtered(stmt, filters).order_by(c.date_of_service, c.id)


def _group_keys(group_by: list[str]) -> list[Any]:
    c = ProcedureCase
    keys = {
        "facility": c.facility_id.label("facility_id"),
        "month": service_month(c.date_of_service).label("month"),
        "site_of_service": c.site_of_service.label("site_of_service"),
        "code_mix": c.code_mix.label("code_mix"),
        "payer": c.payer_id.label("payer_id"),
    }
    return [keys[name] for name in group_by]


def _sum(column: Column, versions: PriceVersions) -> Any:
    total = cast(func.sum(column.summed(versions)), BigInteger)  # type: ignore[misc]
    return (total if column.nullable else func.coalesce(total, 0)).label(column.name)


def grouped(filters: MarginFilter, versions: PriceVersions, group_by: list[str]) -> Select:
    """Margin figures per group (any mix of facility, month, site, code mix), or in total.

    Two aggregates joined on the group keys: the cases' summed figures, and the ledger's
    cost of those cases. Neither builds a per-case intermediate, so a report over a
    million cases is two hash aggregates and one hash join. With no grouping it is one
    row, the totals, even over no cases at all.
    """
    keys = _group_keys(group_by)
    snapshots = _filtered(
        select(*keys, *(_sum(column, versions) for column in SUMMED)), filters
    ).group_by(*keys)
    snapshots = snapshots.subquery("snapshots")
    ledger = _ledger_costs(filters, keys).subquery("ledger")
    names = [key.key for key in keys]
    on = and_(true(), *(snapshots.c[name] == ledger.c[name] for name in names))
    stmt = select(
        *(snapshots.c[name] for name in names),
        func.coalesce(ledger.c.supply_cost, 0).label("supply_cost"),
        func.coalesce(ledger.c.billed_supply_cost, 0).label("billed_supply_cost"),
        *(snapshots.c[column.name] for column in SUMMED),
    ).select_from(snapshots.outerjoin(ledger, on))
    if "facility" in group_by:
        stmt = stmt.add_columns(Facility.code.label("facility_code")).join(
            Facility, Facility.id == snapshots.c.facility_id
        )
    if "payer" in group_by:
        stmt = stmt.add_columns(Payer.name.label("payer_name")).join(
            Payer, Payer.id == snapshots.c.payer_id
        )
    return stmt.order_by(*(snapshots.c[name] for name in names))


def order_of(group_by: list[str], source: Any) -> list[Any]:
    """The report's row order over a source: oldest case first, or by the group keys."""
    if group_by == ["case"]:
        return [source.c.date_of_service, source.c.case_id]
    return [source.c[key.key] for key in _group_keys(group_by)]


def case_count(filters: MarginFilter) -> Select:
    """How many non-void cases the filter covers (no ledger join needed to count them)."""
    return _filtered(select(func.count(ProcedureCase.id)), filters)


def row_count(filters: MarginFilter, group_by: list[str]) -> Select:
    """How many rows a report has (cases, or groups of them) without touching the ledger."""
    if group_by == ["case"]:
        return case_count(filters)
    keys = _group_keys(group_by)
    groups = _filtered(select(*keys), filters).group_by(*keys).subquery("groups")
    return select(func.count()).select_from(groups)
