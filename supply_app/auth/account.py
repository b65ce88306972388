"""What users change for themselves: their password and the facility they start in."""

from __future__ import annotations

from sqlalchemy.orm import Session

from supply_app.auth.models import User
from supply_app.auth.service import (
    can_access_facility,
    check_password,
    check_password_rule,
    hash_password,
    record_audit,
)
from supply_app.errors import InvalidInput, NotFound

WRONG_CURRENT_PASSWORD = "Your current password is not right; type it again."  # noqa: S105


def change_own_password(session: Session, *, user: User, current: str, new: str) -> User:
    """Set a new password for the user, who proves the current one first; audited.

    A wrong current password counts as a failed sign-in (the same lockout), so a session
    left open on a shared workstation cannot be used to guess it. Every other sign-in of
    the user ends (their browsers must sign in with the new password); call it inside a
    write transaction (begin_write), as sign-in does.

    :raises InvalidInput: the current password is wrong (or the account is paused), the new
        one breaks the password rule, or it is the same as the current one.
    """
    check_password_rule(new)
    if check_password(session, user.username, current) is None:
        raise InvalidInput(WRONG_CURRENT_PASSWORD, field="current_password")
    if current == new:
        raise InvalidInput(
            "The new password is the same as the current one; choose another.", field="password"
        )
    user.password_hash = hash_password(new)
    user.session_epoch += 1
    session.flush()
    record_audit(
        session,
        actor=user,
        action="user.password_change",
        entity=("user", user.id),
        after={"password": "changed by its user"},
    )
    return user


def set_default_facility(session: Session, *, user: User, facility_id: int | None) -> User:
    """The facility the user's sign-ins start in (None: the first one they hold); audited.

    :raises NotFound: a facility the user does not hold (the 404 of reading it).
    """
    if facility_id is not None and not can_access_facility(session, user, facility_id):
        raise NotFound(f"No facility with id {facility_id}.")
    before = user.default_facility_id
    if before != facility_id:
        user.default_facility_id = facility_id
        session.flush()
        record_audit(
            session,
            actor=user,
            action="user.default_facility",
            entity=("user", user.id),
            before={"default_facility_id": before},
            after={"default_facility_id": facility_id},
        )
    return user
