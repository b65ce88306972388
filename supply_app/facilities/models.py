"""Facility: a site that holds stock, places orders and records cases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from supply_app.db import UTCDateTime, utcnow
from supply_app.extensions import db

SITES_OF_SERVICE = ("HOPD", "ASC", "office")
CF_TRACKS = ("non_qualifying", "qualifying_apm")


class Facility(db.Model):
    """A federal or DoD treatment facility with its site of service and ECAT ship-to."""

    __tablename__ = "facility"
    __table_args__ = (
        CheckConstraint("site_of_service IN ('HOPD', 'ASC', 'office')", name="site_of_service"),
        CheckConstraint("cf_track IN ('non_qualifying', 'qualifying_apm')", name="cf_track"),
        CheckConstraint("expiry_window_days BETWEEN 1 AND 730", name="expiry_window_days"),
        CheckConstraint("lead_time_days BETWEEN 0 AND 365", name="lead_time_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_of_service: Mapped[str] = mapped_column(String(10))
    dodaac: Mapped[str] = mapped_column(String(6))
    ship_to_address: Mapped[str] = mapped_column(String(500))
    cf_track: Mapped[str] = mapped_column(String(20), default="non_qualifying")
    expiry_window_days: Mapped[int] = mapped_column(Integer, default=60)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=14)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
