"""Cases API: record, list, void and reprice cases; fee schedules, overrides, what-if pricing."""

from __future__ import annotations

from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import (
    ALL_ROLES,
    CASE_RECORDERS,
    EQUIPMENT_COSTERS,
    FEE_SCHEDULE_EDITORS,
    OVERRIDES_ARE_GLOBAL,
    PAYER_CHANGERS,
    REPORT_READERS,
)
from supply_app.cases import equipment, fees, pricing, repricing, service
from supply_app.cases.schemas import (
    CaseIn,
    CaseOut,
    CasePage,
    CasePayerIn,
    CaseQuery,
    EquipmentCostIn,
    EquipmentCostList,
    EquipmentCostRemove,
    EquipmentCostSet,
    NerveOut,
    OverrideIn,
    OverrideOut,
    PricedOut,
    PriceIn,
    RepriceIn,
    RepriceOut,
    ScheduleList,
    ScheduleOut,
    VoidIn,
    nerve_list,
)
from supply_app.coding import ANTERIOR_KNEE_NERVES, GENICULAR_NERVES, available_years
from supply_app.extensions import db
from supply_app.facilities.models import SITES_OF_SERVICE
from supply_app.facilities.service import get_facility
from supply_app.http import ApiBlueprint, paginate
from supply_app.idempotency import write_endpoint

blp = ApiBlueprint("cases", __name__, url_prefix="/api/v1", description="Cases and fee schedules")

CODE_RE = "<any(C9809, '64640', '64624', '0441T'):code>"
SITE_RE = "<any(" + ", ".join(SITES_OF_SERVICE) + "):site>"
YEAR_RE = "<int(min=2000, max=2100):year>"


def case_out(case):
    """A case with its supply cost and stale flag attached for the CaseOut schema."""
    case.supply_cost = service.supply_cost_cents(db.session, case)
    repricing.mark_stale(db.session, [case])
    return case


@blp.route("/cases")
class Cases(MethodView):
    """Procedure cases at the caller's facilities."""

    @roles(*ALL_ROLES)
    @blp.arguments(CaseQuery(), location="query")
    @blp.response(200, CasePage)
    def get(self, args):
        """List cases, newest date of service first."""
        user = api_user()
        if args.get("facility_id") is not None:
            get_facility(db.session, user, args["facility_id"])
        stmt = service.visible_cases(
            db.session,
            user,
            facility_id=args.get("facility_id"),
            status=args.get("status"),
            date_from=args.get("date_from"),
            date_to=args.get("date_to"),
        )
        page = paginate(db.session, stmt, args["page"], args["per_page"])
        repricing.mark_stale(db.session, list(page["items"]))
        return page

    @roles(*CASE_RECORDERS)
    @write_endpoint
    @blp.arguments(CaseIn())
    @blp.response(201, CaseOut)
    def post(self, data):
        """Record a case: consume its supplies and price it, all or nothing (clinicians, admins)."""
        return service.record_case(db.session, user=api_user(), data=data)


@blp.route("/cases/<int(max=2147483647):case_id>")
class CaseDetail(MethodView):
    """One case."""

    @roles(*ALL_ROLES)
    @blp.response(200, CaseOut)
    def get(self, case_id):
        """Get a case with its procedures, supplies, supply cost and priced snapshot."""
        return case_out(service.get_case(db.session, api_user(), case_id))


@blp.route("/cases/<int(max=2147483647):case_id>/void")
class CaseVoid(MethodView):
    """Void a case."""

    @roles(*CASE_RECORDERS)
    @write_endpoint
    @blp.arguments(VoidIn())
    @blp.response(200, CaseOut)
    def post(self, data, case_id):
        """Void a case: its supplies go back to stock; the record stays (clinicians, admins)."""
        case = service.get_case(db.session, api_user(), case_id)
        service.void_case(db.session, case=case, actor=api_user(), reason=data["reason"])
        return case_out(case)


@blp.route("/cases/<int(max=2147483647):case_id>/payer")
class CasePayer(MethodView):
    """Change a case's payer category."""

    @roles(*PAYER_CHANGERS)
    @write_endpoint
    @blp.arguments(CasePayerIn())
    @blp.response(200, CaseOut)
    def post(self, data, case_id):
        """Give a recorded case another payer and price it under that payer; audited."""
        case = service.get_case(db.session, api_user(), case_id)
        repricing.set_case_payer(db.session, case=case, payer_id=data["payer_id"], actor=api_user())
        return case_out(case)


@blp.route("/facilities/<int(max=2147483647):facility_id>/equipment-costs")
class EquipmentCosts(MethodView):
    """A facility's equipment cost per case: its own figure and each handpiece's."""

    @roles(*REPORT_READERS)
    @blp.response(200, EquipmentCostList)
    def get(self, facility_id):
        """The facility's figure first, then each handpiece's by serial."""
        facility = get_facility(db.session, api_user(), facility_id)
        return {"items": equipment.equipment_costs(db.session, facility)}

    @roles(*EQUIPMENT_COSTERS)
    @write_endpoint
    @blp.arguments(EquipmentCostIn())
    @blp.response(200, EquipmentCostSet)
    def put(self, data, facility_id):
        """Set the facility's figure, or a handpiece's (serial); re-costs its recorded cases."""
        facility = get_facility(db.session, api_user(), facility_id)
        row, recosted = equipment.set_equipment_cost(
            db.session, facility=facility, serial=data.get("serial"), data=data, actor=api_user()
        )
        return {"equipment_cost": row, "cases_recosted": recosted}


@blp.route("/facilities/<int(max=2147483647):facility_id>/equipment-costs/remove")
class EquipmentCostRemoval(MethodView):
    """Remove an equipment figure."""

    @roles(*EQUIPMENT_COSTERS)
    @write_endpoint
    @blp.arguments(EquipmentCostRemove())
    @blp.response(200, EquipmentCostSet)
    def post(self, data, facility_id):
        """Remove the facility's figure or a handpiece's; its cases fall back (re-costed)."""
        facility = get_facility(db.session, api_user(), facility_id)
        recosted = equipment.delete_equipment_cost(
            db.session, facility=facility, serial=data.get("serial"), actor=api_user()
        )
        return {"equipment_cost": None, "cases_recosted": recosted}


@blp.route("/cases/reprice")
class CaseReprice(MethodView):
    """Bring stale case prices up to the current schedule."""

    @roles(*FEE_SCHEDULE_EDITORS)
    @write_endpoint
    @blp.arguments(RepriceIn())
    @blp.response(200, RepriceOut)
    def post(self, data):
        """Reprice every case at your facilities priced under an older schedule version."""
        report = repricing.reprice_cases(db.session, user=api_user(), year=data.get("year"))
        return {**vars(report), "versions": {str(k): v for k, v in report.versions.items()}}


def schedule_summary(year: int, full: bool = False) -> dict:
    """A year's schedule with its published and current versions and overrides."""
    current = fees.current_schedule(db.session, year)
    summary = {
        "year": year,
        "published_version": fees.schedule_year(year).version,
        "current_version": current.version,
        "overrides": fees.list_overrides(db.session, year),
    }
    return {**summary, "schedule": current.to_dict()} if full else summary


@blp.route("/fee-schedules")
class FeeSchedules(MethodView):
    """The fee schedules the app can price with."""

    @roles(*ALL_ROLES)
    @blp.response(200, ScheduleList)
    def get(self):
        """List every year's schedule with its current version and overrides."""
        return {"items": [schedule_summary(year) for year in available_years()]}


@blp.route(f"/fee-schedules/{YEAR_RE}")
class FeeScheduleDetail(MethodView):
    """One year's schedule."""

    @roles(*ALL_ROLES)
    @blp.response(200, ScheduleOut)
    def get(self, year):
        """A year's schedule in full, overrides applied, every figure with its source."""
        return schedule_summary(year, full=True)


@blp.route(f"/fee-schedules/{YEAR_RE}/overrides/{CODE_RE}/{SITE_RE}")
class FeeOverrideDetail(MethodView):
    """Finance's amount for a code at a site in a year (e.g. C9809 in the HOPD)."""

    @roles(*FEE_SCHEDULE_EDITORS, every_facility=OVERRIDES_ARE_GLOBAL)
    @write_endpoint
    @blp.arguments(OverrideIn())
    @blp.response(200, OverrideOut)
    def put(self, data, year, code, site):
        """Set the amount (finance, admins holding every facility); audited.

        Cases are repriced only on request.
        """
        fees.schedule_year(year)
        return fees.set_override(
            db.session,
            year=year,
            code=code,
            site=site,
            amount_cents=data["amount"],
            note=data.get("note"),
            actor=api_user(),
        )

    @roles(*FEE_SCHEDULE_EDITORS, every_facility=OVERRIDES_ARE_GLOBAL)
    @write_endpoint
    @blp.response(204)
    def delete(self, year, code, site):
        """Remove an override so the published figure applies again (as for setting one)."""
        fees.delete_override(db.session, year=year, code=code, site=site, actor=api_user())


@blp.route("/coding/price")
class CodingPrice(MethodView):
    """What-if pricing."""

    @roles(*ALL_ROLES)
    @blp.arguments(PriceIn())
    @blp.response(200, PricedOut)
    def post(self, data):
        """Price a hypothetical claim; nothing is recorded (a pure calculation, safe to retry)."""
        return pricing.what_if(db.session, user=api_user(), data=data)


@blp.route("/coding/nerves")
class CodingNerves(MethodView):
    """The nerves a procedure can name."""

    @roles(*ALL_ROLES)
    @blp.response(200, NerveOut(many=True))
    def get(self):
        """Anterior-knee nerves (64640) then the genicular nerves (64624)."""
        return nerve_list("64640", ANTERIOR_KNEE_NERVES) + nerve_list("64624", GENICULAR_NERVES)
