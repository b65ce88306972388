"""What people may type about an order: DoD header fields, packs, notes and reasons."""

from __future__ import annotations

from supply_app.rules import Choice, Day, Identifier, Text, WholeNumber

FUND_CODE = Identifier(
    "fund code", r"[A-Z0-9]{2}", 2, min_length=2, upper=True, hint="two letters or digits, e.g. 2F"
)
#: MILSTRIP priority designators 01-15 (01-03 emergency, 04-08 priority, 09-15 routine).
PRIORITY = Choice(
    "priority designator",
    tuple(
        (
            f"{n:02d}",
            f"{n:02d} · " + ("emergency" if n <= 3 else "priority" if n <= 8 else "routine"),
        )
        for n in range(1, 16)
    ),
)
DELIVERY_DATE = Day("required delivery date")
#: Filters on when orders were created (UTC dates).
CREATED_DATE = Day("created date")
#: A MILSTRIP document number: DoDAAC + Julian date YDDD + four-digit serial.
DOCUMENT_NUMBER = Identifier(
    "document number",
    r"[A-Z0-9]{6}[0-9]{4}[0-9]{4}",
    14,
    min_length=14,
    upper=True,
    hint="14 characters: the DoDAAC, the Julian date YDDD and a four-digit serial",
)
MAX_PACKS = 1000
PACKS = WholeNumber("packs", 1, MAX_PACKS)
ORDER_NOTES = Text("notes", 1000, min_length=0, multiline=True)
CANCEL_REASON = Text("reason", 500, min_length=0)
RECEIPT_NOTE = Text("note", 500, min_length=0)
ORDER_STATUS = Choice(
    "order status",
    (
        ("draft", "Draft"),
        ("submitted", "Submitted"),
        ("approved", "Approved"),
        ("partially_received", "Partially received"),
        ("received", "Received"),
        ("cancelled", "Cancelled"),
    ),
)
