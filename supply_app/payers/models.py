"""Payers and their fee tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supply_app.clock import utcnow
from supply_app.db import UTCDateTime
from supply_app.extensions import db

BASES = ("medicare_national", "medicare_locality", "percent_of_medicare", "fee_table", "not_billed")


class Payer(db.Model):
    """A payer category (never anything about a patient) and how it reimburses.

    `revision` goes up with every change to its terms or table, so a case priced under an
    earlier revision is known to be stale.
    """

    __tablename__ = "payer"
    __table_args__ = (
        CheckConstraint(f"basis IN {BASES}", name="basis"),
        CheckConstraint(
            "percent_hundredths IS NULL OR percent_hundredths BETWEEN 0 AND 100000", name="percent"
        ),
        CheckConstraint(
            "basis <> 'percent_of_medicare' OR percent_hundredths IS NOT NULL",
            name="percent_given",
        ),
        CheckConstraint("revision >= 1", name="revision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    basis: Mapped[str] = mapped_column(String(20))
    percent_hundredths: Mapped[int | None] = mapped_column(Integer)
    medicare_rules: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    fees: Mapped[list[PayerFee]] = relationship(
        back_populates="payer",
        cascade="all, delete-orphan",
        order_by="(PayerFee.code, PayerFee.site_of_service, PayerFee.component, "
        "PayerFee.modifier, PayerFee.effective_from)",
    )

    @property
    def fee_rows(self) -> int:
        """How many rows its fee table has (list_payers counts them for a whole list)."""
        counted = self.__dict__.get("counted_fee_rows")
        return len(self.fees) if counted is None else counted

    @property
    def billed(self) -> bool:
        """Whether anything is collected from this payer."""
        return self.basis != "not_billed"


class PayerFee(db.Model):
    """One amount of a payer's fee table: a code's component at a site, over dates."""

    __tablename__ = "payer_fee"
    __table_args__ = (
        UniqueConstraint(
            "payer_id",
            "code",
            "site_of_service",
            "component",
            "modifier",
            "effective_from",
            name="uq_payer_fee_row",
        ),
        CheckConstraint("code IN ('64640', '64624', '0441T', 'C9809')", name="code"),
        CheckConstraint("site_of_service IN ('HOPD', 'ASC', 'office')", name="site_of_service"),
        CheckConstraint("component IN ('facility', 'professional', 'device')", name="component"),
        CheckConstraint("modifier IN ('', '50', '52')", name="modifier"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(5))
    site_of_service: Mapped[str] = mapped_column(String(10))
    component: Mapped[str] = mapped_column(String(12))
    modifier: Mapped[str] = mapped_column(String(2), default="")  # "": any line
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)

    payer: Mapped[Payer] = relationship(back_populates="fees")
