"""Money arithmetic: Decimal only, rounded half-up to whole cents at every step."""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Our own context, so that a caller who changed the thread's decimal precision or traps
# cannot change a price.
_CONTEXT = Context(prec=28)


def decimal_context() -> AbstractContextManager[Context]:
    """A context manager for Decimal arithmetic independent of the caller's settings."""
    return localcontext(_CONTEXT)


def cents(amount: Decimal | int, factor: Decimal | int = 1) -> Decimal:
    """Return amount × factor rounded half-up to whole cents."""
    with decimal_context():
        return (Decimal(amount) * Decimal(factor)).quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal) -> int:
    """Return a whole-cent Decimal amount as integer cents; refuse anything finer."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or cents(amount) != amount:
        raise ValueError(f"{amount!r} is not a whole number of cents")
    return int(cents(amount, 100))


def usd(amount: Decimal) -> str:
    """Format an amount for explanations, e.g. '$1,995.02'."""
    return f"${amount:,.2f}"


def percent(factor: Decimal) -> str:
    """Format a factor for explanations, e.g. Decimal('1.5') -> '150%'."""
    return f"{(Decimal(factor) * 100).normalize():f}%"
