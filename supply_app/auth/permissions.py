"""Which roles may do what: the one list the API views and the UI pages both check."""

from __future__ import annotations

from supply_app.auth.models import ROLES

ALL_ROLES = ROLES
FACILITY_ADMINS = ("admin",)
USER_ADMINS = ("admin",)
PRICE_SETTERS = ("admin", "purchaser", "finance")
STOCK_MOVERS = ("admin", "materials")
STOCK_ISSUERS = ("admin", "materials", "clinician")
ORDER_BUILDERS = ("admin", "purchaser")
ORDER_APPROVERS = ("admin", "purchaser")
ORDER_RECEIVERS = ("admin", "purchaser", "materials")
CASE_RECORDERS = ("admin", "clinician")
FEE_SCHEDULE_EDITORS = ("admin", "finance")
REPORT_READERS = ("admin", "finance", "materials", "clinician", "viewer")
#: Recalls hold stock everywhere: materials managers and admins place, extend and close them.
RECALL_MANAGERS = ("admin", "materials")
#: Lifting a hold everywhere is an admin's call.
RECALL_RELEASERS = ("admin",)
#: Who records a vendor's credit for a return.
CREDIT_RECORDERS = ("admin", "purchaser", "finance")
