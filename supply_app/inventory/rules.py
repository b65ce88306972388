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
        ("return_to_vendor", "Return to vendor"),
    ),
)
#: What may still move a lot on hold: the two ways its holder disposes of it.
DISPOSITION = MOVEMENT_KIND.only("return_to_vendor", "waste")

EXPIRY_DATE = Day("expiry date")
NOTE = Text("note", 200, min_length=0)
REVERSAL_REASON = Text("reason", 200)

# --- recalls and returns to the vendor ------------------------------------------------

RECALL_SOURCE = Choice(
    "recall source",
    (
        ("manufacturer", "Manufacturer (Pacira)"),
        ("fda", "FDA"),
        ("dla", "DLA"),
        ("distributor", "Distributor"),
        ("other", "Other"),
    ),
)
RECALL_STATUS = Choice(
    "recall status",
    (("open", "Open: lots on hold"), ("closed", "Closed: disposed of"), ("released", "Released")),
)
NOTICE_NUMBER = Identifier(
    "notice number",
    r"[A-Za-z0-9][A-Za-z0-9./_#-]{0,39}",
    40,
    hint="1 to 40 letters, digits, . / _ # or - (starting with a letter or digit), no spaces",
)
NOTICE_DATE = Day("notice date")
RECALL_REASON = Text("reason", 500)
#: Why a recall is released or what closing it says (kept in the audit log too).
RECALL_NOTE = Text("note", 500)
#: Lots one recall names (a notice lists a handful; a catalog-wide recall is a few dozen).
MAX_RECALL_LOTS = 100
RGA_NUMBER = Identifier(
    "RGA number",
    r"[A-Za-z0-9][A-Za-z0-9/_-]{0,29}",
    30,
    hint="1 to 30 letters, digits, / _ or - (starting with a letter or digit), no spaces",
)
RGA_DATE = Day("RGA date")
#: Pacira's returned-goods authorisations are good for 30 days from their date.
RGA_VALID_DAYS = 30
CREDIT_MEMO = Identifier(
    "credit memo number",
    r"[A-Za-z0-9][A-Za-z0-9/_-]{0,29}",
    30,
    hint="1 to 30 letters, digits, / _ or - (starting with a letter or digit), no spaces",
)
CREDIT_DATE = Day("credit date")
#: The recall form's lots: one per line, the part number then the lot number.
RECALL_LOT_LINES = Text("lots", 4000, multiline=True)
