"""Facility: a site that holds stock, places orders and records cases."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supply_app.clock import today_in, utcnow
from supply_app.db import UTCDateTime
from supply_app.extensions import db
from supply_app.facilities.rules import SITE_OF_SERVICE
from supply_app.payers.models import Payer

SITES_OF_SERVICE = SITE_OF_SERVICE.values


class Facility(db.Model):
    """A federal or DoD treatment facility with its site of service and ECAT ship-to."""

    __tablename__ = "facility"
    __table_args__ = (
        CheckConstraint("site_of_service IN ('HOPD', 'ASC', 'office')", name="site_of_service"),
        CheckConstraint("cf_track IN ('non_qualifying', 'qualifying_apm')", name="cf_track"),
        CheckConstraint("expiry_window_days BETWEEN 1 AND 730", name="expiry_window_days"),
        CheckConstraint("lead_time_days BETWEEN 0 AND 365", name="lead_time_days"),
        CheckConstraint("wage_index BETWEEN 1 AND 99999", name="wage_index"),
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
    #: IANA zone: the facility's own calendar day decides expiry, dates of service and the
    #: Julian date of its document numbers; timestamps are shown in it.
    time_zone: Mapped[str] = mapped_column(String(64))
    #: Whether the case form ticks "Bill the device (C9809)" for a new case here.
    bill_device_by_default: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    #: The payer category a new case here takes unless the user names another.
    default_payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"))
    #: The hospital wage index in ten-thousandths (1.0842 is 10842), for a locality payer.
    wage_index: Mapped[int | None] = mapped_column(Integer)
    #: Whether the Medicare contractor here requires 0441T for iovera (CGS, J15) instead of
    #: 64640 and 64624: the case form then offers 0441T.
    bills_0441t: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Loaded with the facility (one statement): recording a case needs both, and a round
    # trip saved on the hottest write path is worth a join on every facility read.
    default_payer: Mapped[Payer] = relationship(lazy="joined", innerjoin=True)
    # `equipment_cost`, the facility's own equipment figure (serial "") or None, is added
    # by the cases domain, which owns equipment costs (see cases.models).

    def today(self) -> date:
        """The calendar date it is now at the facility."""
        return today_in(self.time_zone)
