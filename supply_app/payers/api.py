"""Payers API: payer categories and their fee tables (finance and admins who hold every
facility change them; anyone who reads the margin report reads them)."""

from __future__ import annotations

from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import PAYER_MANAGERS, PAYERS_ARE_GLOBAL, REPORT_READERS
from supply_app.extensions import db
from supply_app.http import ApiBlueprint
from supply_app.idempotency import write_endpoint
from supply_app.payers import service
from supply_app.payers.schemas import (
    FeeTableIn,
    FeeTableOut,
    PayerIn,
    PayerList,
    PayerOut,
    PayerPatch,
)

blp = ApiBlueprint("payers", __name__, url_prefix="/api/v1", description="Payers and fee tables")
PAYER_ID = "<int(max=2147483647):payer_id>"


@blp.route("/payers")
class Payers(MethodView):
    """Payer categories."""

    @roles(*REPORT_READERS)
    @blp.response(200, PayerList)
    def get(self):
        """List every payer, by name."""
        return {"items": service.list_payers(db.session)}

    @roles(*PAYER_MANAGERS, every_facility=PAYERS_ARE_GLOBAL)
    @write_endpoint
    @blp.arguments(PayerIn())
    @blp.response(201, PayerOut)
    def post(self, data):
        """Create a payer (finance, admins holding every facility); audited."""
        return service.create_payer(db.session, data=data, actor=api_user())


@blp.route(f"/payers/{PAYER_ID}")
class PayerDetail(MethodView):
    """One payer."""

    @roles(*REPORT_READERS)
    @blp.response(200, PayerOut)
    def get(self, payer_id):
        """Get a payer."""
        return service.get_payer(db.session, payer_id)

    @roles(*PAYER_MANAGERS, every_facility=PAYERS_ARE_GLOBAL)
    @write_endpoint
    @blp.arguments(PayerPatch())
    @blp.response(200, PayerOut)
    def patch(self, data, payer_id):
        """Change a payer; a change to how it pays makes its cases stale until repriced."""
        payer = service.get_payer(db.session, payer_id)
        return service.update_payer(db.session, payer=payer, changes=data, actor=api_user())


@blp.route(f"/payers/{PAYER_ID}/fees")
class PayerFees(MethodView):
    """A payer's fee table."""

    @roles(*REPORT_READERS)
    @blp.response(200, FeeTableOut)
    def get(self, payer_id):
        """The payer's fee table, by code, site, component, modifier and date."""
        payer = service.get_payer(db.session, payer_id)
        return {"payer_id": payer.id, "revision": payer.revision, "items": payer.fees}

    @roles(*PAYER_MANAGERS, every_facility=PAYERS_ARE_GLOBAL)
    @write_endpoint
    @blp.arguments(FeeTableIn())
    @blp.response(200, FeeTableOut)
    def put(self, data, payer_id):
        """Replace the fee table with a CSV file's rows, all checked first (422 lists every
        problem by row and column, and nothing changes); audited."""
        payer = service.get_payer(db.session, payer_id)
        service.replace_fees(db.session, payer=payer, text=data["csv"], actor=api_user())
        db.session.expire(payer, ["fees"])
        return {"payer_id": payer.id, "revision": payer.revision, "items": payer.fees}
