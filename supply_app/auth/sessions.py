"""UI sign-in sessions: one record per sign-in, so sign-out ends exactly that one for good.

The browser's signed session cookie carries a random secret; the server keeps its SHA-256
with the user's session epoch and an expiry. Sign-out ends the record, so a copy of the
cookie taken before it opens nothing afterwards, while the user's other browsers stay
signed in. Bumping the user's epoch (deactivation, a new password) ends every record.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from supply_app.auth.models import User, UserSession
from supply_app.auth.service import record_audit, token_digest
from supply_app.clock import utcnow


def start_session(session: Session, *, user: User, hours: int) -> str:
    """Record a new sign-in of user lasting `hours`; returns its secret (set on the user).

    The user's ended and expired records are deleted first (sign-ins stay in the audit
    trail), so the table holds live sessions and few others.
    """
    now = utcnow()
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(
                UserSession.ended_at.is_not(None),
                UserSession.expires_at <= now,
                UserSession.epoch != user.session_epoch,
            ),
        )
    )
    secret = secrets.token_urlsafe(32)
    record = UserSession(
        user_id=user.id,
        token_hash=token_digest(secret),
        epoch=user.session_epoch,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(record)
    session.flush()
    record_audit(
        session,
        actor=user,
        action="session.start",
        entity=("user_session", record.id),
        after={"expires_at": record.expires_at.isoformat()},
    )
    user.session_secret = secret
    return secret


# Session and user in one round trip, built once: this runs before every signed-in page.
_SESSION_USER = (
    select(UserSession.ended_at, UserSession.expires_at, UserSession.epoch, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)


def user_for_session(session: Session, secret: str) -> User | None:
    """The active user of a live sign-in (not ended, not expired, epoch current), or None."""
    row = session.execute(_SESSION_USER, {"token_hash": token_digest(secret)}).one_or_none()
    if row is None or row.ended_at is not None or row.expires_at <= utcnow():
        return None
    user = row.User
    if not user.active or row.epoch != user.session_epoch:
        return None
    user.session_secret = secret
    return user


#: The signed cookie's key for the time of the last request, in wall-clock seconds. It is
#: signed with the secret key, so a browser cannot move it; a copy of an idle cookie stays idle.
LAST_SEEN = "seen"
#: Refresh the time at most this often, so a busy page does not re-send its cookie each time.
SEEN_EVERY_SECONDS = 60


def idle_too_long(cookie: MutableMapping[str, Any], idle_minutes: int) -> bool:
    """Whether the signed-in browser has sent nothing for idle_minutes (or never said when);
    otherwise note this request's time in its cookie (at most once a minute)."""
    now = int(time.time())
    seen = cookie.get(LAST_SEEN)
    if not isinstance(seen, int) or now - seen > idle_minutes * 60:
        return True
    if now - seen >= SEEN_EVERY_SECONDS:
        cookie[LAST_SEEN] = now
    return False


def mark_seen(cookie: MutableMapping[str, Any]) -> None:
    """Start the idle clock of a new sign-in."""
    cookie[LAST_SEEN] = int(time.time())


def end_session(session: Session, *, user: User, secret: str) -> None:
    """End one sign-in now (sign-out); ending it twice changes nothing."""
    ended = session.execute(
        update(UserSession)
        .where(
            UserSession.token_hash == token_digest(secret),
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
        .returning(UserSession.id)
    ).scalar_one_or_none()
    if ended is not None:
        record_audit(
            session, actor=user, action="session.end", entity=("user_session", ended), after=None
        )
