"""Facility operations, always scoped to what the acting user may see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.permissions import NEW_FACILITY
from supply_app.auth.service import (
    member_facility_ids,
    record_audit,
    require_every_facility,
    scoped,
)
from supply_app.errors import Conflict, InvalidInput, NotFound
from supply_app.facilities import rules
from supply_app.facilities.models import Facility
from supply_app.payers.service import default_payer, standard_payer
from supply_app.rules import Rule

#: Every field a facility's record holds, with the rule that checks it at every door.
FIELD_RULES: dict[str, Rule] = {
    "code": rules.FACILITY_CODE,
    "name": rules.FACILITY_NAME,
    "site_of_service": rules.SITE_OF_SERVICE,
    "dodaac": rules.DODAAC,
    "ship_to_address": rules.SHIP_TO_ADDRESS,
    "cf_track": rules.CF_TRACK,
    "expiry_window_days": rules.EXPIRY_WINDOW_DAYS,
    "lead_time_days": rules.LEAD_TIME_DAYS,
    "time_zone": rules.TIME_ZONE,
    "wage_index": rules.WAGE_INDEX,
}
#: Settings a facility may leave empty (None).
OPTIONAL = ("wage_index",)
#: What a new facility gets for the fields it may leave out.
FIELD_DEFAULTS = {"cf_track": "non_qualifying", "expiry_window_days": 60, "lead_time_days": 14}
#: Plain on/off settings (no rule beyond being a flag).
FLAGS = ("active", "bill_device_by_default", "bills_0441t")
AUDITED_FIELDS = (*(name for name in FIELD_RULES if name != "code"), *FLAGS, "default_payer_id")


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """The fields, each cleaned by its rule (active is a plain flag).

    :raises InvalidInput: a field its rule refuses, or one a facility does not have.
    """
    clean = {}
    for name, value in data.items():
        if name in FLAGS:
            clean[name] = bool(value)
        elif name == "default_payer_id":
            clean[name] = value  # checked against the payers by _payer_of
        elif value is None and name in OPTIONAL:
            clean[name] = None
        elif name in FIELD_RULES:
            clean[name] = FIELD_RULES[name].check(value, name)
        else:
            raise InvalidInput(f"A facility has no field {name!r}.", field=name)
    return clean


def visible_facilities(session: Session, user: User, include_inactive: bool = False) -> Select:
    """Facilities the user belongs to, in code order."""
    stmt = scoped(select(Facility).order_by(Facility.code, Facility.id), Facility.id, user)
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


def get_facility_by_code(session: Session, code: str) -> Facility:
    """A facility by its code (for the command line, which sees all).

    :raises NotFound: no facility has the code.
    """
    facility = session.scalar(select(Facility).where(Facility.code == code))
    if facility is None:
        raise NotFound(f"Unknown facility code {code}.")
    return facility


def facility_ids_by_code(session: Session, codes: Iterable[str]) -> list[int]:
    """The ids of facilities named by code, in the order given.

    :raises NotFound: naming every code that is no facility.
    """
    codes = list(codes)
    found = dict(
        session.execute(select(Facility.code, Facility.id).where(Facility.code.in_(codes))).all()
    )
    missing = [code for code in codes if code not in found]
    if missing:
        raise NotFound(f"Unknown facility code(s): {', '.join(missing)}.")
    return [found[code] for code in codes]


def get_active_facility(session: Session, user: User, facility_id: int) -> Facility:
    """Load a facility the user belongs to that is still active.

    :raises NotFound: see get_facility.
    :raises Conflict: the facility is deactivated.
    """
    facility = get_facility(session, user, facility_id)
    if not facility.active:
        raise Conflict(f"Facility {facility.code} is deactivated.")
    return facility


def _payer_of(session: Session, payer_id: int | None) -> int:
    """The id of an active payer to be a facility's default (Medicare national if None).

    :raises InvalidInput: no such payer, or a deactivated one.
    """
    if payer_id is None:
        return standard_payer(session).id
    return default_payer(session, payer_id, "default_payer_id").id


def create_facility(session: Session, *, data: dict[str, Any], actor: User | None) -> Facility:
    """Create a facility from validated data (actor None: an operator at the command line).

    :raises InvalidInput: a missing field, or one its rule refuses.
    :raises Forbidden: an actor who does not hold every facility: they could neither see
        nor manage the new one, and would learn which codes exist elsewhere.
    :raises Conflict: the code is taken.
    """
    if actor is not None:
        require_every_facility(actor, NEW_FACILITY)
    data = {**FIELD_DEFAULTS, **data}
    missing = [name for name in FIELD_RULES if name not in data and name not in OPTIONAL]
    if missing:
        raise InvalidInput(f"Give the facility's {', '.join(missing)}.", field=missing[0])
    data = _checked(data)
    if session.scalar(select(Facility.id).where(Facility.code == data["code"])) is not None:
        raise Conflict(f"Facility code {data['code']!r} is already used.", field="code")
    data["default_payer_id"] = _payer_of(session, data.get("default_payer_id"))
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
    if "code" in changes:
        raise InvalidInput("A facility's code is permanent; create a new facility.", field="code")
    changes = _checked(changes)
    if "default_payer_id" in changes:
        changes["default_payer_id"] = _payer_of(session, changes["default_payer_id"])
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
