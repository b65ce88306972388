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
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from supply_app.cases.models import CaseProcedure, ProcedureCase
from supply_app.facilities.models import Facility
from supply_app.inventory.models import StockMovement

GROUPINGS = ("case", "facility", "month", "site_of_service", "code_mix")


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

    @property
    def narrowed(self) -> bool:
        """True when the filter leaves out some cases (so the ledger can be narrowed too)."""
        return any(
            value is not None
            for value in (
                self.facility_ids,
                self.date_from,
                self.date_to,
                self.site_of_service,
                self.code,
            )
        )


def _cost_sum(issue: Any, reversal: Any) -> Any:
    return -func.sum(issue.value_cents + func.coalesce(reversal.value_cents, 0))


def case_costs(case_ids: Iterable[int] | None = None) -> Select:
    """(case_id, supply_cost) in cents from the cases' issue movements, net of reversals."""
    issue, reversal = aliased(StockMovement), aliased(StockMovement)
    stmt = (
        select(issue.reference_id.label("case_id"), _cost_sum(issue, reversal).label("supply_cost"))
        .select_from(issue)
        .outerjoin(reversal, reversal.reverses_id == issue.id)
        .where(issue.reference_type == "case", issue.reverses_id.is_(None))
        .group_by(issue.reference_id)
    )
    if case_ids is not None:
        stmt = stmt.where(issue.reference_id.in_(case_ids))
    return stmt


def _case_cost(case_id: Any) -> Any:
    """The cost of one case as a correlated scalar subquery (cheap for a page of cases)."""
    issue, reversal = aliased(StockMovement), aliased(StockMovement)
    return (
        select(func.coalesce(_cost_sum(issue, reversal), 0))
        .select_from(issue)
        .outerjoin(reversal, reversal.reverses_id == issue.id)
        .where(
            issue.reference_type == "case",
            issue.reference_id == case_id,
            issue.reverses_id.is_(None),
        )
        .scalar_subquery()
    )


def stale_expression(versions: dict[int, str]) -> Any:
    """True for a case priced under a schedule version other than its year's current one."""
    current = [
        and_(ProcedureCase.schedule_year == year, ProcedureCase.schedule_version == version)
        for year, version in versions.items()
    ]
    return not_(or_(false(), *current))


def case_rows(filters: MarginFilter, versions: dict[int, str], *, per_case: bool = False) -> Select:
    """One row per non-void case in the filter: its keys, priced amounts and supply cost.

    Over many cases the ledger is aggregated once and hash-joined (the shape of the
    hand-written floor); for a page of cases (per_case) each cost is looked up by index
    after ORDER BY/LIMIT, so a page never aggregates the whole ledger.
    """
    c = ProcedureCase
    keys = _filtered(select(c.id).where(c.status == "recorded"), filters)
    if per_case:
        cost, joined = _case_cost(c.id), c.__table__
    else:
        ledger = case_costs(keys if filters.narrowed else None).subquery("case_costs")
        cost = func.coalesce(ledger.c.supply_cost, 0)
        joined = c.__table__.outerjoin(ledger, ledger.c.case_id == c.id)
    stmt = select(
        c.id.label("case_id"),
        c.reference,
        c.facility_id,
        c.date_of_service,
        service_month(c.date_of_service).label("month"),
        c.site_of_service,
        c.code_mix,
        c.schedule_version,
        c.facility_cents,
        c.professional_cents,
        c.device_cents,
        c.reimbursement_cents,
        case((c.device_priced, 0), else_=1).label("device_unpriced"),
        case((stale_expression(versions), 1), else_=0).label("stale"),
        cost.label("supply_cost"),
    ).select_from(joined)
    return _filtered(stmt.where(c.status == "recorded"), filters)


def _filtered(stmt: Select, filters: MarginFilter) -> Select:
    c = ProcedureCase
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


def _sums(rows: Any) -> list[Any]:
    return [
        func.count().label("cases"),
        func.coalesce(func.sum(rows.c.supply_cost), 0).label("supply_cost"),
        func.coalesce(func.sum(rows.c.facility_cents), 0).label("facility_cents"),
        func.coalesce(func.sum(rows.c.professional_cents), 0).label("professional_cents"),
        func.sum(rows.c.device_cents).label("device_cents"),
        func.coalesce(func.sum(rows.c.reimbursement_cents), 0).label("reimbursement_cents"),
        func.coalesce(func.sum(rows.c.device_unpriced), 0).label("device_unpriced_cases"),
        func.coalesce(func.sum(rows.c.stale), 0).label("stale_cases"),
    ]


def grouped_rows(filters: MarginFilter, versions: dict[int, str], group_by: list[str]) -> Select:
    """Margin figures per group (case, or any mix of facility, month, site, code mix), ordered."""
    rows = case_rows(filters, versions, per_case=group_by == ["case"]).subquery("case_rows")
    if group_by == ["case"]:
        return (
            select(
                rows.c.case_id,
                rows.c.reference,
                rows.c.date_of_service,
                rows.c.facility_id,
                Facility.code.label("facility_code"),
                rows.c.month,
                rows.c.site_of_service,
                rows.c.code_mix,
                rows.c.schedule_version,
                literal(1, Integer).label("cases"),
                rows.c.supply_cost,
                rows.c.facility_cents,
                rows.c.professional_cents,
                rows.c.device_cents,
                rows.c.reimbursement_cents,
                rows.c.device_unpriced.label("device_unpriced_cases"),
                rows.c.stale.label("stale_cases"),
            )
            .join(Facility, Facility.id == rows.c.facility_id)
            .order_by(rows.c.date_of_service, rows.c.case_id)
        )
    keys = [rows.c[name] for name in _key_columns(group_by)]
    stmt = select(*keys, *_sums(rows)).group_by(*keys)
    if "facility" in group_by:
        stmt = (
            stmt.add_columns(Facility.code.label("facility_code"))
            .join(Facility, Facility.id == rows.c.facility_id)
            .group_by(Facility.code)
        )
    return stmt.order_by(*keys)


def _key_columns(group_by: list[str]) -> list[str]:
    names = {"facility": "facility_id"}
    return [names.get(g, g) for g in group_by]


def case_count(filters: MarginFilter) -> Select:
    """How many non-void cases the filter covers (no ledger join needed to count them)."""
    stmt = select(func.count(ProcedureCase.id)).where(ProcedureCase.status == "recorded")
    return _filtered(stmt, filters)


def totals(filters: MarginFilter, versions: dict[int, str]) -> Select:
    """The same figures summed over every case in the filter."""
    rows = case_rows(filters, versions).subquery("case_rows")
    return select(*_sums(rows))
