"""Facilities API."""

from __future__ import annotations

from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import ALL_ROLES, FACILITY_ADMINS, NEW_FACILITY
from supply_app.extensions import db
from supply_app.facilities import service
from supply_app.facilities.schemas import (
    FacilityIn,
    FacilityOut,
    FacilityPage,
    FacilityPatch,
    FacilityQuery,
)
from supply_app.http import ApiBlueprint, paginate
from supply_app.idempotency import write_endpoint

blp = ApiBlueprint("facilities", __name__, url_prefix="/api/v1", description="Facilities")


@blp.route("/facilities")
class Facilities(MethodView):
    """Facilities the caller belongs to."""

    @roles(*ALL_ROLES)
    @blp.arguments(FacilityQuery, location="query")
    @blp.response(200, FacilityPage)
    def get(self, args):
        """List the facilities you belong to."""
        stmt = service.visible_facilities(db.session, api_user(), args["include_inactive"])
        return paginate(db.session, stmt, args["page"], args["per_page"])

    @roles(*FACILITY_ADMINS, every_facility=NEW_FACILITY)
    @write_endpoint
    @blp.arguments(FacilityIn)
    @blp.response(201, FacilityOut)
    def post(self, data):
        """Create a facility (admins who hold every facility)."""
        return service.create_facility(db.session, data=data, actor=api_user())


@blp.route("/facilities/<int(max=2147483647):facility_id>")
class FacilityDetail(MethodView):
    """One facility."""

    @roles(*ALL_ROLES)
    @blp.response(200, FacilityOut)
    def get(self, facility_id):
        """Get a facility you belong to."""
        return service.get_facility(db.session, api_user(), facility_id)

    @roles(*FACILITY_ADMINS)
    @write_endpoint
    @blp.arguments(FacilityPatch)
    @blp.response(200, FacilityOut)
    def patch(self, changes, facility_id):
        """Edit a facility, or deactivate it with {"active": false} (admins)."""
        facility = service.get_facility(db.session, api_user(), facility_id)
        return service.update_facility(
            db.session, facility=facility, changes=changes, actor=api_user()
        )
