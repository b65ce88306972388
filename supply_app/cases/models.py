"""Procedure cases, their coded procedures and supplies, and fee-schedule overrides."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supply_app.clock import utcnow
from supply_app.db import UTCDateTime
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.payers.models import Payer


class ProcedureCase(db.Model):
    """One coded procedure at a facility with its priced snapshot; no patient data at all.

    The site of service and CF track are copied from the facility when the case is
    recorded, so a later change to the facility never re-labels history. Amounts are the
    coding module's result in cents; device_cents is NULL while the device is unpriced.
    """

    __tablename__ = "procedure_case"
    __table_args__ = (
        UniqueConstraint("facility_id", "reference"),
        CheckConstraint("status IN ('recorded', 'voided')", name="status"),
        CheckConstraint("laterality IN ('RT', 'LT', 'bilateral')", name="laterality"),
        CheckConstraint("site_of_service IN ('HOPD', 'ASC', 'office')", name="site_of_service"),
        CheckConstraint(
            "(status = 'voided') = (voided_at IS NOT NULL AND void_reason IS NOT NULL)",
            name="void_fields",
        ),
        CheckConstraint("device_priced = (device_cents IS NOT NULL)", name="device_priced"),
        CheckConstraint("collection_cents >= 0", name="collection_not_negative"),
        CheckConstraint("equipment_cents >= 0", name="equipment_not_negative"),
        Index("ix_procedure_case_facility_dos", "facility_id", "date_of_service"),
        Index("ix_procedure_case_payer_id", "payer_id"),
        Index("ix_procedure_case_dos", "date_of_service"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    reference: Mapped[str] = mapped_column(String(32))
    date_of_service: Mapped[date] = mapped_column(Date)
    laterality: Mapped[str] = mapped_column(String(10))
    site_of_service: Mapped[str] = mapped_column(String(10))
    cf_track: Mapped[str] = mapped_column(String(20))
    code_mix: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="recorded")
    schedule_year: Mapped[int] = mapped_column(Integer)
    schedule_version: Mapped[str] = mapped_column(String(80))
    facility_cents: Mapped[int] = mapped_column(BigInteger)
    professional_cents: Mapped[int] = mapped_column(BigInteger)
    device_cents: Mapped[int | None] = mapped_column(BigInteger)
    device_priced: Mapped[bool] = mapped_column(Boolean)
    #: Every component of the benchmark priced (a contractor-priced 0441T has no amount).
    reimbursement_complete: Mapped[bool] = mapped_column(Boolean)
    reimbursement_cents: Mapped[int] = mapped_column(BigInteger)
    warnings: Mapped[Any] = mapped_column(JSON)
    pricing: Mapped[Any] = mapped_column(JSON)
    priced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    void_reason: Mapped[str | None] = mapped_column(String(500))
    #: The payer category (never anything about the patient) and the revision of its terms
    #: the collection was priced under; the Medicare figures above stay the benchmark.
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"))
    payer_revision: Mapped[int] = mapped_column(Integer)
    billed: Mapped[bool] = mapped_column(Boolean)
    collection_cents: Mapped[int] = mapped_column(BigInteger)
    collection_complete: Mapped[bool] = mapped_column(Boolean)
    collection: Mapped[Any] = mapped_column(JSON)
    #: The facility's wage index (ten-thousandths) a locality payer's price used.
    wage_index: Mapped[int | None] = mapped_column(Integer)
    #: The handpiece used, when the user named it, and its amortised cost for this case.
    handpiece_serial: Mapped[str | None] = mapped_column(String(20), index=True)
    equipment_cents: Mapped[int] = mapped_column(BigInteger)

    facility: Mapped[Facility] = relationship()
    payer: Mapped[Payer] = relationship()
    procedures: Mapped[list[CaseProcedure]] = relationship(
        back_populates="case", order_by="CaseProcedure.position", cascade="all, delete-orphan"
    )
    supplies: Mapped[list[CaseSupply]] = relationship(
        back_populates="case", order_by="CaseSupply.id", cascade="all, delete-orphan"
    )


class CaseProcedure(db.Model):
    """One coded procedure line of a case (64640 with nerves, 64624 with nerves, C9809)."""

    __tablename__ = "case_procedure"
    __table_args__ = (
        UniqueConstraint("case_id", "position"),
        CheckConstraint("code IN ('64640', '64624', '0441T', 'C9809')", name="code"),
        CheckConstraint("units BETWEEN 1 AND 99", name="units"),
        Index("ix_case_procedure_code_case", "code", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("procedure_case.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(5))
    laterality: Mapped[str | None] = mapped_column(String(2))
    units: Mapped[int] = mapped_column(Integer)
    nerves: Mapped[Any] = mapped_column(JSON)
    modifiers: Mapped[Any] = mapped_column(JSON)

    case: Mapped[ProcedureCase] = relationship(back_populates="procedures")


class CaseSupply(db.Model):
    """A supply line of a case: the issue movement that consumed it, and how it was chosen."""

    __tablename__ = "case_supply"
    __table_args__ = (
        CheckConstraint("eaches BETWEEN 1 AND 1000", name="eaches"),
        CheckConstraint("source IN ('lot', 'scan', 'fefo')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("procedure_case.id", ondelete="CASCADE"), index=True
    )
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("stock_movement.id"), unique=True)
    eaches: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10))

    case: Mapped[ProcedureCase] = relationship(back_populates="supplies")


class FeeOverride(db.Model):
    """A fee-schedule amount set by finance (e.g. C9809 per year and site of service)."""

    __tablename__ = "fee_override"
    __table_args__ = (
        UniqueConstraint("year", "code", "site_of_service"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("site_of_service IN ('HOPD', 'ASC', 'office')", name="site_of_service"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(5))
    site_of_service: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EquipmentCost(db.Model):
    """How a handpiece's cost reaches each case: straight-line over its life and its cases.

    Per case: (acquisition − salvage) ÷ (years of life × cases per year), in cents rounded
    half up. A row with a serial costs that handpiece; the row with serial "" is the
    facility's figure for any handpiece it has no row for.
    """

    __tablename__ = "equipment_cost"
    __table_args__ = (
        UniqueConstraint("facility_id", "serial"),
        CheckConstraint("acquisition_cents >= 0", name="acquisition_not_negative"),
        CheckConstraint("salvage_cents BETWEEN 0 AND acquisition_cents", name="salvage"),
        CheckConstraint("life_years BETWEEN 1 AND 30", name="life_years"),
        CheckConstraint("cases_per_year BETWEEN 1 AND 100000", name="cases_per_year"),
        CheckConstraint("per_case_cents >= 0", name="per_case_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    serial: Mapped[str] = mapped_column(String(20))
    acquisition_cents: Mapped[int] = mapped_column(BigInteger)
    salvage_cents: Mapped[int] = mapped_column(BigInteger)
    life_years: Mapped[int] = mapped_column(Integer)
    cases_per_year: Mapped[int] = mapped_column(Integer)
    per_case_cents: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# Loaded with the facility in the same statement: recording a case needs both.
Facility.equipment_cost = relationship(  # type: ignore[assignment]
    EquipmentCost,
    primaryjoin=and_(EquipmentCost.facility_id == Facility.id, EquipmentCost.serial == ""),
    lazy="joined",
    uselist=False,
    viewonly=True,
)
