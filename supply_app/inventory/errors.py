"""The stock refusals a client can act on (409s with the figures behind them)."""

from __future__ import annotations

from supply_app.errors import Conflict, InvalidInput


class InsufficientStock(Conflict):
    """Fewer eaches on hand than requested; nothing was written."""

    slug = "insufficient-stock"
    title = "Insufficient stock"


class LotExpired(Conflict):
    """The lot is past its expiry date and may not be used (it may be wasted)."""

    slug = "lot-expired"
    title = "Lot expired"


class LotOnHold(Conflict):
    """The lot is on hold under a recall: only waste or a return to the vendor may move it."""

    slug = "lot-on-hold"
    title = "Lot on hold"


class RgaExpired(InvalidInput):
    """The returned-goods authorisation is too old to ship against; ask for a new one."""

    slug = "rga-expired"
    title = "RGA expired"
