"""Catalog API: parts and contract prices."""

from __future__ import annotations

from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import ALL_ROLES, PRICE_SETTERS, PRICES_ARE_GLOBAL
from supply_app.catalog import service
from supply_app.catalog.schemas import (
    ContractPriceIn,
    ContractPriceOut,
    ContractPricePage,
    ContractPriceQuery,
    PartOut,
    PartPage,
    PartQuery,
)
from supply_app.extensions import db
from supply_app.http import ApiBlueprint, paginate
from supply_app.idempotency import write_endpoint

blp = ApiBlueprint("catalog", __name__, url_prefix="/api/v1", description="ECAT parts and prices")


@blp.route("/parts")
class Parts(MethodView):
    """The ECAT catalog."""

    @roles(*ALL_ROLES)
    @blp.arguments(PartQuery, location="query")
    @blp.response(200, PartPage)
    def get(self, args):
        """List parts, optionally searched by text or filtered by category."""
        stmt = service.parts_query(args.get("q"), args.get("category"))
        return paginate(db.session, stmt, args["page"], args["per_page"])


@blp.route("/parts/<int(max=2147483647):part_id>")
class PartDetail(MethodView):
    """One part."""

    @roles(*ALL_ROLES)
    @blp.response(200, PartOut)
    def get(self, part_id):
        """Get one part with its pack size and GTINs."""
        return service.get_part(db.session, part_id)


@blp.route("/contract-prices")
class ContractPrices(MethodView):
    """Contract prices per pack, with effective dates."""

    @roles(*ALL_ROLES)
    @blp.arguments(ContractPriceQuery, location="query")
    @blp.response(200, ContractPricePage)
    def get(self, args):
        """List contract prices, optionally for one part or in effect on one date."""
        stmt = service.prices_query(args.get("part_id"), args.get("on"))
        return paginate(db.session, stmt, args["page"], args["per_page"])

    @roles(*PRICE_SETTERS, every_facility=PRICES_ARE_GLOBAL)
    @write_endpoint
    @blp.arguments(ContractPriceIn)
    @blp.response(201, ContractPriceOut)
    def post(self, data):
        """Set a part's contract price from a date (finance and admins holding every facility)."""
        part = service.get_part(db.session, data["part_id"])
        return service.set_contract_price(
            db.session,
            part=part,
            unit_price_cents=data["unit_price"],
            effective_from=data["effective_from"],
            effective_to=data["effective_to"],
            note=data["note"],
            actor=api_user(),
        )
