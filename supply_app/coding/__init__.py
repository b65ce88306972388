"""Medicare pricing of iovera° claims from yearly fee-schedule data; standard library only.

Nothing here imports Flask, SQLAlchemy or the rest of supply_app, so any service can use it.
See README.md in this package for the rules, their order and the sources.
"""

from supply_app.coding.claims import MODIFIERS, Claim, ClaimLine, Laterality
from supply_app.coding.errors import (
    CodingError,
    DuplicateNerve,
    InvalidClaim,
    InvalidModifier,
    InvalidOverride,
    InvalidPayer,
    InvalidUnits,
    ScheduleError,
    ScheduleMismatch,
    ScheduleNotFound,
    SiteNotPayable,
    TooManyUnits,
    UnknownCode,
    UnknownNerve,
)
from supply_app.coding.money import to_cents
from supply_app.coding.nerves import (
    ANTERIOR_KNEE_NERVES,
    GENICULAR_NERVES,
    NERVE_LABELS,
    NERVE_SETS,
)
from supply_app.coding.payers import (
    BASIS_LABELS,
    FEE_MODIFIERS,
    Basis,
    FeeRow,
    Payer,
    fee_row_misfit,
)
from supply_app.coding.pricing import PricedClaim, PricedLine, filing_deadline, price_claim
from supply_app.coding.schedule import (
    CFTrack,
    CodeEntry,
    FeeSchedule,
    Figure,
    SiteOfService,
    available_years,
    load_schedule,
)

__all__ = [
    "ANTERIOR_KNEE_NERVES",
    "BASIS_LABELS",
    "FEE_MODIFIERS",
    "GENICULAR_NERVES",
    "MODIFIERS",
    "NERVE_LABELS",
    "NERVE_SETS",
    "Basis",
    "CFTrack",
    "Claim",
    "ClaimLine",
    "CodeEntry",
    "CodingError",
    "DuplicateNerve",
    "FeeRow",
    "FeeSchedule",
    "Figure",
    "InvalidClaim",
    "InvalidModifier",
    "InvalidOverride",
    "InvalidPayer",
    "InvalidUnits",
    "Laterality",
    "Payer",
    "PricedClaim",
    "PricedLine",
    "ScheduleError",
    "ScheduleMismatch",
    "ScheduleNotFound",
    "SiteNotPayable",
    "SiteOfService",
    "TooManyUnits",
    "UnknownCode",
    "UnknownNerve",
    "available_years",
    "fee_row_misfit",
    "filing_deadline",
    "load_schedule",
    "price_claim",
    "to_cents",
]
