"""Random stock histories across three facilities never break the ledger or lose a cent.

A Python model replays the costing rules independently (moving average, half-up cents, the
last each takes what is left); after every step the database must agree with it exactly,
agree with its own ledger, hold nothing negative, and have conserved value across transfers.
"""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from supply_app.catalog.models import Part
from supply_app.errors import DomainError
from supply_app.extensions import db
from supply_app.inventory import service
from supply_app.inventory.models import StockBalance
from tests.support.factories import make_facility, sync_parts
from tests.support.inventory import in_days

FACILITIES = st.integers(0, 2)
LOTS = st.integers(0, 1)
QTY = st.integers(1, 25)


def half_up_share(on_hand: int, value: int, n: int) -> int:
    """The model's own statement of the costing rule (not the service's function)."""
    if n == on_hand:
        return value
    return round_half_up(value * n, on_hand)


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if 2 * remainder >= denominator else 0)


class StockMachine(RuleBasedStateMachine):
    """Receipts, issues, transfers, waste, counts, adjustments and reversals at random."""

    movements = Bundle("movements")
    part_id = 0  # set by the test once the catalog is loaded

    def __init__(self) -> None:
        super().__init__()
        self.part = db.session.get(Part, self.part_id)
        self.facilities = [make_facility() for _ in range(3)]
        self.lots: dict[int, Any] = {}
        self.model: dict[tuple[int, int], tuple[int, int]] = {}
        self.external_value = 0  # value that entered or left the system (not transfers)
        self.last_inbound: dict[tuple[int, int], tuple[int, int]] = {}

    # ---- helpers

    def held(self, f: int, lot: int) -> tuple[int, int]:
        """The model balance (eaches, cents) of a facility index and lot index."""
        return self.model.get((f, lot), (0, 0))

    def apply(self, f: int, lot: int, eaches: int, value: int) -> None:
        """Change the model balance by signed eaches and cents."""
        on_hand, total = self.held(f, lot)
        self.model[(f, lot)] = (on_hand + eaches, total + value)

    def expect_failure(self, call) -> None:
        """The service must refuse this movement with a domain error (and write nothing)."""
        try:
            call()
        except DomainError:
            db.session.rollback()
            return
        raise AssertionError("the service accepted a movement the model says is impossible")

    # ---- rules

    @rule(target=movements, f=FACILITIES, lot=LOTS, eaches=QTY, unit=st.integers(0, 50_000))
    def receive(self, f: int, lot: int, eaches: int, unit: int):
        """Receive stock at a random unit cost (zero included: donations)."""
        facility = self.facilities[f]
        movement = service.receive(
            db.session,
            facility=facility,
            part=self.part,
            lot_number=f"LOT-{lot}",
            expiry_date=in_days(400 + lot),
            eaches=eaches,
            value_cents=eaches * unit,
            actor=None,
            reason="opening_balance",
        )
        db.session.commit()
        self.lots[lot] = movement.lot
        self.apply(f, lot, eaches, eaches * unit)
        self.last_inbound[(f, lot)] = (eaches, eaches * unit)
        self.external_value += eaches * unit
        return movement.id

    def _outbound(self, kind: str, f: int, lot: int, eaches: int) -> int | None:
        """Issue or waste; refused when the model says stock is short."""
        if lot not in self.lots:
            return None
        facility, on_hand_value = self.facilities[f], self.held(f, lot)
        call = {
            "issue": lambda: service.issue(
                db.session, facility=facility, lot=self.lots[lot], eaches=eaches, actor=None
            ),
            "waste": lambda: service.waste(
                db.session,
                facility=facility,
                lot=self.lots[lot],
                eaches=eaches,
                reason="damaged",
                actor=None,
            ),
        }[kind]
        if on_hand_value[0] < eaches:
            self.expect_failure(call)
            return None
        movement = call()
        db.session.commit()
        expected = half_up_share(*on_hand_value, eaches)
        assert movement.value_cents == -expected
        self.apply(f, lot, -eaches, -expected)
        self.external_value -= expected
        return movement.id

    @rule(target=movements, f=FACILITIES, lot=LOTS, eaches=QTY)
    def issue(self, f: int, lot: int, eaches: int):
        """Issue eaches at moving-average cost."""
        return self._outbound("issue", f, lot, eaches) or -1

    @rule(target=movements, f=FACILITIES, lot=LOTS, eaches=QTY)
    def waste(self, f: int, lot: int, eaches: int):
        """Waste eaches at moving-average cost."""
        return self._outbound("waste", f, lot, eaches) or -1

    @rule(target=movements, src=FACILITIES, dst=FACILITIES, lot=LOTS, eaches=QTY)
    def transfer(self, src: int, dst: int, lot: int, eaches: int):
        """Transfer between facilities (same facility must be refused)."""
        if lot not in self.lots:
            return -1

        def call():
            return service.transfer(
                db.session,
                source=self.facilities[src],
                destination=self.facilities[dst],
                lot=self.lots[lot],
                eaches=eaches,
                actor=None,
            )

        source = self.held(src, lot)
        if src == dst or source[0] < eaches:
            self.expect_failure(call)
            return -1
        out, inbound = call()
        db.session.commit()
        expected = half_up_share(*source, eaches)
        assert (out.value_cents, inbound.value_cents) == (-expected, expected)
        self.apply(src, lot, -eaches, -expected)
        self.apply(dst, lot, eaches, expected)
        self.last_inbound[(dst, lot)] = (eaches, expected)
        return out.id

    @rule(target=movements, f=FACILITIES, lot=LOTS, counted=st.integers(0, 30))
    def count(self, f: int, lot: int, counted: int):
        """Count a lot; the difference becomes an adjustment (never-held lots refused)."""
        if lot not in self.lots:
            return -1
        facility = self.facilities[f]

        def call():
            return service.count(
                db.session, facility=facility, lot=self.lots[lot], counted=counted, actor=None
            )

        if (f, lot) not in self.model:
            self.expect_failure(call)
            return -1
        on_hand, value = self.held(f, lot)
        record, movement = call()
        db.session.commit()
        assert record.previous_on_hand == on_hand
        if counted == on_hand:
            assert movement is None
            return -1
        diff = counted - on_hand
        if diff < 0:
            expected = -half_up_share(on_hand, value, -diff)
        elif on_hand > 0:
            expected = round_half_up(value * diff, on_hand)
        else:
            # Empty shelf: found stock is valued at the last inbound cost per each.
            eaches_in, value_in = self.last_inbound[(f, lot)]
            expected = half_up_share(eaches_in, value_in, 1) * diff
        assert movement.value_cents == expected
        self.apply(f, lot, diff, expected)
        self.external_value += expected
        return movement.id

    @rule(movement_id=consumes(movements))
    def reverse(self, movement_id: int):
        """Reverse a random earlier movement once (both legs of a transfer)."""
        if movement_id < 0:
            return
        movement = service.get_movement(db.session, movement_id)
        legs = service.transfer_legs(db.session, movement)
        inbound = [leg for leg in legs if leg.eaches > 0]
        keys = {
            leg.id: (self.facility_index(leg.facility_id), self.lot_index(leg.lot_id))
            for leg in legs
        }

        def call():
            return service.reverse(db.session, movement=movement, actor=None, reason="test")

        if any(self.held(*keys[leg.id])[0] < leg.eaches for leg in inbound):
            self.expect_failure(call)
            return
        snapshot = {leg.id: self.held(*keys[leg.id]) for leg in legs}
        call()
        db.session.commit()
        returned = None
        for leg in sorted(legs, key=lambda leg: leg.eaches < 0):
            on_hand, value = snapshot[leg.id]
            if leg.eaches > 0:
                taken = value if leg.eaches == on_hand else min(leg.value_cents, value)
                self.apply(*keys[leg.id], -leg.eaches, -taken)
                returned = taken
                if len(legs) == 1:
                    self.external_value -= taken
            else:
                back = -leg.value_cents if returned is None else returned
                self.apply(*keys[leg.id], -leg.eaches, back)
                if len(legs) == 1:
                    self.external_value += back

    def key_of(self, leg: Any) -> tuple[int, int]:
        """The model key (facility index, lot index) of a movement."""
        return self.facility_index(leg.facility_id), self.lot_index(leg.lot_id)

    def facility_index(self, facility_id: int) -> int:
        """Index of a facility id in this example."""
        return next(i for i, f in enumerate(self.facilities) if f.id == facility_id)

    def lot_index(self, lot_id: int) -> int:
        """Index of a lot id in this example."""
        return next(i for i, lot in self.lots.items() if lot.id == lot_id)

    # ---- invariants

    @invariant()
    def database_matches_model_and_ledger(self) -> None:
        """Non-negative balances equal to the model and the ledger; value conserved."""
        ids = [f.id for f in self.facilities]
        rows = db.session.execute(
            select(
                StockBalance.facility_id,
                StockBalance.lot_id,
                StockBalance.on_hand,
                StockBalance.value_cents,
            ).where(StockBalance.facility_id.in_(ids))
        ).all()
        actual = {
            (self.facility_index(r.facility_id), self.lot_index(r.lot_id)): (
                r.on_hand,
                r.value_cents,
            )
            for r in rows
        }
        for on_hand, value in actual.values():
            assert on_hand >= 0
            assert value >= 0
            assert on_hand > 0 or value == 0
        assert actual == self.model
        assert sum(v for _, v in actual.values()) == self.external_value
        assert service.verify(db.session) == []


def test_random_histories_keep_the_ledger_exact(app):
    """Hypothesis drives the machine; every step is checked against the invariants."""
    StockMachine.part_id = sync_parts(app)["STT2309-5"].id
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
