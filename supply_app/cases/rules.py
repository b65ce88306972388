"""What people may type about a procedure case: the reference, codes, nerves, side, reasons.

No rule here admits patient data: the reference is an opaque code and no free-text field
about the patient exists.
"""

from __future__ import annotations

from supply_app.coding import ANTERIOR_KNEE_NERVES, GENICULAR_NERVES, NERVE_LABELS
from supply_app.rules import Choice, Day, Identifier, Text, WholeNumber

CASE_REFERENCE = Identifier(
    "case reference",
    r"[A-Za-z0-9][A-Za-z0-9._/-]{0,31}",
    32,
    hint=(
        "1 to 32 letters, digits, '.', '_', '/' or '-', starting with a letter or digit "
        "(no spaces; never a name, date of birth or record number)"
    ),
)
LATERALITY = Choice(
    "side", (("RT", "Right"), ("LT", "Left"), ("bilateral", "Both sides (bilateral)"))
)
#: The modifier a single procedure line may carry for its side.
LINE_LATERALITY = Choice("line side", (("RT", "Right"), ("LT", "Left"), ("50", "Bilateral")))
PROCEDURE_CODE = Choice(
    "procedure code",
    (
        ("64640", "64640 · nerve destruction, per nerve"),
        ("64624", "64624 · genicular nerves"),
        ("C9809", "C9809 · cryoablation device"),
        ("0441T", "0441T · cryoablation, lower extremity (where the contractor requires it)"),
    ),
)
NERVE = Choice(
    "nerve",
    tuple((slug, NERVE_LABELS[slug]) for slug in (*ANTERIOR_KNEE_NERVES, *GENICULAR_NERVES)),
)
DATE_OF_SERVICE = Day("date of service")
#: The case form's scan box: one barcode per line (each line is then a SCAN).
SCANNED_SUPPLIES = Text("scanned supplies", 4000, min_length=0, multiline=True)
CASE_STATUS = Choice("case status", (("recorded", "Recorded"), ("voided", "Voided")))
#: Eaches of one supply line of a case.
SUPPLY_EACHES = WholeNumber("eaches", 1, 1000)
#: Eaches of a part picked by earliest expiry on the case form: none, or one line's worth.
PICK_EACHES = WholeNumber("eaches", 0, SUPPLY_EACHES.maximum)
#: Stored on the case and in the reversal notes ("case 12 voided: ..."), which hold 200.
VOID_REASON = Text("reason for voiding", 150)
SCHEDULE_YEAR = WholeNumber("calendar year", 2000, 2100)
OVERRIDE_NOTE = Text("note", 200, min_length=0)
#: Straight-line equipment costing: a handpiece's years of life and its cases a year.
LIFE_YEARS = WholeNumber("years of life", 1, 30)
CASES_PER_YEAR = WholeNumber("cases per year", 1, 100_000)
EQUIPMENT_NOTE = Text("note", 200, min_length=0)
