"""Per-case margin reports and lot traces, scoped to the caller's facilities; read-only."""

from __future__ import annotations

import csv
import io
import math
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.service import facility_ids_for
from supply_app.cases.fees import current_versions
from supply_app.cases.models import CaseSupply, ProcedureCase
from supply_app.errors import NotFound
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_facility
from supply_app.inventory.models import Lot, StockBalance, StockMovement
from supply_app.money import format_cents
from supply_app.reporting.queries import FIGURES, MarginFilter, case_count, case_page, grouped

EXPORT_BATCH = 1000
KEY_FIELDS = {
    "case": (
        "case_id",
        "reference",
        "date_of_service",
        "facility_id",
        "facility_code",
        "site_of_service",
        "code_mix",
        "schedule_version",
    ),
    "facility": ("facility_id", "facility_code"),
    "month": ("month",),
    "site_of_service": ("site_of_service",),
    "code_mix": ("code_mix",),
}
MONEY_FIELDS = (
    "supply_cost",
    "facility_reimbursement",
    "professional_reimbursement",
    "device_reimbursement",
    "expected_reimbursement",
    "margin",
)
FIGURE_FIELDS = (
    "cases",
    *MONEY_FIELDS,
    "margin_pct",
    "reimbursement_complete",
    "device_unpriced",
    "device_unpriced_cases",
    "stale_price",
    "stale_price_cases",
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
    )


def key_fields(group_by: list[str]) -> list[str]:
    """The identifying columns of a report row for a grouping, in order."""
    fields: list[str] = []
    for name in group_by:
        fields += [f for f in KEY_FIELDS[name] if f not in fields]
    return fields


def figures(row: dict[str, Any]) -> dict[str, Any]:
    """Margin figures (cents) from summed columns; incomplete reimbursement is flagged.

    When a device component is unpriced the reimbursement and margin cover the priced
    components only, and `reimbursement_complete` is false: the missing amount is never
    counted as $0 silently, and a row whose every device is unpriced shows its device as None.
    """
    cost = int(row["supply_cost"] or 0)
    reimbursement = int(row["reimbursement_cents"] or 0)
    unpriced = int(row["device_unpriced_cases"] or 0)
    stale = int(row["stale_cases"] or 0)
    cases = int(row["cases"])
    margin = reimbursement - cost
    device = row["device_cents"]  # NULL when no case in the row has a priced device
    return {
        "cases": cases,
        "supply_cost": cost,
        "facility_reimbursement": int(row["facility_cents"] or 0),
        "professional_reimbursement": int(row["professional_cents"] or 0),
        "device_reimbursement": None if device is None else int(device),
        "expected_reimbursement": reimbursement,
        "margin": margin,
        "margin_pct": margin_pct(margin, reimbursement),
        "reimbursement_complete": unpriced == 0,
        "device_unpriced": unpriced > 0,
        "device_unpriced_cases": unpriced,
        "stale_price": stale > 0,
        "stale_price_cases": stale,
    }


def margin_pct(margin: int, reimbursement: int) -> Decimal | None:
    """Margin as a percentage of reimbursement to 0.01, or None with no reimbursement."""
    if reimbursement == 0:
        return None
    return (Decimal(margin) * 100 / Decimal(reimbursement)).quantize(Decimal("0.01"))


def report_row(row: Any, group_by: list[str]) -> dict[str, Any]:
    """A result row as the API shows it: its keys, then its figures."""
    data = row._asdict()
    return {**{k: data.get(k) for k in key_fields(group_by)}, **figures(data)}


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
    offset = (page - 1) * per_page
    if group_by == ["case"]:
        total = session.scalar(case_count(filters))
        page_rows = case_page(filters, versions).limit(per_page).offset(offset)
        rows = session.execute(page_rows).all()
        summed = session.execute(grouped(filters, versions, [])).one()._asdict()
    else:
        every = session.execute(grouped(filters, versions, group_by)).all()
        total, rows, summed = len(every), every[offset : offset + per_page], sum_rows(every)
    return {
        "group_by": group_by,
        "items": [report_row(row, group_by) for row in rows],
        "totals": figures(summed),
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": max(1, math.ceil(total / per_page)),
        },
    }


def sum_rows(rows: list[Any]) -> dict[str, Any]:
    """Add up grouped rows' summed columns (a device sum stays None if every one is None)."""
    summed: dict[str, Any] = {name: 0 for name in FIGURES}
    devices = [row.device_cents for row in rows if row.device_cents is not None]
    for row in rows:
        for name in FIGURES:
            if name != "device_cents":
                summed[name] += row._mapping[name] or 0
    summed["device_cents"] = sum(devices) if devices else None
    return summed


def export_rows(
    session: Session, user: User, args: dict[str, Any]
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """Header and a row iterator (fetched in batches, then a TOTAL row) for an export."""
    group_by = args["group_by"]
    filters = margin_filter(session, user, args)
    versions = current_versions(session)
    header = key_fields(group_by) + list(FIGURE_FIELDS)

    def rows() -> Iterator[dict[str, Any]]:
        if group_by == ["case"]:
            stmt = case_page(filters, versions)
        else:
            stmt = grouped(filters, versions, group_by)
        result = session.execute(stmt.execution_options(yield_per=EXPORT_BATCH))
        for row in result:
            yield report_row(row, group_by)
        total = figures(session.execute(grouped(filters, versions, [])).one()._asdict())
        yield {header[0]: "TOTAL", **total}

    return header, rows()


def _text(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name in MONEY_FIELDS:
        return format_cents(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_chunks(header: list[str], rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """CSV text, one chunk per row, money as '903.63'."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_text(name, row.get(name)) for name in header])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in MONEY_FIELDS:
        return Decimal(value).scaleb(-2)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def xlsx_file(header: list[str], rows: Iterator[dict[str, Any]]) -> IO[bytes]:
    """An XLSX workbook in a temporary file, written row by row (openpyxl write-only)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Case margin")
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(name, row.get(name)) for name in header])
    out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file streams and closes it
    workbook.save(out)
    out.seek(0)
    return out


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
    return {
        "lot": lot,
        "holdings": _holdings(session, lot, allowed),
        "cases": lot_cases(session, [lot.id], allowed),
    }


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
    """Cases at the allowed facilities (None: all) that used any of the lots, per lot."""
    c = ProcedureCase
    stmt = (
        select(
            c.id,
            c.reference,
            c.facility_id,
            Facility.code,
            c.date_of_service,
            c.status,
            CaseSupply.lot_id,
            func.sum(CaseSupply.eaches),
        )
        .join(CaseSupply, CaseSupply.case_id == c.id)
        .join(Facility, Facility.id == c.facility_id)
        .where(CaseSupply.lot_id.in_(lot_ids))
        .group_by(c.id, Facility.code, CaseSupply.lot_id)
        .order_by(c.date_of_service, c.id, CaseSupply.lot_id)
    )
    if allowed is not None:
        stmt = stmt.where(c.facility_id.in_(allowed))
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
        }
        for cid, ref, fid, code, dos, status, lot_id, eaches in session.execute(stmt)
    ]
