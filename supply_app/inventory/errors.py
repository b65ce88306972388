"""The stock refusals a client can act on (409s with the figures behind them)."""

from __future__ import annotations

from supply_app.errors import Conflict


class InsufficientStock(Conflict):
    """Fewer eaches on hand than requested; nothing was written."""

    slug = "insufficient-stock"
    title = "Insufficient stock"


class LotExpired(Conflict):
    """The lot is past its expiry date and may not be used (it may be wasted)."""

    slug = "lot-expired"
    title = "Lot expired"
