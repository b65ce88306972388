"""Short ways to build and price claims in the coding tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from supply_app.coding import CFTrack, Claim, ClaimLine, PricedClaim, price_claim

DOS = date(2026, 3, 2)
QP = CFTrack.QUALIFYING_APM
NON_QP = CFTrack.NON_QUALIFYING
D = Decimal


def claim(site: str, *lines: ClaimLine, track: CFTrack = QP, dos: date = DOS) -> Claim:
    """A claim at a site with the given lines (qualifying CF, 2 March 2026 by default)."""
    return Claim(site, dos, track, tuple(lines))


def price(
    site: str,
    *lines: ClaimLine,
    track: CFTrack = QP,
    overrides: Mapping[tuple[int, str, str], Decimal] | None = None,
) -> PricedClaim:
    """Price a claim built by `claim`."""
    return price_claim(claim(site, *lines, track=track), overrides=overrides)


def device(amount: str, *sites: str) -> dict[tuple[int, str, str], Decimal]:
    """Overrides setting the CY2026 C9809 amount at the given sites."""
    return {(2026, "C9809", site): Decimal(amount) for site in sites}
