"""What people may type about stock: lot numbers, serials, scans, quantities, reasons, notes.

The one place these rules live; the API schemas, the UI forms, the CLI and the services all
use them (see supply_app.rules for the kinds).
"""

from __future__ import annotations

from supply_app.rules import Choice, Day, Identifier, Text, WholeNumber

#: GS1's character set 82 (what AI 10 batch and AI 21 serial may hold), 1 to 20 long.
_GS1_CSET82 = r"[!\"%-?A-Z_a-z]{1,20}"
_GS1_HINT = (
    "1 to 20 letters, digits or the punctuation a GS1 label allows ( ! \" % & ' ( ) * + , "
    "- . / : ; < = > ? _ ), with no spaces"
)

LOT_NUMBER = Identifier("lot number", _GS1_CSET82, 20, hint=_GS1_HINT)
SERIAL = Identifier("serial number", _GS1_CSET82, 20, hint=_GS1_HINT)
#: A barcode as a scanner types it: printable ASCII plus GS (the FNC1 field separator).
SCAN = Identifier(
    "scan",
    r"[\x1d -~]{1,200}",
    200,
    hint="the text of one barcode (printable characters, at most 200)",
)

#: Per movement: a year of tips for a large centre is a few thousand eaches.
MAX_EACHES = 100_000
EACHES = WholeNumber("eaches", 1, MAX_EACHES)
CHANGE_IN_EACHES = WholeNumber("change in eaches", -MAX_EACHES, MAX_EACHES)
COUNTED_EACHES = WholeNumber("counted eaches", 0, MAX_EACHES)
RECEIPT_PACKS = WholeNumber("packs", 1, 10_000)
#: Shelf quantities as people count them: whole packs plus loose eaches, either may be 0.
SHELF_PACKS = WholeNumber("packs", 0, 10_000)
LOOSE_EACHES = WholeNumber("loose eaches", 0, MAX_EACHES)
PAR_MIN = WholeNumber("minimum eaches", 0, MAX_EACHES)
PAR_MAX = WholeNumber("maximum eaches", 1, MAX_EACHES)

RECEIPT_REASON = Choice(
    "receipt reason",
    (
        ("order", "Order"),
        ("opening_balance", "Opening balance"),
        ("loan", "Loan"),
        ("donation", "Donation"),
        ("return", "Return"),
        ("found", "Found on the shelf (expired stock too, so it can be wasted)"),
    ),
)
#: Orders are received against the order, not as a free receipt.
FREE_RECEIPT_REASON = RECEIPT_REASON.only("opening_balance", "loan", "donation", "return", "found")
#: Stock found on a shelf is booked as it is, expired or not: an expired lot must be on the
#: books before it can be wasted. Every other receipt of an expired lot is refused.
EXPIRED_MAY_ARRIVE_AS = ("found",)
ADJUSTMENT_REASON = Choice(
    "adjustment reason",
    (
        ("found", "Found"),
        ("lost", "Lost"),
        ("data_entry_error", "Data entry error"),
        ("physical_count", "Physical count"),
        ("other", "Other"),
    ),
)
#: A count posts physical_count itself; people choose from the rest.
TYPED_ADJUSTMENT_REASON = ADJUSTMENT_REASON.only("found", "lost", "data_entry_error", "other")
WASTE_REASON = Choice(
    "waste reason",
    (
        ("expired", "Expired"),
        ("damaged", "Damaged"),
        ("contaminated", "Contaminated"),
        ("recalled", "Recalled"),
    ),
)
MOVEMENT_KIND = Choice(
    "movement kind",
    (
        ("receipt", "Receipt"),
        ("issue", "Issue"),
        ("adjustment", "Adjustment"),
        ("transfer_out", "Transfer out"),
        ("transfer_in", "Transfer in"),
        ("waste", "Waste"),
        ("reversal", "Reversal"),
    ),
)

EXPIRY_DATE = Day("expiry date")
NOTE = Text("note", 200, min_length=0)
REVERSAL_REASON = Text("reason", 200)
