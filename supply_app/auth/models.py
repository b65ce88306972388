"""Users, facility memberships, API tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supply_app.auth.rules import ROLE
from supply_app.clock import utcnow
from supply_app.db import UTCDateTime
from supply_app.extensions import db

ROLES = ROLE.values
ALL_FACILITY_ROLES = ("admin", "finance")


class User(UserMixin, db.Model):
    """A person who signs in to the UI or calls the API with a token."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'purchaser', 'materials', 'clinician', 'finance', 'viewer')",
            name="role",
        ),
        CheckConstraint(
            "NOT all_facilities OR role IN ('admin', 'finance')", name="all_facilities_role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    all_facilities: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Copied into every sign-in record: bumping it (deactivation, new password) ends them all.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The facility the UI starts in after sign-in (None: the first one the user holds).
    default_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))

    memberships: Mapped[list[FacilityMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def facility_ids(self) -> list[int]:
        """The ids of the facilities the user is a member of, ascending."""
        return sorted(m.facility_id for m in self.memberships)

    # The secret of the sign-in this request runs under (set by sign-in and by the session
    # loader; never stored): what Flask-Login keeps in the session cookie.
    session_secret = None  # str once a sign-in is started or loaded

    def get_id(self) -> str:
        """Flask-Login: the secret of this browser's sign-in record, never the user's id.

        :raises RuntimeError: no sign-in was started (a session must be revocable).
        """
        if self.session_secret is None:
            raise RuntimeError("Start a sign-in (auth.sessions.start_session) before login_user.")
        return self.session_secret

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Flask-Login: deactivated users cannot sign in."""
        return self.active


class FacilityMembership(db.Model):
    """Grants a user access to one facility."""

    __tablename__ = "facility_membership"
    __table_args__ = (UniqueConstraint("user_id", "facility_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), index=True)

    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """One sign-in to the UI: revocable on its own (sign-out) or with all of a user's.

    The browser holds a random secret in its signed session cookie; only its SHA-256 is
    stored. A session counts while it is not ended, not past expires_at, and its epoch is
    still the user's session_epoch.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    epoch: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(db.Model):
    """Who changed what and when, with the values before and after (append-only)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
