"""Catalog: the ECAT parts and their contract prices over time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supply_app.clock import utcnow
from supply_app.db import UTCDateTime
from supply_app.extensions import db


class Part(db.Model):
    """One orderable ECAT part; stock is counted in eaches, ordered in packs."""

    __tablename__ = "part"
    __table_args__ = (
        CheckConstraint("units_per_pack BETWEEN 1 AND 1000", name="units_per_pack"),
        CheckConstraint(
            "category IN ('handpiece_system', 'smart_tip', 'cartridge')", name="category"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_number: Mapped[str] = mapped_column(String(40), unique=True)
    generation: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(30))
    units_per_pack: Mapped[int] = mapped_column(Integer)
    unit_of_issue: Mapped[str] = mapped_column(String(4))
    tip_spec: Mapped[str | None] = mapped_column(String(100))
    nerve_stimulation: Mapped[bool] = mapped_column(Boolean, default=False)
    contract_number: Mapped[str] = mapped_column(String(30))
    contract_vehicle: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    gtins: Mapped[list[PartGtin]] = relationship(
        back_populates="part", order_by="PartGtin.gtin", cascade="all, delete-orphan"
    )


class PartGtin(db.Model):
    """A GS1 GTIN printed on a part's packaging, and how many eaches that package holds.

    Links come from the catalog file (source "catalog", kept by the sync) or are taught by
    a user who scanned an unknown label (source "taught", audited; the sync leaves them).
    """

    __tablename__ = "part_gtin"
    __table_args__ = (
        CheckConstraint("units BETWEEN 1 AND 1000", name="units"),
        CheckConstraint("source IN ('catalog', 'taught')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    units: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10), default="catalog", server_default="catalog")
    taught_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    taught_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    part: Mapped[Part] = relationship(back_populates="gtins")
    taught_by: Mapped[Any] = relationship("User")


class ContractPrice(db.Model):
    """The contract price of one pack (unit of issue) of a part over a date range."""

    __tablename__ = "contract_price"
    __table_args__ = (
        CheckConstraint("unit_price_cents > 0", name="unit_price_positive"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name="date_order"
        ),
        Index("ix_contract_price_part_from", "part_id", "effective_from", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"))
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    part: Mapped[Part] = relationship()
