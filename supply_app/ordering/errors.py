"""Ordering's domain errors (rendered as problem+json)."""

from __future__ import annotations

from supply_app.errors import Conflict, Forbidden


class UnpricedPart(Conflict):
    """An order line's part has no contract price in effect on the submission date."""

    slug = "unpriced-part"
    title = "Part has no contract price"


class OverReceipt(Conflict):
    """More packs received than are outstanding on an order line."""

    slug = "over-receipt"
    title = "More received than ordered"


class SerialsExhausted(Conflict):
    """All 9999 MILSTRIP serials of a DoDAAC and Julian date are used."""

    slug = "document-serials-exhausted"
    title = "No document serials left today"


class SelfApproval(Forbidden):
    """The approver created or submitted the order."""

    slug = "self-approval"
    title = "An order needs a second person to approve it"


class NothingToOrder(Conflict):
    """A draft from suggestions was asked for, but no part needs ordering."""

    slug = "nothing-to-order"
    title = "Nothing to order"
