"""User administration: list, create, change and deactivate users, audited.

An administrator who holds every facility manages every user. An administrator who holds
some facilities manages the users whose every membership is one of theirs, and may grant
only those facilities: anyone else is, to them, a user that does not exist (404), as
another facility's rows are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, exists, select, update
from sqlalchemy.orm import Session, selectinload

from supply_app.auth.models import ApiToken, FacilityMembership, User
from supply_app.auth.rules import DISPLAY_NAME
from supply_app.auth.service import (
    check_access_shape,
    check_password_rule,
    create_user,
    facility_ids_for,
    hash_password,
    lock_user,
    member_facility_ids,
    record_audit,
    user_snapshot,
)
from supply_app.clock import utcnow
from supply_app.errors import Conflict, InvalidInput, NotFound
from supply_app.facilities.models import Facility

EDITABLE = ("display_name", "role", "facility_ids", "all_facilities", "active", "password")


def managed_users(admin: User | None) -> Select:
    """Users the admin may manage (None: an operator at the command line), by username."""
    stmt = select(User).options(selectinload(User.memberships)).order_by(User.username)
    if admin is None or admin.all_facilities:
        return stmt
    outside = FacilityMembership.facility_id.not_in(member_facility_ids(admin.id))
    mine = FacilityMembership.user_id == User.id
    return stmt.where(
        User.all_facilities.is_(False),
        exists().where(mine),
        ~exists().where(mine, outside),
    )


def get_managed_user(
    session: Session, admin: User | None, user_id: int, *, for_update: bool = False
) -> User:
    """A user the admin may manage; for_update locks the row first and reads it fresh.

    :raises NotFound: no such user, or one outside the admin's facilities.
    """
    missing = NotFound(f"No user with id {user_id}.")
    stmt = managed_users(admin).where(User.id == user_id)
    if for_update:
        # Lock first, then check the scope against the memberships as now committed.
        if lock_user(session, user_id) is None:
            raise missing
        stmt = stmt.execution_options(populate_existing=True)
    user = session.scalar(stmt)
    if user is None:
        raise missing
    return user


def _check_grantable(
    session: Session, admin: User | None, facility_ids: Iterable[int], all_facilities: bool
) -> None:
    """The facilities exist and the admin holds them; every-facility access needs both.

    :raises NotFound: a facility that does not exist or that the admin does not hold.
    :raises InvalidInput: no facility at all, or every facility granted by a scoped admin.
    """
    wanted = set(facility_ids)
    existing = set(session.scalars(select(Facility.id).where(Facility.id.in_(wanted))))
    held = facility_ids_for(session, admin) if admin is not None else None
    unknown = sorted(wanted - existing if held is None else wanted - (existing & held))
    if unknown:
        raise NotFound(f"No facility with id {unknown[0]}.")
    if all_facilities and held is not None:
        raise InvalidInput(
            "Only an administrator who holds every facility may grant every facility.",
            field="all_facilities",
        )
    if not wanted and not all_facilities:
        raise InvalidInput(
            "Give the user at least one facility (or every facility, for admin and finance).",
            field="facility_ids",
        )


def add_user(session: Session, *, admin: User | None, data: dict[str, Any]) -> User:
    """Create a user within the admin's facilities.

    :raises NotFound: a facility the admin does not hold.
    :raises InvalidInput: a bad role, access or password.
    :raises Conflict: the username is taken.
    """
    _check_grantable(session, admin, data["facility_ids"], data["all_facilities"])
    return create_user(
        session,
        username=data["username"],
        display_name=data.get("display_name") or data["username"],
        role=data["role"],
        password=data["password"],
        facility_ids=data["facility_ids"],
        all_facilities=data["all_facilities"],
        actor=admin,
    )


def update_user(
    session: Session, *, admin: User | None, user: User, changes: dict[str, Any]
) -> User:
    """Change a user's name, role, facilities, password or active flag; audited.

    Deactivating revokes the user's live tokens and ends their UI sessions, so reactivating
    revives neither. A new password clears a login lockout and ends their UI sessions.

    :raises NotFound: a facility the admin does not hold.
    :raises InvalidInput: nothing to change, or a bad role, access or password.
    :raises Conflict: an admin deactivating or demoting themself.
    """
    access = _checked_access(session, admin, user, changes)
    before = user_snapshot(user)
    if "display_name" in changes:
        user.display_name = DISPLAY_NAME.check(changes["display_name"], "display_name")
    user.role, user.all_facilities, facility_ids = access
    _set_memberships(user, facility_ids)
    extra: dict[str, Any] = {}
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        user.failed_logins = 0
        user.locked_until = None
        user.session_epoch += 1  # signed-in browsers must sign in with the new password
        extra["password"] = "reset"  # noqa: S105 - what happened, not a secret
        # A reset answers a lost or stolen password: tokens made with it go too.
        extra["tokens_revoked"] = _revoke_live_tokens(session, user)
    if user.active and changes.get("active") is False:
        user.active = False
        user.session_epoch += 1
        extra["tokens_revoked"] = _revoke_live_tokens(session, user)
    elif changes.get("active") is True:
        user.active = True
    session.flush()
    after = user_snapshot(user)
    if before != after or extra:
        record_audit(
            session,
            actor=admin,
            action="user.update",
            entity=("user", user.id),
            before=before,
            after={**after, **extra},
        )
    return user


def _checked_access(
    session: Session, admin: User | None, user: User, changes: dict[str, Any]
) -> tuple[str, bool, list[int]]:
    """The role, every-facility flag and facilities the changes leave, once all are allowed.

    :raises NotFound, InvalidInput, Conflict: as update_user.
    """
    if not changes:
        raise InvalidInput(f"Send at least one of: {', '.join(EDITABLE)}.")
    role = changes.get("role", user.role)
    all_facilities = changes.get("all_facilities", user.all_facilities)
    facility_ids = changes.get("facility_ids", user.facility_ids)
    demoting = (
        role != user.role
        or not changes.get("active", True)
        or (user.all_facilities and not all_facilities)
    )
    if admin is not None and user.id == admin.id and demoting:
        raise Conflict(
            "You cannot deactivate yourself, change your own role or give up access to every "
            "facility; ask another administrator."
        )
    if "facility_ids" in changes or "all_facilities" in changes:
        _check_grantable(session, admin, facility_ids, all_facilities)
    check_access_shape(role, all_facilities)
    if "password" in changes:
        check_password_rule(changes["password"])
    return role, all_facilities, facility_ids


def _set_memberships(user: User, facility_ids: Iterable[int]) -> None:
    """Keep the memberships that stay, drop the rest, add the new ones (no unique clash)."""
    wanted = set(facility_ids)
    user.memberships = [m for m in user.memberships if m.facility_id in wanted] + [
        FacilityMembership(facility_id=fid)
        for fid in sorted(wanted - {m.facility_id for m in user.memberships})
    ]


def _revoke_live_tokens(session: Session, user: User) -> int:
    """Revoke every token of the user that is not yet revoked; how many were."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount
