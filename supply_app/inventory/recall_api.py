"""Recalls and returns to the vendor over the API.

A recall is one notice for every facility (it holds its lots everywhere); what each caller
sees of its holders and cases is limited to their own facilities. Returns belong to the
facility that shipped them; another facility's return answers 404.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import (
    ALL_ROLES,
    CREDIT_RECORDERS,
    RECALL_MANAGERS,
    RECALL_RELEASERS,
    RELEASES_ARE_GLOBAL,
    STOCK_MOVERS,
)
from supply_app.auth.service import facility_ids_for
from supply_app.extensions import db
from supply_app.facilities.service import get_facility
from supply_app.http import ApiBlueprint, paginate
from supply_app.idempotency import write_endpoint
from supply_app.inventory import service
from supply_app.inventory.api import FACILITY, named_lot
from supply_app.inventory.models import Recall
from supply_app.inventory.recall_schemas import (
    CreditIn,
    RecallDetailOut,
    RecallEndIn,
    RecallIn,
    RecallLotsIn,
    RecallOut,
    RecallPage,
    RecallQuery,
    VendorReturnIn,
    VendorReturnOut,
    VendorReturnPage,
    VendorReturnQuery,
)
from supply_app.notifications.delivery import announce
from supply_app.notifications.service import notice_summary
from supply_app.reporting.service import lot_cases

blp = ApiBlueprint(
    "recalls", __name__, url_prefix="/api/v1", description="Recalls and returns to the vendor"
)

RECALL = "/recalls/<int(max=2147483647):recall_id>"
RECALL_FIELDS = tuple(RecallOut().fields)


def recall_detail(recall: Recall) -> dict[str, Any]:
    """A recall with its holders and cases at the caller's facilities."""
    return detail_for(recall, facility_ids_for(db.session, api_user()))


def detail_for(recall: Recall, allowed: set[int] | None) -> dict[str, Any]:
    """The recall's fields, holders and cases limited to the allowed facilities (the API and
    the UI both show this), and how its notices stand."""
    lots = service.recalled_lots(db.session, recall)
    return {
        **{name: getattr(recall, name) for name in RECALL_FIELDS},
        "holders": service.holders(db.session, recall, allowed),
        "cases": lot_cases(db.session, [lot.id for lot in lots], allowed),
        "notices": notice_summary(db.session, recall.id),
    }


def _announced(recall: Recall, lots: list) -> str:
    """Queue the holders' notices (sent as the request ends) and say so."""
    count = announce(db.session, recall, lots)
    return (
        f"{count} notices to the holders' people are sent as this request ends; GET the "
        "recall to see how they stand."
    )


@blp.route("/recalls")
class Recalls(MethodView):
    """Recall notices."""

    @roles(*ALL_ROLES)
    @blp.arguments(RecallQuery, location="query")
    @blp.response(200, RecallPage)
    def get(self, args):
        """Recalls, open ones first, newest first."""
        return paginate(
            db.session, service.recalls_query(args.get("status")), args["page"], args["per_page"]
        )

    @roles(*RECALL_MANAGERS)
    @write_endpoint
    @blp.arguments(RecallIn)
    @blp.response(201, RecallDetailOut)
    def post(self, data):
        """Place a recall: its lots are on hold everywhere at once, and every holder's people
        are emailed now (what cannot be sent now is retried by `notify send`)."""
        recall = service.place_recall(db.session, actor=api_user(), **data)
        return {**recall_detail(recall), "notices": _announced(recall, recall.lots)}


@blp.route(RECALL)
class RecallDetail(MethodView):
    """One recall."""

    @roles(*ALL_ROLES)
    @blp.response(200, RecallDetailOut)
    def get(self, recall_id):
        """A recall, who of yours holds its lots (and what they disposed of), and the cases."""
        return recall_detail(service.get_recall(db.session, recall_id))


@blp.route(f"{RECALL}/lots")
class RecallLots(MethodView):
    """Extending a recall."""

    @roles(*RECALL_MANAGERS)
    @write_endpoint
    @blp.arguments(RecallLotsIn)
    @blp.response(201, RecallDetailOut)
    def post(self, data, recall_id):
        """Hold more lots under an open recall; their holders are emailed now."""
        recall = service.get_recall(db.session, recall_id, lock_row=True)
        added = service.add_lots(db.session, recall=recall, lots=data["lots"], actor=api_user())
        return {**recall_detail(recall), "notices": _announced(recall, added)}


@blp.route(f"{RECALL}/release")
class RecallRelease(MethodView):
    """Lifting a recall's holds."""

    @roles(*RECALL_RELEASERS, every_facility=RELEASES_ARE_GLOBAL)
    @write_endpoint
    @blp.arguments(RecallEndIn)
    @blp.response(200, RecallDetailOut)
    def post(self, data, recall_id):
        """Release an open recall: its lots may be used again (audited, with the note)."""
        recall = service.get_recall(db.session, recall_id, lock_row=True)
        service.release_recall(db.session, recall=recall, note=data["note"], actor=api_user())
        return recall_detail(recall)


@blp.route(f"{RECALL}/close")
class RecallClose(MethodView):
    """Closing a recall."""

    @roles(*RECALL_MANAGERS)
    @write_endpoint
    @blp.arguments(RecallEndIn)
    @blp.response(200, RecallDetailOut)
    def post(self, data, recall_id):
        """Close an open recall once no facility holds its lots (409 naming who still does);
        its lots stay on hold for good (audited)."""
        recall = service.get_recall(db.session, recall_id, lock_row=True)
        service.close_recall(
            db.session,
            recall=recall,
            note=data["note"],
            actor=api_user(),
            visible=facility_ids_for(db.session, api_user()),
        )
        return recall_detail(recall)


@blp.route(f"{FACILITY}/vendor-returns")
class VendorReturns(MethodView):
    """Returns to the vendor."""

    @roles(*ALL_ROLES)
    @blp.arguments(VendorReturnQuery, location="query")
    @blp.response(200, VendorReturnPage)
    def get(self, args, facility_id):
        """The facility's returns, newest first, and the credit still expected."""
        facility = get_facility(db.session, api_user(), facility_id)
        page = paginate(
            db.session,
            service.returns_query({facility.id}, args.get("credit")),
            args["page"],
            args["per_page"],
        )
        return {**page, "credit_expected": service.credit_expected_cents(db.session, {facility.id})}

    @roles(*STOCK_MOVERS)
    @write_endpoint
    @blp.arguments(VendorReturnIn)
    @blp.response(201, VendorReturnOut)
    def post(self, data, facility_id):
        """Ship stock back under an RGA (refused once the RGA is over 30 days old at the
        facility); it leaves at moving-average cost and is listed as credit expected."""
        facility = get_facility(db.session, api_user(), facility_id)
        return service.return_to_vendor(
            db.session,
            facility=facility,
            lot=named_lot(data),
            eaches=data["eaches"],
            rga_number=data["rga_number"],
            rga_date=data["rga_date"],
            order_line_id=data.get("order_line_id"),
            note=data.get("note"),
            actor=api_user(),
        )


@blp.route("/vendor-returns/<int(max=2147483647):return_id>/credit")
class VendorReturnCredit(MethodView):
    """The vendor's credit."""

    @roles(*CREDIT_RECORDERS)
    @write_endpoint
    @blp.arguments(CreditIn)
    @blp.response(200, VendorReturnOut)
    def post(self, data, return_id):
        """Record the credit memo for a return (once; audited)."""
        record = service.get_return(db.session, return_id, facility_ids_for(db.session, api_user()))
        facility = get_facility(db.session, api_user(), record.movement.facility_id)
        return service.record_credit(
            db.session, record=record, facility=facility, actor=api_user(), **data
        )
