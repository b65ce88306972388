"""How a case becomes a claim the coding module prices, and what the case stores of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.cases.fees import price, schedule_year
from supply_app.cases.models import ProcedureCase
from supply_app.clock import utcnow
from supply_app.coding import Claim, ClaimLine, PricedClaim, to_cents
from supply_app.errors import InvalidInput, NotFound
from supply_app.facilities.service import get_facility

# A case's laterality as the modifier its procedure lines carry unless a line names its own.
LINE_LATERALITY = {"RT": "RT", "LT": "LT", "bilateral": "50"}
DEVICE_CODES = ("C9809",)  # device lines are not sided: modifier 50 does not apply to them


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


def pricing_columns(priced: PricedClaim, on: date) -> dict[str, Any]:
    """A priced claim as the case columns that snapshot it (cents, version, warnings, JSON).

    `on` is the facility's today, against which the filing limit is judged.
    """
    return {
        "schedule_year": priced.schedule_year,
        "schedule_version": priced.schedule_version,
        "facility_cents": to_cents(priced.facility_total),
        "professional_cents": to_cents(priced.professional_total),
        "device_cents": None if priced.device_total is None else to_cents(priced.device_total),
        "device_priced": priced.device_priced,
        "reimbursement_cents": to_cents(priced.total),
        "code_mix": code_mix(priced),
        "warnings": case_warnings(priced, on),
        "pricing": priced.to_dict(),
        "priced_at": utcnow(),
    }


def apply_pricing(case: ProcedureCase, priced: PricedClaim, on: date) -> None:
    """Store a priced claim on the case as its snapshot."""
    for column, value in pricing_columns(priced, on).items():
        setattr(case, column, value)


def check_nerves(procedures: list[dict[str, Any]]) -> None:
    """64640 and 64624 must name the nerves treated; the nerves make the units."""
    for index, procedure in enumerate(procedures):
        if procedure["code"] != "C9809" and not procedure.get("nerves"):
            raise InvalidInput(
                f"{procedure['code']} must name the nerves treated.",
                field=f"procedures[{index}].nerves",
            )


def what_if(session: Session, *, user: User, data: dict[str, Any]) -> dict[str, Any]:
    """Price a hypothetical claim for a facility's setting or a given site; writes nothing.

    :raises NotFound: a facility the user does not belong to.
    :raises CodingRejected: the claim cannot be priced (422, field named).
    """
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
    priced = price(session, claim, schedule)
    return {"priced": priced.to_dict(), "warnings": case_warnings(priced, on)}
