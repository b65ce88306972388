"""Who wants mail (address and digest choice) and every message owed or sent (the outbox)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supply_app.auth.models import User
from supply_app.clock import utcnow
from supply_app.db import UTCDateTime
from supply_app.extensions import db
from supply_app.notifications.rules import NOTICE_KIND, NOTICE_STATUS


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class NotificationPreference(db.Model):
    """A user's email address and whether they want the daily digest."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Notice(db.Model):
    """One message owed to one user: a digest for a day, or a recall notice.

    `key` is unique, so a digest for a user and day (or a recall notice for a user) can be
    claimed once however many senders run; a claim is committed before the message goes out.
    """

    __tablename__ = "notice"
    __table_args__ = (
        CheckConstraint(_in("kind", NOTICE_KIND.values), name="kind"),
        CheckConstraint(_in("status", NOTICE_STATUS.values), name="status"),
        Index("ix_notice_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    #: The facility-local day a digest is for (the user's first facility's calendar).
    day: Mapped[date | None] = mapped_column(Date)
    recall_id: Mapped[int | None] = mapped_column(ForeignKey("recall.id"))
    status: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    items: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
