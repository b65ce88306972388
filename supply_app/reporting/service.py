"""Per-case margin reports and lot traces, scoped to the caller's facilities; read-only."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import BigInteger, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.service import facility_ids_for
from supply_app.cases.fees import current_versions
from supply_app.cases.models import CaseSupply, ProcedureCase
from supply_app.errors import NotFound
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_facility
from supply_app.http import paginate
from supply_app.inventory.models import Lot, StockBalance, StockMovement
from supply_app.reporting.columns import FIGURES, api_row, columns_for, typed
from supply_app.reporting.queries import (
    MarginFilter,
    case_count,
    case_page,
    grouped,
    order_of,
)


def margin_filter(session: Session, user: User, args: dict[str, Any]) -> MarginFilter:
    """The report filter from query arguments, limited to the user's facilities.

    :raises NotFound: a facility_id the user does not belong to.
    """
    allowed = facility_ids_for(session, user)
    facility_ids = None if allowed is None else frozenset(allowed)
    if args.get("facility_id") is not None:
        facility_ids = frozenset({get_facility(session, user, args["facility_id"]).id})
    return MarginFilter(
        facility_ids=facility_ids,
        date_from=args.get("date_from"),
        date_to=args.get("date_to"),
        site_of_service=args.get("site_of_service"),
        code=args.get("code"),
        payer_id=args.get("payer_id"),
        billed=args.get("billed"),
    )


def margin_page(
    session: Session, user: User, args: dict[str, Any], page: int, per_page: int
) -> dict[str, Any]:
    """One page of a margin report with totals over the whole filter.

    Per case, the page and the totals are two queries. Groups are few (facilities ×
    months × sites × code mixes), so they are aggregated once and the totals summed from
    them: a grouped report costs one pass over the cases, not three.
    """
    group_by = args["group_by"]
    filters = margin_filter(session, user, args)
    versions = current_versions(session)
    columns = columns_for(group_by)
    offset = (page - 1) * per_page
    if group_by == ["case"]:
        total = session.scalar(case_count(filters)) or 0
        source = case_page(filters, versions).limit(per_page).offset(offset).subquery("page")
        rows = session.execute(
            select(*typed(columns, source)).order_by(*order_of(group_by, source))
        ).all()
        totals = grouped(filters, versions, []).subquery("totals")
    else:
        source = grouped(filters, versions, group_by).subquery("groups")
        every = session.execute(
            select(*typed(columns, source)).order_by(*order_of(group_by, source))
        ).all()
        total, rows, totals = len(every), every[offset : offset + per_page], summed_row(every)
    return {
        "group_by": group_by,
        "items": [api_row(columns, row) for row in rows],
        "totals": api_row(FIGURES, session.execute(select(*typed(FIGURES, totals))).one()),
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": max(1, math.ceil(total / per_page)),
        },
    }


def summed_row(rows: list[Any]) -> Any:
    """One row of the grouped rows' summed figures, as literal SQL values to derive from.

    The totals' derived figures (margin, margin %, flags) are then worked out by the same
    SQL as every row's, without aggregating the cases a second time. A nullable sum (the
    device) stays NULL when every group's is.
    """
    values = []
    for column in FIGURES:
        if column.derived is not None:
            continue
        present = [row._mapping[column.name] for row in rows]
        present = [value for value in present if value is not None]
        value = sum(present) if present or not column.nullable else None
        values.append(cast(literal(value), BigInteger).label(column.name))
    return select(*values).subquery("totals")


def lot_trace(session: Session, user: User, lot_id: int) -> dict[str, Any]:
    """Who holds a lot and which cases used it, at the user's facilities only.

    :raises NotFound: no such lot, or none of the user's facilities ever moved it.
    """
    lot = session.get(Lot, lot_id)
    allowed = facility_ids_for(session, user)
    if lot is None:
        raise NotFound(f"No lot with id {lot_id}.")
    touched = select(StockMovement.facility_id).where(StockMovement.lot_id == lot.id).distinct()
    if allowed is not None:
        touched = touched.where(StockMovement.facility_id.in_(allowed))
    if not session.scalars(touched).first():
        raise NotFound(f"No lot with id {lot_id}.")
    return _trace(session, lot, allowed)


def _trace(session: Session, lot: Lot, allowed: set[int] | None) -> dict[str, Any]:
    return {
        "lot": lot,
        "holdings": _holdings(session, lot, allowed),
        "cases": lot_cases(session, [lot.id], allowed),
    }


def recall_page(
    session: Session,
    user: User,
    *,
    lot_number: str,
    part_id: int | None,
    page: int,
    per_page: int,
) -> dict[str, Any]:
    """Traces of every lot numbered lot_number, or of that batch, at the user's facilities.

    A serialised unit is a lot of its own whose batch is kept beside it, so a recall by
    batch finds the units as well as the lot (by part, then lot number).
    """
    allowed = facility_ids_for(session, user)
    stmt = (
        select(Lot)
        .where(or_(Lot.lot_number == lot_number, Lot.batch == lot_number))
        .order_by(Lot.part_id, Lot.lot_number, Lot.id)
    )
    if part_id is not None:
        stmt = stmt.where(Lot.part_id == part_id)
    if allowed is not None:
        moved_here = select(StockMovement.lot_id).where(StockMovement.facility_id.in_(allowed))
        stmt = stmt.where(Lot.id.in_(moved_here))
    found = paginate(session, stmt, page, per_page)
    return {**found, "items": [_trace(session, lot, allowed) for lot in found["items"]]}


def _holdings(session: Session, lot: Lot, allowed: set[int] | None) -> list[dict[str, Any]]:
    stmt = (
        select(Facility.id, Facility.code, Facility.name, StockBalance.on_hand)
        .join(StockBalance, StockBalance.facility_id == Facility.id)
        .where(StockBalance.lot_id == lot.id, StockBalance.on_hand > 0)
        .order_by(Facility.code)
    )
    if allowed is not None:
        stmt = stmt.where(Facility.id.in_(allowed))
    return [
        {"facility_id": fid, "facility_code": code, "facility_name": name, "on_hand": on_hand}
        for fid, code, name, on_hand in session.execute(stmt)
    ]


def lot_cases(
    session: Session, lot_ids: list[int], allowed: set[int] | None
) -> list[dict[str, Any]]:
    """Cases at the allowed facilities (None: all) that used any of the lots, per lot: as
    supplies (eaches used), or, for a serialised handpiece, as the handpiece the case
    names (eaches 0), so a device trace finds its cases too."""
    c = ProcedureCase
    case_columns = (c.id, c.reference, c.facility_id, Facility.code, c.date_of_service, c.status)
    supplies = (
        select(*case_columns, CaseSupply.lot_id, func.sum(CaseSupply.eaches), literal("supply"))
        .join(CaseSupply, CaseSupply.case_id == c.id)
        .join(Facility, Facility.id == c.facility_id)
        .where(CaseSupply.lot_id.in_(lot_ids))
        .group_by(*case_columns, CaseSupply.lot_id)
    )
    handpieces = (
        select(*case_columns, Lot.id, literal(0), literal("handpiece"))
        .join(Lot, Lot.serial == c.handpiece_serial)
        .join(Facility, Facility.id == c.facility_id)
        .where(Lot.id.in_(lot_ids))
    )
    if allowed is not None:
        supplies = supplies.where(c.facility_id.in_(allowed))
        handpieces = handpieces.where(c.facility_id.in_(allowed))
    rows = sorted(
        session.execute(supplies.union_all(handpieces)).all(),
        key=lambda row: (row[4], row[0], row[6]),
    )
    return [
        {
            "case_id": cid,
            "reference": ref,
            "facility_id": fid,
            "facility_code": code,
            "date_of_service": dos,
            "status": status,
            "lot_id": lot_id,
            "eaches": int(eaches),
            "used_as": used_as,
        }
        for cid, ref, fid, code, dos, status, lot_id, eaches, used_as in rows
    ]
