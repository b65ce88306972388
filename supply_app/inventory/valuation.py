"""What stock is worth, in integer cents with no drift.

Taking n of h eaches worth v takes round_half_up(v * n / h); taking the last each takes all
that is left, so issued + remaining == received, to the cent.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from supply_app.catalog.models import Part
from supply_app.catalog.service import price_in_effect
from supply_app.errors import InvalidInput

#: $1bn per movement: far above any real receipt.
MAX_VALUE_CENTS = 100_000_000_000


def half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator for non-negative integers, rounded half up."""
    return (2 * numerator + denominator) // (2 * denominator)


def share_of_value(on_hand: int, value_cents: int, eaches: int) -> int:
    """Cents carried by `eaches` of `on_hand` eaches worth value_cents (half-up; last: all)."""
    if eaches >= on_hand:
        return value_cents
    return half_up_div(value_cents * eaches, on_hand)


def value_at_pack_price(pack_price_cents: int, units_per_pack: int, eaches: int) -> int:
    """Cents for eaches bought at a per-pack price, pro rata and rounded half up."""
    return half_up_div(pack_price_cents * eaches, units_per_pack)


def receipt_value(
    session: Session,
    *,
    part: Part,
    eaches: int,
    on_date: date,
    unit_cost_cents: int | None = None,
    pack_cost_cents: int | None = None,
    units_per_pack: int | None = None,
    field: str = "unit_cost",
) -> int:
    """Value of received eaches: a given cost per each or per pack, else the contract pack
    price in effect on on_date, pro rata (over units_per_pack, default the part's).

    :raises InvalidInput: no cost given and no contract price in effect (names `field`).
    """
    if unit_cost_cents is not None:
        return unit_cost_cents * eaches
    if pack_cost_cents is None:
        price = price_in_effect(session, part.id, on_date)
        if price is None:
            raise InvalidInput(
                f"{part.part_number} has no contract price on {on_date.isoformat()}; "
                "give the cost.",
                field=field,
            )
        pack_cost_cents = price.unit_price_cents
    return value_at_pack_price(pack_cost_cents, units_per_pack or part.units_per_pack, eaches)
