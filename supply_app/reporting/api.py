"""Reporting API: per-case margin (JSON, CSV, XLSX) and lot traces; read-only."""

from __future__ import annotations

from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import ALL_ROLES, REPORT_READERS
from supply_app.extensions import db
from supply_app.http import ApiBlueprint
from supply_app.reporting import service
from supply_app.reporting.export import CSV, XLSX, export_response, open_export
from supply_app.reporting.schemas import (
    ExportQuery,
    LotTrace,
    LotTracePage,
    MarginQuery,
    MarginReport,
    RecallQuery,
)

blp = ApiBlueprint("reporting", __name__, url_prefix="/api/v1", description="Reporting")

EXPORT_DOC = {
    "responses": {
        "200": {
            "description": (
                "The report as a file, streamed; a complete file ends with its TOTAL row. "
                "X-Export-Rows says how many rows come between the header and that row."
            ),
            "headers": {
                "X-Export-Rows": {
                    "description": "Data rows in the file (header and TOTAL row not counted).",
                    "schema": {"type": "integer", "minimum": 0},
                }
            },
            "content": {
                CSV: {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


@blp.route("/reports/case-margin")
class CaseMargin(MethodView):
    """Per-case margin: supply cost against expected Medicare reimbursement."""

    @roles(*REPORT_READERS)
    @blp.arguments(MarginQuery, location="query")
    @blp.response(200, MarginReport)
    def get(self, args):
        """Margin by case, or grouped by facility, month, site of service or code mix."""
        return service.margin_page(db.session, api_user(), args, args["page"], args["per_page"])


@blp.route("/reports/case-margin/export")
class CaseMarginExport(MethodView):
    """The margin report as CSV or XLSX, streamed."""

    @roles(*REPORT_READERS)
    @blp.arguments(ExportQuery, location="query")
    @blp.doc(**EXPORT_DOC)
    def get(self, args):
        """Every row of the report (no paging), then a TOTAL row, as CSV or XLSX."""
        return export_response(open_export(db.session, db.engine, api_user(), args))


@blp.route("/lots/recall")
class RecallSearch(MethodView):
    """Recall by lot or batch number."""

    @roles(*ALL_ROLES)
    @blp.arguments(RecallQuery, location="query")
    @blp.response(200, LotTracePage)
    def get(self, args):
        """Every lot of yours with that lot number or batch: who holds it, which cases used it."""
        return service.recall_page(
            db.session,
            api_user(),
            lot_number=args["lot_number"],
            part_id=args.get("part_id"),
            page=args["page"],
            per_page=args["per_page"],
        )


@blp.route("/lots/<int(max=2147483647):lot_id>/recall")
class LotRecall(MethodView):
    """Recall support for one lot (GET /lots/{id}/trace, inventory's, lists its movements)."""

    @roles(*ALL_ROLES)
    @blp.response(200, LotTrace)
    def get(self, lot_id):
        """Every facility of yours holding the lot and every case of yours that used it."""
        return service.lot_trace(db.session, api_user(), lot_id)
