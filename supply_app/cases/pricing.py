"""How a case becomes a claim the coding module prices, and what the case stores of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.cases.fees import (
    CodingRejected,
    coding_error,
    current_schedule,
    price,
    schedule_year,
)
from supply_app.cases.models import ProcedureCase
from supply_app.clock import utcnow
from supply_app.coding import (
    Basis,
    Claim,
    ClaimLine,
    CodingError,
    FeeSchedule,
    PricedClaim,
    price_claim,
    to_cents,
)
from supply_app.errors import InvalidInput, NotFound
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_facility
from supply_app.payers.models import Payer
from supply_app.payers.service import terms, usable_payer

# A case's laterality as the modifier its procedure lines carry unless a line names its own.
LINE_LATERALITY = {"RT": "RT", "LT": "LT", "bilateral": "50"}
# Device lines are not sided: modifier 50 does not apply to them.
DEVICE_CODES = ("C9809",)
NERVE_CODES = ("64640", "64624", "0441T")


def case_claim(
    *,
    site: str,
    cf_track: str,
    date_of_service: date,
    laterality: str,
    procedures: Iterable[dict[str, Any]],
) -> Claim:
    """The coding module's Claim for a case's procedures (laterality defaults to the case's)."""
    lines = tuple(
        ClaimLine(
            code=p["code"],
            nerves=tuple(p.get("nerves") or ()),
            laterality=None
            if p["code"] in DEVICE_CODES
            else p.get("laterality") or LINE_LATERALITY[laterality],
        )
        for p in procedures
    )
    return Claim(site, date_of_service, cf_track, lines)


# Modifiers that change what a line pays: two claims differing in one never look the same.
PAYING_MODIFIERS = ("50", "52")


def code_mix(priced: PricedClaim) -> str:
    """The codes of a claim with their units and the modifiers that change what they pay,
    e.g. '64624-52x1+64640x3+C9809x1' (fewer than three genicular nerves) or '64640-50x2'."""
    return mix_of((line.code, line.modifiers, line.units) for line in priced.lines)


def mix_of(lines: Iterable[tuple[str, Iterable[str], int]]) -> str:
    """The code mix of (code, modifiers, units) lines."""
    units: Counter[str] = Counter()
    for code, modifiers, count in lines:
        paying = sorted(m for m in modifiers if m in PAYING_MODIFIERS)
        units["-".join([code, *paying])] += count
    return "+".join(f"{code}x{n}" for code, n in sorted(units.items()))


def case_warnings(priced: PricedClaim, on: date) -> list[str]:
    """The coding module's warnings plus the 12-month timely-filing check."""
    warnings = list(priced.warnings)
    if on > priced.filing_deadline:
        warnings.append(
            f"The 12-month Medicare filing limit for this date of service passed on "
            f"{priced.filing_deadline.isoformat()}; the claim can no longer be filed."
        )
    return warnings


@dataclass(frozen=True)
class CasePrice:
    """A case's claim priced twice: Medicare national (the benchmark) and for its payer."""

    benchmark: PricedClaim
    collection: PricedClaim  # the benchmark itself when the payer is Medicare national
    payer: Payer
    wage_index: int | None  # the facility's, when the payer adjusts by it


def price_case(
    session: Session,
    claim: Claim,
    *,
    payer: Payer,
    facility: Facility,
    schedule: FeeSchedule | None = None,
) -> CasePrice:
    """Price a claim as the benchmark and as the payer's expected collection.

    :raises CodingRejected: the claim, or the payer's terms for it, cannot be priced
        (a locality payer at a facility with no wage index names the payer).
    """
    if schedule is None:
        try:
            schedule = current_schedule(session, claim.date_of_service.year)
        except NotFound as exc:
            raise CodingRejected(exc.detail, field="date_of_service") from exc
    benchmark = price(session, claim, schedule)
    if payer.basis == Basis.MEDICARE_NATIONAL:
        return CasePrice(benchmark, benchmark, payer, None)
    wage_index = facility.wage_index if payer.basis == Basis.MEDICARE_LOCALITY else None
    if payer.basis == Basis.MEDICARE_LOCALITY and wage_index is None:
        raise CodingRejected(
            f"{payer.name} adjusts Medicare by the wage index, and {facility.code} has none "
            "set: set the facility's wage index, or choose another payer.",
            field="payer_id",
        )
    try:
        collection = price_claim(claim, schedule=schedule, payer=terms(payer, wage_index))
    except CodingError as exc:
        raise coding_error(exc) from exc
    return CasePrice(benchmark, collection, payer, wage_index)


def pricing_columns(priced: CasePrice, on: date) -> dict[str, Any]:
    """A priced case as the columns that snapshot it (cents, versions, warnings, JSON).

    `on` is the facility's today, against which the filing limit is judged.
    """
    benchmark, collection = priced.benchmark, priced.collection
    columns = _benchmark_columns(benchmark)
    same = collection is benchmark  # Medicare national: one explanation serves both
    return {
        **columns,
        "warnings": case_warnings(benchmark, on)
        if same
        else list(dict.fromkeys(case_warnings(benchmark, on) + case_warnings(collection, on))),
        "payer_id": priced.payer.id,
        "payer_revision": priced.payer.revision,
        "billed": collection.billed,
        "collection_cents": to_cents(collection.total),
        "collection_complete": collection.complete,
        "collection": columns["pricing"] if same else collection.to_dict(),
        "wage_index": priced.wage_index,
        "priced_at": utcnow(),
    }


def _benchmark_columns(priced: PricedClaim) -> dict[str, Any]:
    return {
        "schedule_year": priced.schedule_year,
        "schedule_version": priced.schedule_version,
        "facility_cents": to_cents(priced.facility_total),
        "professional_cents": to_cents(priced.professional_total),
        "device_cents": None if priced.device_total is None else to_cents(priced.device_total),
        "device_priced": priced.device_priced,
        "reimbursement_complete": priced.complete,
        "reimbursement_cents": to_cents(priced.total),
        "code_mix": code_mix(priced),
        "pricing": priced.to_dict(),
    }


def apply_pricing(case: ProcedureCase, priced: CasePrice, on: date) -> None:
    """Store a priced claim on the case as its snapshot."""
    for column, value in pricing_columns(priced, on).items():
        setattr(case, column, value)


def check_nerves(procedures: list[dict[str, Any]]) -> None:
    """64640 and 64624 must name the nerves treated; the nerves make the units."""
    for index, procedure in enumerate(procedures):
        if procedure["code"] in NERVE_CODES and not procedure.get("nerves"):
            raise InvalidInput(
                f"{procedure['code']} must name the nerves treated.",
                field=f"procedures[{index}].nerves",
            )


def what_if(session: Session, *, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Price a hypothetical claim for a facility's setting or a given site; writes nothing.

    :raises NotFound: a facility the user does not belong to.
    :raises CodingRejected: the claim cannot be priced (422, field named).
    """
    facility = None
    if "facility_id" in data:
        facility = get_facility(session, user, data["facility_id"])
        site, track, on = facility.site_of_service, facility.cf_track, facility.today()
    else:
        site, track = data["site_of_service"], data.get("cf_track", "non_qualifying")
        on = utcnow().date()  # no facility named: the filing limit is judged on UTC's date
    check_nerves(data["procedures"])
    claim = case_claim(
        site=site,
        cf_track=track,
        date_of_service=data["date_of_service"],
        laterality=data["laterality"],
        procedures=data["procedures"],
    )
    schedule = None
    if not data["use_overrides"]:
        try:
            schedule = schedule_year(claim.date_of_service.year)
        except NotFound as exc:
            raise InvalidInput(exc.detail, field="date_of_service") from exc
    if "payer_id" not in data:
        priced = price(session, claim, schedule)
        return {"priced": priced.to_dict(), "warnings": case_warnings(priced, on)}
    if facility is None:
        raise InvalidInput(
            "A payer's price needs the facility it is billed from: give facility_id.",
            field="payer_id",
        )
    both = price_case(
        session,
        claim,
        payer=usable_payer(session, data["payer_id"], "payer_id"),
        facility=facility,
        schedule=schedule,
    )
    return {
        "priced": both.benchmark.to_dict(),
        "collection": both.collection.to_dict(),
        "warnings": list(
            dict.fromkeys(case_warnings(both.benchmark, on) + case_warnings(both.collection, on))
        ),
    }
