"""Users, passwords, tokens, facility access and the audit trail."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from flask import g, has_request_context, request
from sqlalchemy import Select, bindparam, case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supply_app.auth.models import (
    ALL_FACILITY_ROLES,
    ApiToken,
    AuditEvent,
    FacilityMembership,
    User,
)
from supply_app.auth.rules import (
    DISPLAY_NAME,
    PASSWORD,
    ROLE,
    TOKEN_DAYS,
    TOKEN_NAME,
    TOKEN_PREFIX_SHOWN,
    USERNAME,
)
from supply_app.clock import utcnow
from supply_app.db import UTCDateTime, lock_row
from supply_app.errors import Conflict, Forbidden, InvalidInput, NotFound
from supply_app.rules import RuleBroken

password_hasher = PasswordHasher()
TOKEN_PREFIX = "sat_"  # noqa: S105 - a label, not a secret
LOCKOUT_AFTER_FAILURES = 5
LOCKOUT_SECONDS = 60
_NEVER = datetime.max.replace(tzinfo=UTC)


@functools.cache
def _dummy_hash() -> str:
    return password_hasher.hash(secrets.token_hex(16))


def _spend_one_hash(password: str) -> None:
    """Take as long as a real check, so response time does not reveal which usernames exist."""
    with contextlib.suppress(VerifyMismatchError):
        password_hasher.verify(_dummy_hash(), password)


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return password_hasher.hash(password)


def check_access_shape(role: str, all_facilities: bool) -> None:
    """A known role, and every-facility access only for the roles that may hold it.

    :raises InvalidInput: naming the field to fix.
    """
    ROLE.check(role, "role")
    if all_facilities and role not in ALL_FACILITY_ROLES:
        raise InvalidInput(
            "Only admin and finance users may hold every facility.", field="all_facilities"
        )


def check_password_rule(password: str) -> None:
    """Passwords follow the PASSWORD rule (long enough, no control characters).

    :raises InvalidInput: naming the password field.
    """
    PASSWORD.check(password, "password")


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    facility_ids: Iterable[int] = (),
    all_facilities: bool = False,
    actor: User | None = None,
) -> User:
    """Create a user with a role and facility memberships.

    :raises InvalidInput: unknown role, short password, or all-facility access for a role
        that may not hold it.
    :raises Conflict: the username is taken.
    """
    username = USERNAME.check(username, "username")
    display_name = DISPLAY_NAME.check(display_name, "display_name")
    check_access_shape(role, all_facilities)
    check_password_rule(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise _username_in_use(username)
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        all_facilities=all_facilities,
        memberships=[FacilityMembership(facility_id=fid) for fid in sorted(set(facility_ids))],
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request took the name after the check
        raise _username_in_use(username) from exc
    record_audit(
        session,
        actor=actor,
        action="user.create",
        entity=("user", user.id),
        after=user_snapshot(user),
    )
    return user


def _username_in_use(username: str) -> Conflict:
    """A taken sign-in name: the same words whoever holds it and wherever they work.

    Sign-in names are one namespace, so the clash itself cannot be hidden from whoever may
    create users; nothing else about the holder (facility, role, state) is told.
    """
    return Conflict(
        f"Username {username!r} is already in use. If it is this person's account, ask an "
        "administrator who holds every facility to add your facility to it; otherwise "
        "choose another username.",
        field="username",
    )


def user_snapshot(user: User) -> dict[str, Any]:
    """What the audit trail records of a user (never the password)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "all_facilities": user.all_facilities,
        "facility_ids": user.facility_ids,
        "active": user.active,
    }


def check_password(session: Session, username: str, password: str) -> User | None:
    """Return the user if the password matches, counting every attempt to slow guessing.

    Each attempt is counted in the database before the password is looked at (see
    _claim_attempt), so attempts made at the same moment cannot lose each other's counts:
    at most LOCKOUT_AFTER_FAILURES passwords are checked before the account refuses every
    attempt for LOCKOUT_SECONDS. A right password clears the count. Call it at the start of
    a write transaction (begin_write): the claim holds the user's row until the commit.
    A name that no username could be is refused without asking the database.
    """
    try:
        USERNAME.clean(username)
    except RuleBroken:
        _spend_one_hash(password)
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _spend_one_hash(password)
        if user is not None:  # an unknown name is in the request log, not the audit trail
            _failed_sign_in(session, ("user", user.id))
        return None
    if not _claim_attempt(session, user):
        _spend_one_hash(password)  # a locked account answers no faster than a real check
        _failed_sign_in(session, ("user", user.id), locked=True)
        return None
    try:
        password_hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        _failed_sign_in(session, ("user", user.id))  # already counted by the claim
        return None
    session.execute(
        update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None)
    )
    if password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _failed_sign_in(session: Session, who: tuple[str, Any], *, locked: bool = False) -> None:
    """Audit a refused sign-in: whom it named and the address it came from (AC-7, AU-2)."""
    client = request.remote_addr if has_request_context() else None
    record_audit(
        session,
        actor=None,
        action="user.sign_in_failed",
        entity=who,
        after={"client": client, "locked": locked},
    )


def _claim_attempt(session: Session, user: User) -> bool:
    """Count one sign-in attempt in one conditional UPDATE; False while the account is locked.

    The count and the lock are computed by the database from the row as committed (a
    concurrent attempt waits for this one's row lock), never from a value read earlier.
    A lock that has run out starts the count again; the attempt that reaches the limit sets
    the lock, and is itself still checked. Reaching the limit is audited.
    """
    now = utcnow()
    lapsed = User.locked_until.is_not(None) & (User.locked_until <= now)
    count = case((lapsed, 1), else_=User.failed_logins + 1)
    until = now + timedelta(seconds=LOCKOUT_SECONDS)
    claimed = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(
            failed_logins=count,
            locked_until=case(
                (count >= LOCKOUT_AFTER_FAILURES, literal(until, UTCDateTime())), else_=None
            ),
        )
        .returning(User.failed_logins, User.locked_until)
    ).one_or_none()
    if claimed is None:
        return False
    if claimed.locked_until is not None and claimed.failed_logins == LOCKOUT_AFTER_FAILURES:
        record_audit(
            session,
            actor=None,
            action="user.lockout",
            entity=("user", user.id),
            after={"failed_logins": claimed.failed_logins, "locked_until": until.isoformat()},
        )
    return True


def token_digest(secret: str) -> str:
    """SHA-256 hex of a token secret (tokens are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def lock_user(session: Session, user_id: int) -> User | None:
    """Lock a user's row for this transaction and return it as now committed (None: no user).

    Deactivation, token issue and user edits all take this lock first, so none of them
    can act on what another is changing at the same moment.
    """
    return session.scalar(
        select(User)
        .where(User.id == user_id)
        # FOR NO KEY UPDATE on PostgreSQL: rows that merely point at the user (audit
        # events, idempotency records) take a key-share lock, which this does not block.
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def issue_token(
    session: Session,
    *,
    user: User,
    name: str,
    days: int,
    actor: User | None = None,
    secret: str | None = None,
    not_after: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token; returns the row and the secret, which is never stored.

    `secret` is for the demo loader's reproducible tokens; otherwise a random one is made.
    `not_after` caps its life: a token made with another token never outlives it, so a
    stolen token cannot renew itself past its own expiry or its owner's revocation of it.

    :raises InvalidInput: a name or lifetime its rule refuses.
    :raises Conflict: the user is deactivated (checked under the lock deactivation takes).
    """
    name = TOKEN_NAME.check(name, "name")
    TOKEN_DAYS.check(days, "days")
    locked = lock_user(session, user.id)
    if locked is None or not locked.active:
        raise Conflict(f"User {user.username} is deactivated; a token cannot be issued.")
    secret = secret or TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:12],
        token_hash=token_digest(secret),
        expires_at=min(utcnow() + timedelta(days=days), not_after or _NEVER),
    )
    session.add(token)
    session.flush()
    record_audit(
        session,
        actor=actor or user,
        action="token.issue",
        entity=("api_token", token.id),
        after={
            "user_id": user.id,
            "name": name,
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat(),
        },
    )
    return token, secret


def revoke_token(session: Session, *, token: ApiToken, actor: User | None) -> None:
    """Revoke a token at once; revoking twice is harmless (and audited once)."""
    token = lock_row(session, token)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit(
            session,
            actor=actor,
            action="token.revoke",
            entity=("api_token", token.id),
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at.isoformat()},
        )


def revoke_tokens_by_prefix(session: Session, prefix: str) -> int:
    """Revoke every token whose shown prefix matches; how many there were.

    :raises InvalidInput: not the shape of a shown prefix.
    :raises NotFound: no token has that prefix.
    """
    prefix = TOKEN_PREFIX_SHOWN.check(prefix, "prefix")
    tokens = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).all()
    if not tokens:
        raise NotFound(f"No token with prefix {prefix}.")
    for token in tokens:
        revoke_token(session, token=token, actor=None)
    return len(tokens)


# Token and user in one round trip, built once: this runs before every API request.
_TOKEN_USER = (
    select(ApiToken.revoked_at, ApiToken.expires_at, User)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def user_for_token(session: Session, secret: str) -> tuple[User, datetime] | None:
    """The active user behind a live (unexpired, unrevoked) token and when it expires, or
    None."""
    row = session.execute(_TOKEN_USER, {"token_hash": token_digest(secret)}).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    if not row.User.active:
        return None
    return row.User, row.expires_at


def find_user(session: Session, username: str) -> User:
    """Look a user up by username.

    :raises InvalidInput: not something a username could be.
    :raises NotFound: no such user.
    """
    USERNAME.check(username, "username")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


def facility_ids_for(session: Session, user: User) -> set[int] | None:
    """The facility ids a user may see, or None when they may see every facility."""
    if user.all_facilities:
        return None
    return set(
        session.scalars(
            select(FacilityMembership.facility_id).where(FacilityMembership.user_id == user.id)
        )
    )


def member_facility_ids(user_id: Any) -> Select:
    """The ids of the facilities a user is a member of (user_id may be a bind parameter)."""
    return select(FacilityMembership.facility_id).where(FacilityMembership.user_id == user_id)


def scoped(stmt: Select, column: Any, user: User) -> Select:
    """stmt narrowed to rows whose `column` is a facility the user holds.

    The one way every list is limited to the caller's facilities: a user who holds every
    facility sees everything; anyone else sees their memberships (a subquery, so it costs
    no extra round trip).
    """
    if user.all_facilities:
        return stmt
    return stmt.where(column.in_(member_facility_ids(user.id)))


def can_access_facility(session: Session, user: User, facility_id: int) -> bool:
    """True when the user holds the facility (or all facilities)."""
    allowed = facility_ids_for(session, user)
    return allowed is None or facility_id in allowed


def require_role(user: User, *roles: str) -> None:
    """Refuse with 403 unless the user has one of roles.

    :raises Forbidden: the role may not do this.
    """
    if user.role not in roles:
        raise Forbidden(
            f"Your role ({user.role}) may not do this; it needs one of: {', '.join(roles)}."
        )


def require_every_facility(user: User, why: str) -> None:
    """Refuse with 403 unless the user holds every facility (a change beyond any one facility).

    :raises Forbidden: the user holds only some facilities; the message says why.
    """
    if not user.all_facilities:
        raise Forbidden(
            f"{why}, so only a user who holds every facility may do this; ask an "
            "administrator who does."
        )


def record_audit(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity: tuple[str, Any],
    before: Any = None,
    after: Any = None,
    facility_id: int | None = None,
) -> AuditEvent:
    """Append an audit event for a change to prices, schedules, users, tokens or par levels."""
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity_type=entity[0],
        entity_id=str(entity[1]),
        facility_id=facility_id,
        before=before,
        after=after,
        request_id=g.get("request_id") if has_request_context() else None,
    )
    session.add(event)
    return event
