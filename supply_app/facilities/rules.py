"""What people may type about a facility."""

from __future__ import annotations

from supply_app.money import Amount
from supply_app.rules import Choice, Identifier, Text, TimeZoneName, WholeNumber

FACILITY_CODE = Identifier(
    "facility code",
    r"[A-Z0-9][A-Z0-9-]{1,19}",
    20,
    min_length=2,
    upper=True,
    hint="2 to 20 capital letters, digits or dashes",
)
DODAAC = Identifier(
    "DoDAAC", r"[A-Z0-9]{6}", 6, min_length=6, upper=True, hint="six letters or digits, e.g. W81XWH"
)
FACILITY_NAME = Text("facility name", 200)
SHIP_TO_ADDRESS = Text("ship-to address", 500, multiline=True)
SITE_OF_SERVICE = Choice(
    "site of service",
    (
        ("HOPD", "Hospital outpatient (HOPD)"),
        ("ASC", "Ambulatory surgery center"),
        ("office", "Office"),
    ),
)
CF_TRACK = Choice(
    "conversion-factor track",
    (("non_qualifying", "Non-qualifying"), ("qualifying_apm", "Qualifying APM participant")),
)
EXPIRY_WINDOW_DAYS = WholeNumber("expiry window (days)", 1, 730)
LEAD_TIME_DAYS = WholeNumber("lead time (days)", 0, 365)
TIME_ZONE = TimeZoneName("time zone")
#: The hospital wage index with four decimals (1.0842), kept in ten-thousandths.
WAGE_INDEX = Amount("wage index", maximum_cents=99_999, minimum_cents=1, places=4, example="1.0842")
