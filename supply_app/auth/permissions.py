"""Which roles may do what: the one list the API views and the UI pages both check."""

from __future__ import annotations

from supply_app.auth.models import ROLES

ALL_ROLES = ROLES
FACILITY_ADMINS = ("admin",)
USER_ADMINS = ("admin",)
PRICE_SETTERS = ("admin", "finance")
STOCK_MOVERS = ("admin", "materials")
STOCK_ISSUERS = ("admin", "materials", "clinician")
ORDER_BUILDERS = ("admin", "purchaser")
ORDER_APPROVERS = ("admin", "purchaser")
ORDER_RECEIVERS = ("admin", "purchaser", "materials")
CASE_RECORDERS = ("admin", "clinician")
FEE_SCHEDULE_EDITORS = ("admin", "finance")
REPORT_READERS = ("admin", "finance", "materials", "clinician", "viewer")

# Changes that reach beyond any one facility, each with the reason: only a user who holds
# every facility (all_facilities: admins and finance) makes them. Their API operations carry
# x-every-facility; the services check the same rule for the UI and any other door.
PRICES_ARE_GLOBAL = "Contract prices apply to every facility"
OVERRIDES_ARE_GLOBAL = "Fee-schedule overrides apply to every facility"
NEW_FACILITY = "A new facility would be outside the facilities you hold"
#: Recalls hold stock everywhere: materials managers and admins place, extend and close them.
RECALL_MANAGERS = ("admin", "materials")
#: Lifting a hold everywhere is the call of an admin who holds every facility.
RECALL_RELEASERS = ("admin",)
RELEASES_ARE_GLOBAL = "Releasing a recall makes its lots usable at every facility"
#: Who records a vendor's credit for a return.
CREDIT_RECORDERS = ("admin", "purchaser", "finance")
# Who may link an unknown barcode (GTIN) to a part after scanning it: those who receive and
# move stock. Admins also change and remove links (GTIN_ADMINS); every link is audited.
GTIN_TEACHERS = ("admin", "materials", "purchaser")
GTIN_ADMINS = ("admin",)
#: Teaching an unknown barcode is open to one facility's staff (it names no part until then);
#: changing or removing a link re-points scans everywhere.
BARCODES_ARE_GLOBAL = "A barcode's link to a part is read at every facility"
#: Payers and their fee tables price every facility's cases: finance and admins who hold
#: every facility manage them.
PAYER_MANAGERS = ("admin", "finance")
PAYERS_ARE_GLOBAL = "Payers and their fee tables apply to every facility's cases"
#: Equipment costs are a facility's own: finance and admins of that facility set them.
EQUIPMENT_COSTERS = ("admin", "finance")
#: Who may correct a recorded case's payer category: those who record cases and finance.
PAYER_CHANGERS = ("admin", "clinician", "finance")
