"""Reprice cases whose schedule, payer terms or wage index changed, and change a case's
payer; every function takes its session and never commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, selectinload

from supply_app.auth.models import User
from supply_app.auth.service import facility_ids_for, record_audit
from supply_app.cases.fees import PriceVersions, current_schedule, current_versions, stale_condition
from supply_app.cases.models import ProcedureCase
from supply_app.cases.pricing import apply_pricing, case_claim, price_case
from supply_app.cases.service import lock_case
from supply_app.coding import Claim, FeeSchedule, available_years
from supply_app.errors import InvalidInput, InvalidTransition
from supply_app.money import format_cents
from supply_app.payers.models import Payer
from supply_app.payers.service import payers_with_fees, usable_payer

REPRICE_BATCH = 500


@dataclass
class RepriceReport:
    """What a bulk reprice did: cases examined, re-stamped, and whose amounts changed."""

    examined: int = 0
    repriced: int = 0
    changed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[int, str] = field(default_factory=dict)


def _stale(versions: PriceVersions) -> ColumnElement[bool]:
    """A recorded (not void) case that repricing would change."""
    return (ProcedureCase.status == "recorded") & stale_condition(versions)


def stale_cases(versions: PriceVersions, facility_ids: set[int] | None) -> Select:
    """Ids of non-void cases priced under an older schedule, payer revision or wage index."""
    stmt = select(ProcedureCase.id).where(_stale(versions))
    if facility_ids is not None:
        stmt = stmt.where(ProcedureCase.facility_id.in_(facility_ids))
    return stmt.order_by(ProcedureCase.id)


def mark_stale(session: Session, cases: list[ProcedureCase]) -> list[ProcedureCase]:
    """Set `stale_price` on each case: recorded and priced under an older schedule version,
    payer revision or wage index (one query for the lot)."""
    ids = [case.id for case in cases]
    stale: set[int] = set()
    if ids:
        versions = current_versions(session)
        stale = set(
            session.scalars(
                select(ProcedureCase.id).where(ProcedureCase.id.in_(ids), _stale(versions))
            )
        )
    for case in cases:
        case.stale_price = case.id in stale
    return cases


def reprice_cases(
    session: Session,
    *,
    user: User | None,
    year: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RepriceReport:
    """Reprice every non-void case priced under an older schedule version, payer revision or
    wage index, in batches.

    Cases keep their recorded site of service, CF track and payer; a case that can no
    longer be priced is left as it was and listed in `failed`. Each batch is locked in id
    order and checked again under the lock: a case voided (or repriced) since the ids were
    listed is left alone.
    """
    years = [year] if year is not None else list(available_years())
    schedules = {y: current_schedule(session, y) for y in years}
    versions = current_versions(session)
    versions = replace(versions, schedules={y: s.version for y, s in schedules.items()})
    report = RepriceReport(versions=versions.schedules)
    allowed = facility_ids_for(session, user) if user is not None else None
    ids = list(session.scalars(stale_cases(versions, allowed)))
    payers = payers_with_fees(session, set(versions.payers))
    for start in range(0, len(ids), REPRICE_BATCH):
        batch = ids[start : start + REPRICE_BATCH]
        cases = session.scalars(
            select(ProcedureCase)
            .where(ProcedureCase.id.in_(batch), _stale(versions))
            .options(selectinload(ProcedureCase.procedures))
            .order_by(ProcedureCase.id)
            .with_for_update(of=ProcedureCase)
            .execution_options(populate_existing=True)
        ).all()
        for case in cases:
            schedule = schedules[case.schedule_year]
            _reprice_one(session, case, schedule, payers[case.payer_id], report)
        session.flush()
        for case in cases:  # written; let them go so a long run keeps memory bounded
            session.expunge(case)
        if progress is not None:
            progress(min(start + REPRICE_BATCH, len(ids)), len(ids))
    return report


def _reprice_one(
    session: Session,
    case: ProcedureCase,
    schedule: FeeSchedule,
    payer: Payer,
    report: RepriceReport,
) -> None:
    report.examined += 1
    before = (
        case.facility_cents,
        case.professional_cents,
        case.device_cents,
        case.collection_cents,
    )
    try:
        apply_pricing(
            case,
            price_case(
                session, _claim_of(case), payer=payer, facility=case.facility, schedule=schedule
            ),
            case.facility.today(),
        )
    except InvalidInput as exc:
        report.failed.append({"case_id": case.id, "detail": exc.detail})
        return
    report.repriced += 1
    after = (case.facility_cents, case.professional_cents, case.device_cents, case.collection_cents)
    if after != before:
        report.changed += 1


def set_case_payer(
    session: Session, *, case: ProcedureCase, payer_id: int, actor: User
) -> ProcedureCase:
    """Give a recorded case another payer category and price it under that payer; audited.

    The case row is locked and read afresh first, so a void that commits first wins.

    :raises InvalidTransition: the case is voided.
    :raises InvalidInput: no such payer, or a deactivated one.
    :raises CodingRejected: the payer's terms cannot price the case.
    """
    lock_case(session, case)
    if case.status != "recorded":
        raise InvalidTransition(
            f"Case {case.id} is voided; its payer cannot change.", case_status=case.status
        )
    payer = usable_payer(session, payer_id, "payer_id")
    before = {"payer_id": case.payer_id, "collection": format_cents(case.collection_cents)}
    priced = price_case(session, _claim_of(case), payer=payer, facility=case.facility)
    apply_pricing(case, priced, case.facility.today())
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="case.payer",
        entity=("procedure_case", case.id),
        facility_id=case.facility_id,
        before=before,
        after={"payer_id": case.payer_id, "collection": format_cents(case.collection_cents)},
    )
    return case


def _claim_of(case: ProcedureCase) -> Claim:
    """The claim a stored case makes, from its recorded setting and procedure lines."""
    return case_claim(
        site=case.site_of_service,
        cf_track=case.cf_track,
        date_of_service=case.date_of_service,
        laterality=case.laterality,
        procedures=[
            {"code": p.code, "nerves": p.nerves, "laterality": p.laterality}
            for p in case.procedures
        ],
    )
