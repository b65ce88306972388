"""The server-rendered UI: Jinja pages with Flask-Login sessions and CSRF on every form."""

from __future__ import annotations

from flask import Blueprint, current_app, url_for

from supply_app.auth.permissions import (
    ALL_ROLES,
    CASE_RECORDERS,
    GTIN_ADMINS,
    REPORT_READERS,
    USER_ADMINS,
)
from supply_app.money import dollars
from supply_app.web.helpers import at, days_until, has_role, packs_and_eaches, working_in
from supply_app.web.plain import plain
from supply_app.web.waiting import waiting_for_me

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)

# (endpoint, label, roles): the main navigation, shown per role.
NAV = (
    ("web.overview", "Overview", ("admin", "viewer")),
    ("web.orders", "Orders", ("admin", "purchaser", "materials", "viewer")),
    ("web.stock", "Stock", ("admin", "purchaser", "materials", "clinician", "viewer")),
    ("web.alerts", "Alerts", ("admin", "purchaser", "materials", "viewer")),
    ("web.recalls", "Recalls", ALL_ROLES),
    ("web.case_new", "Record case", CASE_RECORDERS),
    ("web.cases_list", "Cases", ("admin", "clinician", "finance", "viewer")),
    ("web.margin", "Margin report", REPORT_READERS),
    ("web.fee_schedules", "Fee schedules", ("admin", "finance", "viewer")),
    ("web.payers_list", "Payers", ("admin", "finance", "viewer")),
    ("web.catalog", "Catalog", ALL_ROLES),
    ("web.barcodes", "Barcodes", GTIN_ADMINS),
    ("web.facilities", "Facilities", ALL_ROLES),
    ("web.users", "Users", USER_ADMINS),
    ("web.notification_settings", "Notifications", ALL_ROLES),
)


@bp.app_context_processor
def _ui_globals() -> dict:
    """Helpers every template may use (waiting_for_me() works only on a landing page)."""
    return {
        "nav_links": nav_links,
        "has_role": has_role,
        "working_in": working_in,
        "waiting_for_me": waiting_for_me,
    }


def nav_links(role: str) -> list[tuple[str, str, str]]:
    """(endpoint, url, label) of the navigation entries for a role."""
    return [
        (endpoint, url_for(endpoint), label)
        for endpoint, label, roles in NAV
        if role in roles and endpoint in current_app.view_functions
    ]


bp.add_app_template_filter(dollars, "dollars")
bp.add_app_template_filter(packs_and_eaches, "packs")
bp.add_app_template_filter(days_until, "days_until")
bp.add_app_template_filter(at, "at")
bp.add_app_template_filter(plain, "plain")

# Importing the view modules registers their routes on bp.
from supply_app.web import (  # noqa: E402,F401
    account_views,
    barcode_views,
    case_views,
    finance_views,
    movement_views,
    order_views,
    payer_views,
    recall_views,
    stock_views,
    user_views,
    views,
)
