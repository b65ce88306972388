"""Facility operations, always scoped to what the acting user may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.permissions import NEW_FACILITY
from supply_app.auth.service import (
    facility_ids_for,
    member_facility_ids,
    record_audit,
    require_every_facility,
)
from supply_app.errors import Conflict, InvalidInput, NotFound
from supply_app.facilities.models import Facility

AUDITED_FIELDS = (
    "name",
    "site_of_service",
    "dodaac",
    "ship_to_address",
    "cf_track",
    "expiry_window_days",
    "lead_time_days",
    "active",
)


def visible_facilities(session: Session, user: User, include_inactive: bool = False) -> Select:
    """Facilities the user belongs to, in code order."""
    stmt = select(Facility).order_by(Facility.code, Facility.id)
    allowed = facility_ids_for(session, user)
    if allowed is not None:
        stmt = stmt.where(Facility.id.in_(allowed))
    if not include_inactive:
        stmt = stmt.where(Facility.active.is_(True))
    return stmt


# Built once: every facility-scoped request runs it.
_MEMBER_FACILITY = select(Facility).where(
    Facility.id == bindparam("facility_id"),
    Facility.id.in_(member_facility_ids(bindparam("user_id"))),
)


def get_facility(session: Session, user: User, facility_id: int) -> Facility:
    """Load a facility the user belongs to.

    :raises NotFound: no such facility, or one the user does not belong to (the two are
        indistinguishable on purpose).
    """
    if user.all_facilities:
        facility = session.get(Facility, facility_id)
    else:  # the row and the membership check in one statement
        facility = session.scalar(
            _MEMBER_FACILITY, {"facility_id": facility_id, "user_id": user.id}
        )
    if facility is None:
        raise NotFound(f"No facility with id {facility_id}.")
    return facility


def get_active_facility(session: Session, user: User, facility_id: int) -> Facility:
    """Load a facility the user belongs to that is still active.

    :raises NotFound: see get_facility.
    :raises Conflict: the facility is deactivated.
    """
    facility = get_facility(session, user, facility_id)
    if not facility.active:
        raise Conflict(f"Facility {facility.code} is deactivated.")
    return facility


def create_facility(session: Session, *, data: dict[str, Any], actor: User | None) -> Facility:
    """Create a facility from validated data (actor None: an operator at the command line).

    :raises Forbidden: an actor who does not hold every facility: they could neither see
        nor manage the new one, and would learn which codes exist elsewhere.
    :raises Conflict: the code is taken.
    """
    if actor is not None:
        require_every_facility(actor, NEW_FACILITY)
    if session.scalar(select(Facility.id).where(Facility.code == data["code"])) is not None:
        raise Conflict(f"Facility code {data['code']!r} is already used.", field="code")
    facility = Facility(**data, active=True)
    session.add(facility)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="facility.create",
        entity=("facility", facility.id),
        facility_id=facility.id,
        after={"code": facility.code, **{k: getattr(facility, k) for k in AUDITED_FIELDS}},
    )
    return facility


def update_facility(
    session: Session, *, facility: Facility, changes: dict[str, Any], actor: User | None
) -> Facility:
    """Apply validated changes to a facility and audit what changed.

    :raises InvalidInput: no fields given.
    """
    if not changes:
        raise InvalidInput("Send at least one field to change.")
    before = {k: getattr(facility, k) for k in changes}
    for name, value in changes.items():
        setattr(facility, name, value)
    session.flush()
    if before != changes:
        record_audit(
            session,
            actor=actor,
            action="facility.update",
            entity=("facility", facility.id),
            facility_id=facility.id,
            before=before,
            after=changes,
        )
    return facility
