"""Purchase orders on the ECAT contract, their lines, receipts and MILSTRIP serials."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    exists,
)
from sqlalchemy.orm import Mapped, aliased, column_property, mapped_column, relationship

from supply_app.auth.models import User
from supply_app.catalog.models import Part
from supply_app.clock import utcnow
from supply_app.db import UTCDateTime
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory.models import StockMovement
from supply_app.ordering.rules import MAX_PACKS

CONTRACT_NUMBER = "SPE2DE-21-D-7004"
_Reversal = aliased(StockMovement)
#: Orders whose unreceived packs count as "on order" for reorder suggestions.
OPEN_STATUSES = ("submitted", "approved", "partially_received")


class PurchaseOrder(db.Model):
    """A requisition for one facility on the ECAT contract, from draft to received."""

    __tablename__ = "purchase_order"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'partially_received', 'received', "
            "'cancelled')",
            name="status",
        ),
        CheckConstraint("priority BETWEEN 1 AND 15", name="priority"),
        CheckConstraint("length(fund_code) = 2", name="fund_code"),
        CheckConstraint(
            "status = 'draft' OR status = 'cancelled' OR document_number IS NOT NULL",
            name="document_number_after_submit",
        ),
        Index("ix_purchase_order_facility_status", "facility_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    contract_number: Mapped[str] = mapped_column(String(30), default=CONTRACT_NUMBER)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: MILSTRIP requisition number: ship-to DoDAAC + YDDD + 4-digit serial; set on submit.
    document_number: Mapped[str | None] = mapped_column(String(14), unique=True)
    ship_to_dodaac: Mapped[str | None] = mapped_column(String(6))
    fund_code: Mapped[str] = mapped_column(String(2))
    priority: Mapped[int] = mapped_column(Integer)
    required_delivery_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(String(1000))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    facility: Mapped[Facility] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="order", order_by="PurchaseOrderLine.id", cascade="all, delete-orphan"
    )
    receipts: Mapped[list[OrderReceipt]] = relationship(
        back_populates="order", order_by="OrderReceipt.id"
    )

    @property
    def total_cents(self) -> int | None:
        """Sum of the lines' extended prices; None until prices are snapshotted on submit."""
        extended = [line.extended_cents for line in self.lines]
        if not extended or None in extended:
            return None
        return sum(extended)  # type: ignore[arg-type]


class PurchaseOrderLine(db.Model):
    """Packs of one catalog part on an order, with the pack price snapshotted on submit."""

    __tablename__ = "purchase_order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "part_id"),
        CheckConstraint(f"packs BETWEEN 1 AND {MAX_PACKS}", name="packs"),
        CheckConstraint("received_packs BETWEEN 0 AND packs", name="received_packs"),
        CheckConstraint("units_per_pack >= 1", name="units_per_pack"),
        CheckConstraint(
            "unit_price_cents IS NULL OR unit_price_cents > 0", name="unit_price_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id", ondelete="CASCADE"))
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"), index=True)
    packs: Mapped[int] = mapped_column(Integer)
    units_per_pack: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    contract_price_id: Mapped[int | None] = mapped_column(ForeignKey("contract_price.id"))
    received_packs: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    part: Mapped[Part] = relationship()

    @property
    def extended_cents(self) -> int | None:
        """Packs × pack price, or None before the price is snapshotted."""
        return None if self.unit_price_cents is None else self.packs * self.unit_price_cents

    @property
    def outstanding_packs(self) -> int:
        """Packs ordered but not yet received."""
        return self.packs - self.received_packs


class OrderReceipt(db.Model):
    """One delivery received against an order: who, when, and what arrived."""

    __tablename__ = "order_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"), index=True)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))

    order: Mapped[PurchaseOrder] = relationship(back_populates="receipts")
    received_by: Mapped[User] = relationship()
    lines: Mapped[list[OrderReceiptLine]] = relationship(
        back_populates="receipt", order_by="OrderReceiptLine.id", cascade="all, delete-orphan"
    )


class OrderReceiptLine(db.Model):
    """Packs of one order line received as one lot, and the stock movement that booked them."""

    __tablename__ = "order_receipt_line"
    __table_args__ = (
        CheckConstraint(f"packs BETWEEN 1 AND {MAX_PACKS}", name="packs"),
        CheckConstraint("eaches >= 1", name="eaches"),
        CheckConstraint("value_cents >= 0", name="value_cents"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("order_receipt.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_line.id"), index=True)
    packs: Mapped[int] = mapped_column(Integer)
    eaches: Mapped[int] = mapped_column(Integer)
    lot_number: Mapped[str] = mapped_column(String(40))
    expiry_date: Mapped[date] = mapped_column(Date)
    value_cents: Mapped[int] = mapped_column(BigInteger)
    movement_id: Mapped[int] = mapped_column(ForeignKey("stock_movement.id"), unique=True)

    receipt: Mapped[OrderReceipt] = relationship(back_populates="lines")
    order_line: Mapped[PurchaseOrderLine] = relationship()
    #: Whether the receipt was undone: its movement has a reversal (loaded with the line).
    undone: Mapped[bool] = column_property(
        exists().where(_Reversal.reverses_id == movement_id).correlate_except(_Reversal),
        deferred=False,
    )


class RequisitionSerial(db.Model):
    """The last MILSTRIP serial used for a DoDAAC on a Julian date (YDDD).

    Keyed by the four-character YDDD rather than the full date, so serials keep counting
    when the YDDD recurs a decade later and document numbers never repeat.
    """

    __tablename__ = "requisition_serial"
    __table_args__ = (CheckConstraint("last_serial BETWEEN 1 AND 9999", name="last_serial"),)

    dodaac: Mapped[str] = mapped_column(String(6), primary_key=True)
    julian_date: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)
