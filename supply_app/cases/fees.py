"""Fee schedules as the app uses them: the coding module's yearly files plus finance's overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, false, not_, or_, select, true
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.permissions import OVERRIDES_ARE_GLOBAL
from supply_app.auth.service import record_audit, require_every_facility
from supply_app.cases.models import FeeOverride, ProcedureCase
from supply_app.coding import (
    Claim,
    CodingError,
    FeeSchedule,
    PricedClaim,
    available_years,
    load_schedule,
    price_claim,
)
from supply_app.errors import InvalidInput, NotFound
from supply_app.facilities.models import Facility
from supply_app.money import format_cents
from supply_app.payers.models import Payer

OverrideKey = tuple[int, str, str]
LOCALITY = "medicare_locality"


class CodingRejected(InvalidInput):
    """The coding module refused the claim or override; the problem names the field."""

    slug = "coding-rejected"
    title = "Claim cannot be priced"


def coding_error(exc: CodingError, field_map: dict[str, str] | None = None) -> CodingRejected:
    """Turn a CodingError into a 422 problem, renaming its field to the API's field name.

    The coding module numbers claim lines `lines[i]`; the API calls them `procedures[i]`.
    """
    field = exc.field or "claim"
    for ours, theirs in (field_map or {"lines": "procedures"}).items():
        if field.startswith(ours):
            field = theirs + field[len(ours) :]
    return CodingRejected(exc.message, field=field)


# Plain columns, not entities, built once: this runs on every priced case.
_OVERRIDE = FeeOverride.__table__.c
_OVERRIDES = select(
    _OVERRIDE.year, _OVERRIDE.code, _OVERRIDE.site_of_service, _OVERRIDE.amount_cents
)
_YEAR_OVERRIDES = _OVERRIDES.where(_OVERRIDE.year == bindparam("year"))


def overrides_map(session: Session, year: int | None = None) -> dict[OverrideKey, Decimal]:
    """Every stored override (or one year's) as the coding module takes them."""
    stmt, params = (_OVERRIDES, {}) if year is None else (_YEAR_OVERRIDES, {"year": year})
    return {
        (o.year, o.code, o.site_of_service): Decimal(o.amount_cents).scaleb(-2)
        for o in session.execute(stmt, params)
    }


def schedule_year(year: int) -> FeeSchedule:
    """The published schedule for a year.

    :raises NotFound: no schedule file for that year.
    """
    if year not in available_years():
        years = ", ".join(map(str, available_years()))
        raise NotFound(f"No fee schedule for CY{year}; schedules exist for {years}.")
    return load_schedule(year)


def current_schedule(session: Session, year: int) -> FeeSchedule:
    """A year's schedule with today's overrides applied (its version names the overrides).

    :raises NotFound: no schedule for that year.
    """
    try:
        return schedule_year(year).with_overrides(overrides_map(session, year))
    except CodingError as exc:  # a stored override the schedule no longer accepts
        raise coding_error(exc) from exc


@dataclass(frozen=True)
class PriceVersions:
    """What a case priced today is priced under: each year's schedule version, each payer's
    revision, and each facility's wage index (for the payers that adjust by it)."""

    schedules: dict[int, str]
    payers: dict[int, int] = field(default_factory=dict)
    locality_payers: frozenset[int] = frozenset()
    wage_indexes: dict[int, int | None] = field(default_factory=dict)


def current_versions(session: Session) -> PriceVersions:
    """The current schedule versions (overrides included), payer revisions and wage indexes."""
    payers = session.execute(select(Payer.id, Payer.revision, Payer.basis)).all()
    return PriceVersions(
        schedules={year: current_schedule(session, year).version for year in available_years()},
        payers={pid: revision for pid, revision, _ in payers},
        locality_payers=frozenset(pid for pid, _, basis in payers if basis == LOCALITY),
        wage_indexes=dict(session.execute(select(Facility.id, Facility.wage_index)).all()),
    )


def stale_condition(versions: PriceVersions) -> Any:
    """True for a case priced under another schedule version, payer revision or wage index
    than today's: repricing would change what it says (void cases included; callers add
    the status they care about)."""
    c = ProcedureCase
    schedule = or_(
        false(),
        *(
            and_(c.schedule_year == year, c.schedule_version == version)
            for year, version in versions.schedules.items()
        ),
    )
    payer = or_(
        false(),
        *(
            and_(c.payer_id == pid, c.payer_revision == revision)
            for pid, revision in versions.payers.items()
        ),
    )
    wage = true()
    if versions.locality_payers:
        indexes = [
            and_(c.facility_id == fid, c.wage_index == index)
            for fid, index in versions.wage_indexes.items()
            if index is not None
        ]
        wage = or_(not_(c.payer_id.in_(sorted(versions.locality_payers))), *indexes)
    return not_(and_(schedule, payer, wage))


def price(session: Session, claim: Claim, schedule: FeeSchedule | None = None) -> PricedClaim:
    """Price a claim under the current schedule of its date-of-service year.

    :raises CodingRejected: the claim cannot be priced (422, field named).
    """
    try:
        if schedule is None:
            schedule = current_schedule(session, claim.date_of_service.year)
        return price_claim(claim, schedule=schedule)
    except NotFound as exc:
        raise CodingRejected(exc.detail, field="date_of_service") from exc
    except CodingError as exc:
        raise coding_error(exc) from exc


def list_overrides(session: Session, year: int | None = None) -> list[FeeOverride]:
    """Stored overrides, by year, code and site."""
    stmt = select(FeeOverride).order_by(
        FeeOverride.year, FeeOverride.code, FeeOverride.site_of_service
    )
    if year is not None:
        stmt = stmt.where(FeeOverride.year == year)
    return list(session.scalars(stmt))


def _find_override(session: Session, year: int, code: str, site: str) -> FeeOverride | None:
    return session.scalar(
        select(FeeOverride).where(
            FeeOverride.year == year,
            FeeOverride.code == code,
            FeeOverride.site_of_service == site,
        )
    )


def _snapshot(override: FeeOverride | None) -> dict[str, Any] | None:
    if override is None:
        return None
    return {
        "year": override.year,
        "code": override.code,
        "site_of_service": override.site_of_service,
        "amount": format_cents(override.amount_cents),
        "note": override.note,
    }


def _check_actor(actor: User | None) -> None:
    """Overrides change every facility's prices: a user must hold them all (None: the CLI)."""
    if actor is not None:
        require_every_facility(actor, OVERRIDES_ARE_GLOBAL)


def set_override(
    session: Session,
    *,
    year: int,
    code: str,
    site: str,
    amount_cents: int,
    note: str | None,
    actor: User | None,
) -> FeeOverride:
    """Set (or change) the amount the schedule uses for a code at a site; audited.

    :raises Forbidden: an actor who does not hold every facility (overrides apply to all).
    :raises NotFound: no schedule for the year.
    :raises CodingRejected: the code has no single dollar amount at that site (e.g. a PFS
        code, or C9809 in the office).
    """
    _check_actor(actor)
    amount = Decimal(amount_cents).scaleb(-2)
    try:
        schedule_year(year).with_overrides({(year, code, site): amount})
    except CodingError as exc:
        raise coding_error(exc, {"overrides": "code"}) from exc
    override = _find_override(session, year, code, site)
    before = _snapshot(override)
    if override is None:
        override = FeeOverride(year=year, code=code, site_of_service=site)
        session.add(override)
    override.amount_cents = amount_cents
    override.note = note
    override.updated_by_id = actor.id if actor else None
    session.flush()
    after = _snapshot(override)
    if before != after:
        record_audit(
            session,
            actor=actor,
            action="fee_override.set",
            entity=("fee_override", override.id),
            before=before,
            after=after,
        )
    return override


def delete_override(
    session: Session, *, year: int, code: str, site: str, actor: User | None
) -> None:
    """Remove an override so the published figure applies again; audited.

    :raises Forbidden: as set_override.
    :raises NotFound: no such override.
    """
    _check_actor(actor)
    override = _find_override(session, year, code, site)
    if override is None:
        raise NotFound(f"No override for CY{year} {code} at {site}.")
    record_audit(
        session,
        actor=actor,
        action="fee_override.delete",
        entity=("fee_override", override.id),
        before=_snapshot(override),
        after=None,
    )
    session.delete(override)
    session.flush()
