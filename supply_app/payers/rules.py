"""What people may type about a payer and its fee table."""

from __future__ import annotations

from supply_app.cases.rules import PROCEDURE_CODE
from supply_app.coding import BASIS_LABELS, FEE_MODIFIERS, Basis
from supply_app.facilities.rules import SITE_OF_SERVICE
from supply_app.money import PRICE, Amount
from supply_app.rules import Choice, Day, Text

PAYER_NAME = Text("payer name", 80)
BASIS = Choice(
    "basis",
    tuple(
        (basis.value, BASIS_LABELS[basis][:1].upper() + BASIS_LABELS[basis][1:]) for basis in Basis
    ),
)
#: A share of Medicare in hundredths of a percent: "120.00" is 12000.
PERCENT = Amount("percentage of Medicare", maximum_cents=100_000, example="120.00")
PAYER_NOTE = Text("note", 200, min_length=0)
COMPONENT = Choice(
    "component",
    (
        ("facility", "Facility payment"),
        ("professional", "Professional payment"),
        ("device", "Device payment"),
    ),
)
FEE_MODIFIER = Choice(
    "modifier", tuple((m, {"50": "50 (bilateral)", "52": "52 (reduced)"}[m]) for m in FEE_MODIFIERS)
)
FEE_CODE = PROCEDURE_CODE
FEE_AMOUNT = PRICE
EFFECTIVE_DATE = Day("effective date")
#: A fee table loaded at once: enough for every code, site, component and a decade of dates.
MAX_FEE_ROWS = 5000
FEE_TABLE_TEXT = Text("fee table (CSV)", 1_000_000, multiline=True)
SITE = SITE_OF_SERVICE
