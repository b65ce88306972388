"""What the catalog file and people may say about parts and contract prices."""

from __future__ import annotations

from supply_app.rules import Choice, Day, Identifier, Text, WholeNumber

PART_NUMBER = Identifier(
    "part number",
    r"[A-Z0-9][A-Z0-9-]{0,39}",
    40,
    upper=True,
    hint="capital letters, digits and dashes, such as STT2190-5",
)
GTIN = Identifier("GTIN", r"[0-9]{8}|[0-9]{12,14}", 14, min_length=8, hint="8, 12, 13 or 14 digits")
CATEGORY = Choice(
    "category",
    (
        ("handpiece_system", "Handpiece system"),
        ("smart_tip", "Smart Tip"),
        ("cartridge", "Cartridge"),
    ),
)
UNIT_OF_ISSUE = Choice("unit of issue", (("EA", "Each"), ("PK", "Pack"), ("BX", "Box")))
UNITS_PER_PACK = WholeNumber("units per pack", 1, 1000)
GENERATION = Text("generation", 20)
DESCRIPTION = Text("description", 300)
TIP_SPEC = Text("tip specification", 100)
CONTRACT_NUMBER = Text("contract number", 30)
CONTRACT_VEHICLE = Text("contract vehicle", 20)
SOURCE = Text("source", 500)
SEARCH = Text("search text", 100)
PRICE_NOTE = Text("note", 200, min_length=0)
PRICE_DATE = Day("date")
#: A GTIN as a label's AI (01) carries it: what a user links to a part after a scan.
LABEL_GTIN = Identifier(
    "GTIN", r"[0-9]{14}", 14, min_length=14, hint="the 14 digits after (01) on the label"
)
#: What a labelled package holds: one each, or one whole pack of the part.
PACKAGE_LEVEL = Choice("package", (("each", "One each"), ("pack", "A whole pack")))
