"""Ordering API: purchase orders, their lifecycle, receipts, ECAT export, reorder suggestions.

Access: everyone with access to a facility reads its orders; purchasers and admins build,
submit, approve (someone else's) and cancel; purchasers, materials managers and admins
receive. Another facility's order answers 404, as if it did not exist.
"""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import (
    ALL_ROLES,
    ORDER_APPROVERS,
    ORDER_BUILDERS,
    ORDER_RECEIVERS,
)
from supply_app.extensions import db
from supply_app.facilities.service import get_active_facility, get_facility
from supply_app.http import ApiBlueprint, paginate
from supply_app.idempotency import write_endpoint
from supply_app.inventory.schemas import MovementOut, ReverseIn
from supply_app.ordering import ecat, receiving, service, suggestions
from supply_app.ordering.schemas import (
    DraftFromSuggestionsIn,
    EcatOut,
    OrderCancelIn,
    OrderIn,
    OrderLineIn,
    OrderLinePatch,
    OrderOut,
    OrderPage,
    OrderPatch,
    OrderQuery,
    OrderReceiptIn,
    OrderReceiptList,
    OrderReceiptOut,
    ReorderSuggestionList,
)

blp = ApiBlueprint("ordering", __name__, url_prefix="/api/v1", description="Ordering")

ORDER = "/orders/<int(max=2147483647):order_id>"


def _locked_order(order_id: int):
    """The caller's order, row-locked for a change."""
    return service.get_order(db.session, api_user(), order_id, lock=True)


def _part(item: dict):
    """The catalog part a line names."""
    return service.resolve_part(
        db.session, part_id=item.get("part_id"), part_number=item.get("part_number")
    )


@blp.route("/orders")
class Orders(MethodView):
    """Purchase orders of your facilities."""

    @roles(*ALL_ROLES)
    @blp.arguments(OrderQuery, location="query")
    @blp.response(200, OrderPage)
    def get(self, args):
        """List orders, newest first; filter by facility, status and creation dates."""
        if "facility_id" in args:
            get_facility(db.session, api_user(), args["facility_id"])
        stmt = service.orders_query(
            db.session,
            api_user(),
            facility_id=args.get("facility_id"),
            status=args.get("status"),
            created_from=args.get("created_from"),
            created_to=args.get("created_to"),
        )
        return paginate(db.session, stmt, args["page"], args["per_page"])

    @roles(*ORDER_BUILDERS)
    @write_endpoint
    @blp.arguments(OrderIn)
    @blp.response(201, OrderOut)
    def post(self, data):
        """Create a draft order (purchasers, admins)."""
        facility = get_active_facility(db.session, api_user(), data.pop("facility_id"))
        lines = [(_part(item), item["packs"]) for item in data.pop("lines")]
        return service.create_order(
            db.session, facility=facility, actor=api_user(), header=data, lines=lines
        )


@blp.route(ORDER)
class OrderDetail(MethodView):
    """One order."""

    @roles(*ALL_ROLES)
    @blp.response(200, OrderOut)
    def get(self, order_id):
        """Get an order with its lines and totals."""
        return service.get_order(db.session, api_user(), order_id)

    @roles(*ORDER_BUILDERS)
    @write_endpoint
    @blp.arguments(OrderPatch)
    @blp.response(200, OrderOut)
    def patch(self, changes, order_id):
        """Change a draft's fund code, priority, required delivery date or notes."""
        return service.update_order(
            db.session, order=_locked_order(order_id), changes=changes, actor=api_user()
        )


@blp.route(f"{ORDER}/lines")
class OrderLines(MethodView):
    """Lines of a draft."""

    @roles(*ORDER_BUILDERS)
    @write_endpoint
    @blp.arguments(OrderLineIn)
    @blp.response(201, OrderOut)
    def post(self, data, order_id):
        """Add packs of a part to a draft; returns the order."""
        order = _locked_order(order_id)
        service.add_line(
            db.session, order=order, part=_part(data), packs=data["packs"], actor=api_user()
        )
        return order


@blp.route(f"{ORDER}/lines/<int(max=2147483647):line_id>")
class OrderLine(MethodView):
    """One line of a draft."""

    @roles(*ORDER_BUILDERS)
    @write_endpoint
    @blp.arguments(OrderLinePatch)
    @blp.response(200, OrderOut)
    def patch(self, data, order_id, line_id):
        """Change a draft line's packs; returns the order."""
        order = _locked_order(order_id)
        service.set_line_packs(
            db.session,
            order=order,
            line=service.get_line(order, line_id),
            packs=data["packs"],
            actor=api_user(),
        )
        return order

    @roles(*ORDER_BUILDERS)
    @write_endpoint
    @blp.response(200, OrderOut)
    def delete(self, order_id, line_id):
        """Remove a line from a draft; returns the order."""
        order = _locked_order(order_id)
        service.remove_line(
            db.session, order=order, line=service.get_line(order, line_id), actor=api_user()
        )
        return order


@blp.route(f"{ORDER}/submit")
class SubmitOrder(MethodView):
    """Submit a draft."""

    @roles(*ORDER_BUILDERS)
    @write_endpoint
    @blp.response(200, OrderOut)
    def post(self, order_id):
        """Submit: snapshot contract prices and assign the MILSTRIP document number."""
        return service.submit_order(db.session, order=_locked_order(order_id), actor=api_user())


@blp.route(f"{ORDER}/approve")
class ApproveOrder(MethodView):
    """Approve a submitted order."""

    @roles(*ORDER_APPROVERS)
    @write_endpoint
    @blp.response(200, OrderOut)
    def post(self, order_id):
        """Approve (a purchaser or admin other than the creator and submitter)."""
        return service.approve_order(db.session, order=_locked_order(order_id), actor=api_user())


@blp.route(f"{ORDER}/cancel")
class CancelOrder(MethodView):
    """Cancel an order before anything is received."""

    @roles(*ORDER_BUILDERS)
    @write_endpoint
    @blp.arguments(OrderCancelIn)
    @blp.response(200, OrderOut)
    def post(self, data, order_id):
        """Cancel a draft, submitted or approved order."""
        return service.cancel_order(
            db.session, order=_locked_order(order_id), actor=api_user(), reason=data.get("reason")
        )


@blp.route(f"{ORDER}/receipts")
class OrderReceipts(MethodView):
    """Deliveries received against an order."""

    @roles(*ALL_ROLES)
    @blp.response(200, OrderReceiptList)
    def get(self, order_id):
        """List the order's receipts, oldest first."""
        return {"items": service.get_order(db.session, api_user(), order_id).receipts}

    @roles(*ORDER_RECEIVERS)
    @write_endpoint
    @blp.arguments(OrderReceiptIn)
    @blp.response(201, OrderReceiptOut)
    def post(self, data, order_id):
        """Receive packs per line with lot and expiry (typed or scanned) into stock."""
        return receiving.receive_order(
            db.session,
            order=_locked_order(order_id),
            actor=api_user(),
            items=data["lines"],
            note=data.get("note"),
        )


@blp.route(f"{ORDER}/receipt-lines/<int(max=2147483647):receipt_line_id>/undo")
class UndoReceiptLine(MethodView):
    """Correcting a receipt."""

    @roles(*ORDER_RECEIVERS)
    @write_endpoint
    @blp.arguments(ReverseIn)
    @blp.response(201, MovementOut)
    def post(self, data, order_id, receipt_line_id):
        """Undo one received lot (a wrong lot scanned, a miscount): its stock goes back out,
        its packs are outstanding again, and the order can be received against again."""
        return receiving.undo_receipt_line(
            db.session,
            order=_locked_order(order_id),
            receipt_line_id=receipt_line_id,
            reason=data["reason"],
            actor=api_user(),
        )


@blp.route(f"{ORDER}/ecat")
class EcatJson(MethodView):
    """The ECAT export as JSON."""

    @roles(*ALL_ROLES)
    @blp.response(200, EcatOut)
    def get(self, order_id):
        """The order as ECAT order-entry rows, with header and total."""
        return ecat.ecat_export(service.get_order(db.session, api_user(), order_id))


@blp.route(f"{ORDER}/ecat.csv")
class EcatCsv(MethodView):
    """The ECAT export as CSV."""

    @roles(*ALL_ROLES)
    @blp.response(200, content_type="text/csv", description="ECAT order-entry rows")
    def get(self, order_id):
        """Download the order as ECAT order-entry CSV (one row per line)."""
        order = service.get_order(db.session, api_user(), order_id)
        return Response(
            ecat.ecat_csv(order),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{order.document_number}.csv"'},
        )


FACILITY = "/facilities/<int(max=2147483647):facility_id>"


@blp.route(f"{FACILITY}/reorder-suggestions")
class ReorderSuggestions(MethodView):
    """What a facility should reorder."""

    @roles(*ALL_ROLES)
    @blp.response(200, ReorderSuggestionList)
    def get(self, facility_id):
        """Suggest packs per part from par levels, stock, open orders, burn rate and lead time."""
        facility = get_facility(db.session, api_user(), facility_id)
        return {
            "facility_id": facility.id,
            "items": suggestions.reorder_suggestions(db.session, facility=facility),
        }


@blp.route(f"{FACILITY}/reorder-suggestions/order")
class DraftFromSuggestions(MethodView):
    """Turn suggestions into a draft order."""

    @roles(*ORDER_BUILDERS)
    @write_endpoint
    @blp.arguments(DraftFromSuggestionsIn)
    @blp.response(201, OrderOut)
    def post(self, data, facility_id):
        """Create one draft with every suggested part (or the part_ids given)."""
        facility = get_active_facility(db.session, api_user(), facility_id)
        part_ids = data.pop("part_ids", None)
        return suggestions.draft_from_suggestions(
            db.session, facility=facility, actor=api_user(), header=data, part_ids=part_ids
        )
