"""Inventory: lots, the append-only stock ledger, balances, counts and par levels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, query_expression, relationship

from supply_app.catalog.models import Part
from supply_app.clock import utcnow
from supply_app.db import UTCDateTime
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory.rules import (
    MOVEMENT_KIND,
    RECALL_SOURCE,
    RECALL_STATUS,
)

MOVEMENT_KINDS = MOVEMENT_KIND.values
REFERENCE_TYPES = ("order_line", "case", "count", "movement")


def _in(column: str, values: tuple[str, ...]) -> str:
    """SQL text `column IN ('a', 'b')` for a CHECK constraint."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Lot(db.Model):
    """A manufacturer lot of one part with its expiry; a serialised unit is a lot of one."""

    __tablename__ = "lot"
    __table_args__ = (
        UniqueConstraint("part_id", "lot_number"),
        UniqueConstraint("part_id", "serial"),
        CheckConstraint("serial IS NULL OR serial = lot_number", name="serial_is_lot"),
        CheckConstraint("batch IS NULL OR serial IS NOT NULL", name="batch_of_serial"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"))
    lot_number: Mapped[str] = mapped_column(String(40))
    expiry_date: Mapped[date] = mapped_column(Date)
    gtin: Mapped[str | None] = mapped_column(String(14))
    serial: Mapped[str | None] = mapped_column(String(40))
    # A serialised unit's manufacturer batch (GS1 AI 10), so a recall by batch finds it;
    # a lot that is not a serial is its own batch and leaves this empty.
    batch: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    part: Mapped[Part] = relationship(lazy="joined")

    def expired_on(self, on_date: date) -> bool:
        """True when the lot may no longer be used on on_date (expiry is the last good day)."""
        return self.expiry_date < on_date


class StockBalance(db.Model):
    """On-hand eaches and value of one lot at one facility; always equals its ledger sums."""

    __tablename__ = "stock_balance"
    __table_args__ = (
        UniqueConstraint("facility_id", "lot_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("value_cents >= 0", name="value_non_negative"),
        # No value may be stranded on an empty shelf: the last each carries the rest.
        CheckConstraint("on_hand > 0 OR value_cents = 0", name="no_value_without_stock"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: The recall holding the lot, where a query asks for it (balances_query does).
    held_by_recall_id: Mapped[int | None] = query_expression()

    lot: Mapped[Lot] = relationship(lazy="joined")
    # Loaded from the identity map when the facility is already in hand (as in its pages).
    facility: Mapped[Facility] = relationship()


class StockMovement(db.Model):
    """One signed change to a (facility, lot) balance; never updated, never deleted."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        CheckConstraint(_in("kind", MOVEMENT_KINDS), name="kind"),
        CheckConstraint("eaches <> 0", name="eaches_non_zero"),
        CheckConstraint(
            "reference_type IS NULL OR " + _in("reference_type", REFERENCE_TYPES),
            name="reference_type",
        ),
        CheckConstraint(
            "(reference_type IS NULL) = (reference_id IS NULL)", name="reference_complete"
        ),
        Index("ix_stock_movement_facility_id_id", "facility_id", "id"),
        Index("ix_stock_movement_lot_facility", "lot_id", "facility_id", "id"),
        Index("ix_stock_movement_reference", "reference_type", "reference_id"),
        Index("ix_stock_movement_facility_kind_created", "facility_id", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    kind: Mapped[str] = mapped_column(String(20))
    eaches: Mapped[int] = mapped_column(BigInteger)
    value_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(200))
    reference_type: Mapped[str | None] = mapped_column(String(20))
    reference_id: Mapped[int | None] = mapped_column(BigInteger)
    # Unique, so a movement can be reversed at most once even by concurrent requests.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("stock_movement.id"), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lot: Mapped[Lot] = relationship(lazy="joined")
    #: The RGA of a return to the vendor (ledger pages load it in one batch).
    vendor_return: Mapped[VendorReturn | None] = relationship(
        primaryjoin="VendorReturn.movement_id == StockMovement.id", viewonly=True
    )


class StockCount(db.Model):
    """A physical count of one lot at one facility: what was counted and what the books said."""

    __tablename__ = "stock_count"
    __table_args__ = (
        CheckConstraint("counted >= 0", name="counted_non_negative"),
        CheckConstraint("previous_on_hand >= 0", name="previous_non_negative"),
        Index("ix_stock_count_facility_id_id", "facility_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"))
    counted: Mapped[int] = mapped_column(BigInteger)
    previous_on_hand: Mapped[int] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ParLevel(db.Model):
    """Minimum and maximum eaches of a part a facility wants on the shelf."""

    __tablename__ = "par_level"
    __table_args__ = (
        UniqueConstraint("facility_id", "part_id"),
        CheckConstraint("min_eaches >= 0", name="min_non_negative"),
        CheckConstraint("max_eaches >= min_eaches AND max_eaches > 0", name="max_above_min"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"))
    min_eaches: Mapped[int] = mapped_column(Integer)
    max_eaches: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    part: Mapped[Part] = relationship(lazy="joined")


class Recall(db.Model):
    """A recall notice and its lots; while it is not released, its lots are on hold everywhere."""

    __tablename__ = "recall"
    __table_args__ = (
        UniqueConstraint("source", "notice_number"),
        CheckConstraint(_in("source", RECALL_SOURCE.values), name="source"),
        CheckConstraint(_in("status", RECALL_STATUS.values), name="status"),
        CheckConstraint("(status = 'open') = (ended_at IS NULL)", name="ended_when_not_open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    notice_number: Mapped[str] = mapped_column(String(40))
    notice_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="open")
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_note: Mapped[str | None] = mapped_column(String(500))

    lots: Mapped[list[RecallLot]] = relationship(
        back_populates="recall", order_by="RecallLot.id", lazy="selectin"
    )

    @property
    def label(self) -> str:
        """How people name the recall: its source and notice number."""
        return f"{RECALL_SOURCE.words(self.source)} notice {self.notice_number}"


class RecallLot(db.Model):
    """A lot a recall names, by part and lot number (it may not have reached any shelf yet)."""

    __tablename__ = "recall_lot"
    __table_args__ = (
        UniqueConstraint("recall_id", "part_id", "lot_number"),
        Index("ix_recall_lot_part_lot", "part_id", "lot_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("recall.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("part.id"))
    lot_number: Mapped[str] = mapped_column(String(40))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recall: Mapped[Recall] = relationship(back_populates="lots")
    part: Mapped[Part] = relationship(lazy="joined")


class VendorReturn(db.Model):
    """A return to the vendor: its ledger row, the RGA it ships under and the credit due."""

    __tablename__ = "vendor_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("stock_movement.id"), unique=True)
    rga_number: Mapped[str] = mapped_column(String(30), index=True)
    rga_date: Mapped[date] = mapped_column(Date)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_order_line.id"))
    credit_memo: Mapped[str | None] = mapped_column(String(30))
    credited_on: Mapped[date | None] = mapped_column(Date)
    credited_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    movement: Mapped[StockMovement] = relationship(lazy="joined")

    @property
    def credit_cents(self) -> int:
        """The credit due: the value the stock left at."""
        return -self.movement.value_cents


class LedgerIsAppendOnly(RuntimeError):
    """Code tried to change or delete a stock movement (a programming error, not input)."""


def _refuse_change(_mapper: Any, _connection: Any, target: StockMovement) -> None:
    raise LedgerIsAppendOnly(
        f"Stock movement {target.id} cannot be changed or deleted; post a reversal instead."
    )


event.listen(StockMovement, "before_update", _refuse_change)
event.listen(StockMovement, "before_delete", _refuse_change)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: Any) -> None:
    """Bulk ORM UPDATE/DELETE statements bypass mapper events, so refuse them here."""
    if (state.is_update or state.is_delete) and state.is_orm_statement:
        mapper = state.bind_arguments.get("mapper")
        if mapper is not None and mapper.class_ is StockMovement:
            raise LedgerIsAppendOnly("Bulk UPDATE/DELETE of stock_movement is not allowed.")
