"""Preferences and the outbox: who wants mail, and every notice owed, claimed and sent.

A notice is claimed (status 'claimed', committed by the caller) before its message goes out
and marked 'sent' after; a run that fails to send marks it 'failed' so the next run tries
again. A run that stopped between claim and confirmation leaves it 'claimed': the message
may have gone, so it is not sent again unless someone asks (`notify send
--resend-unconfirmed`), and every run reports it. Services here never commit.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from supply_app.auth.models import FacilityMembership, User
from supply_app.clock import utcnow
from supply_app.errors import InvalidInput
from supply_app.inventory import service as inventory
from supply_app.inventory.ledger import upsert
from supply_app.inventory.models import Recall, RecallLot
from supply_app.notifications.models import Notice, NotificationPreference
from supply_app.notifications.rules import EMAIL

#: Who hears of a recall at a facility holding its lots: everyone who could use, move,
#: order or oversee the stock there.
RECALL_NOTICE_ROLES = ("admin", "materials", "clinician", "purchaser")
#: A claim older than this with no confirmation is from a run that stopped.
UNCONFIRMED_AFTER = timedelta(minutes=15)
#: How long such claims are reported by every run (then they are old news).
REPORT_UNCONFIRMED_FOR = timedelta(days=7)


def preference(session: Session, user: User) -> NotificationPreference:
    """The user's preference (a default, not yet stored, when they never set one)."""
    found = session.get(NotificationPreference, user.id)
    return found or NotificationPreference(user_id=user.id, email=None, daily_digest=False)


def set_preference(
    session: Session, *, user: User, email: str | None, daily_digest: bool
) -> NotificationPreference:
    """Set a user's address (None clears it) and whether they get the daily digest.

    :raises InvalidInput: an address its rule refuses, or the digest without an address.
    """
    email = None if email is None else EMAIL.check(email, "email")
    if daily_digest and email is None:
        raise InvalidInput("Give an email address to receive the daily digest.", field="email")
    found = session.get(NotificationPreference, user.id)
    if found is None:
        found = NotificationPreference(user_id=user.id)
        session.add(found)
    found.email, found.daily_digest, found.updated_at = email, bool(daily_digest), utcnow()
    session.flush()
    return found


def digest_subscribers(session: Session) -> list[tuple[User, str]]:
    """Active users who asked for the digest, with their address, by username."""
    rows = session.execute(
        select(User, NotificationPreference.email)
        .join(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(
            User.active.is_(True),
            NotificationPreference.daily_digest.is_(True),
            NotificationPreference.email.is_not(None),
        )
        .order_by(User.username)
    ).all()
    return [(user, email) for user, email in rows]


def _recipients(session: Session, facility_ids: set[int]) -> list[tuple[User, str | None]]:
    """Active users of the recall roles at any of the facilities (or at all), with addresses."""
    if not facility_ids:
        return []
    members = select(FacilityMembership.user_id).where(
        FacilityMembership.facility_id.in_(facility_ids)
    )
    rows = session.execute(
        select(User, NotificationPreference.email)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(
            User.active.is_(True),
            User.role.in_(RECALL_NOTICE_ROLES),
            or_(User.all_facilities.is_(True), User.id.in_(members)),
        )
        .order_by(User.id)
    ).all()
    return [(user, email) for user, email in rows]


def queue_recall_notices(session: Session, recall: Recall, lots: list[RecallLot]) -> list[Notice]:
    """A pending notice for each person at the facilities holding these lots of the recall.

    Written in the caller's transaction, with the hold: if the recall commits, its notices
    are owed. Someone without an address still gets a row, so every run reports them.
    """
    facility_ids = inventory.holding_facility_ids(session, lots)
    event = max(item.id for item in lots)
    notices = [
        Notice(
            key=f"recall:{recall.id}:{event}:{user.id}",
            kind="recall",
            user_id=user.id,
            recall_id=recall.id,
            status="pending",
            email=email,
            items=len(lots),
            attempts=0,
            created_at=utcnow(),
        )
        for user, email in _recipients(session, facility_ids)
    ]
    session.add_all(notices)
    session.flush()
    return notices


def claim(session: Session, notice_id: int, *, resend_unconfirmed: bool = False) -> bool:
    """Take a pending or failed notice for sending (and, when asked, one a stopped run left
    claimed); False when another run has it or it was sent."""
    allowed = [Notice.status.in_(("pending", "failed"))]
    if resend_unconfirmed:
        allowed.append(
            (Notice.status == "claimed") & (Notice.claimed_at < utcnow() - UNCONFIRMED_AFTER)
        )
    result = session.execute(
        update(Notice)
        .where(Notice.id == notice_id, or_(*allowed))
        .values(status="claimed", claimed_at=utcnow(), attempts=Notice.attempts + 1, error=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def current_address(session: Session, user: User) -> str | None:
    """The address the user has on file now (a notice owed goes where they read mail today)."""
    return preference(session, user).email


def claim_digest(
    session: Session,
    user: User,
    email: str,
    day: date,
    items: int,
    *,
    resend_unconfirmed: bool = False,
) -> tuple[Notice, bool]:
    """Claim the user's digest for a day: a new notice, or one a failed run left. The notice
    as stored, and whether this run claimed it (if not, it was sent or another run has it)."""
    key = f"digest:{user.id}:{day.isoformat()}"
    now = utcnow()
    session.execute(
        upsert(session, Notice)
        .values(
            key=key,
            kind="digest",
            user_id=user.id,
            day=day,
            status="pending",
            email=email,
            items=items,
            attempts=0,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
    notice = session.scalar(select(Notice).where(Notice.key == key))
    claimed = claim(session, notice.id, resend_unconfirmed=resend_unconfirmed)
    session.refresh(notice)
    if claimed:
        notice.email, notice.items = email, items
        session.flush()
    return notice, claimed


def outstanding_recall_notices(session: Session) -> list[Notice]:
    """Recall notices not yet sent (pending, failed or claimed), oldest first."""
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.kind == "recall", Notice.status != "sent")
            .order_by(Notice.id)
        )
    )


def mark(session: Session, notice: Notice, error: str | None = None) -> None:
    """Record how sending went: sent, or failed with the reason (sent again next run)."""
    notice.status = "failed" if error else "sent"
    notice.error = error[:500] if error else None
    notice.sent_at = None if error else utcnow()
    session.flush()


def unconfirmed(session: Session) -> list[Notice]:
    """Notices claimed in the last week and never confirmed: a run still sending them, or one
    that stopped between claim and send (they may have gone)."""
    return list(
        session.scalars(
            select(Notice)
            .where(
                Notice.status == "claimed",
                Notice.claimed_at >= utcnow() - REPORT_UNCONFIRMED_FOR,
            )
            .order_by(Notice.id)
        )
    )


def notice_summary(session: Session, recall_id: int) -> str:
    """How the recall's notices stand, in words: sent, owed, and without an address."""
    counts = dict(
        session.execute(
            select(Notice.status, func.count())
            .where(Notice.recall_id == recall_id)
            .group_by(Notice.status)
        ).all()
    )
    if not counts:
        return "No notices: no facility held the lots when they were put on hold."
    sent = counts.get("sent", 0)
    owed = sum(counts.values()) - sent
    return f"{sent} notices sent" + (
        f", {owed} not sent yet (the next scheduled mail run sends them)" if owed else ""
    )
