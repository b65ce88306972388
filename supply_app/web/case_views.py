"""Case pages: the point-of-use form, the priced result with its explanation, list and void."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from supply_app.auth.permissions import ALL_ROLES, CASE_RECORDERS, PAYER_CHANGERS
from supply_app.cases import equipment, repricing
from supply_app.cases import service as cases
from supply_app.cases.rules import CASE_STATUS, PICK_EACHES
from supply_app.catalog.service import parts_query
from supply_app.coding import ANTERIOR_KNEE_NERVES, GENICULAR_NERVES, NERVE_LABELS
from supply_app.errors import InvalidInput
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.web import bp
from supply_app.web.fields import RuleNumberField
from supply_app.web.forms import CaseForm, VoidForm, options
from supply_app.web.helpers import (
    chosen_facility,
    me,
    my_facilities,
    page,
    run_write,
    status_filter,
    ui_roles,
)
from supply_app.web.payer_forms import CasePayerForm
from supply_app.web.payer_views import payer_choices

CASE_LIST_LIMIT = 100


def _consumable_parts() -> list:
    """Smart Tips and cartridges: the parts a case consumes, for the pick list."""
    return [
        part
        for part in db.session.scalars(parts_query())
        if part.active and part.category in cases.CONSUMABLE_CATEGORIES
    ]


def _case_form(parts: list) -> CaseForm:
    """The case form with one 'eaches by earliest expiry' field per consumable part."""

    class PickedCaseForm(CaseForm):
        """CaseForm plus the pick list."""

    for part in parts:
        setattr(
            PickedCaseForm,
            f"pick_{part.id}",
            RuleNumberField(f"{part.part_number} eaches", PICK_EACHES, optional=True),
        )
    form = PickedCaseForm()
    # Each facility says whether its cases bill the device by default, which payer they
    # start with and whether its contractor wants 0441T (case.js follows them).
    form.facility_id.choices = [
        SelectChoice(
            f.id,
            f"{f.code} · {f.name}",
            render_kw={
                "data-bill-device": "true" if f.bill_device_by_default else "false",
                "data-default-payer": str(f.default_payer_id),
                "data-bills-0441t": "true" if f.bills_0441t else "false",
            },
        )
        for f in my_facilities()
    ]
    form.payer_id.choices = options(("", "The facility's default payer")) + payer_choices()
    for field, nerves in (("anterior", ANTERIOR_KNEE_NERVES), ("genicular", GENICULAR_NERVES)):
        form[field].choices = options(*((n, NERVE_LABELS[n]) for n in nerves))
        form[f"{field}_left"].choices = options(
            *((n, f"{NERVE_LABELS[n]}, left knee") for n in nerves)
        )
    return form


#: (laterality of the lines, anterior field, genicular field) of each knee a case names.
ONE_SET = ((None, "anterior", "genicular"),)
TWO_KNEES = (("RT", "anterior", "genicular"), ("LT", "anterior_left", "genicular_left"))


def _procedures(form: CaseForm) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Codes derived from the nerves treated, and where each one's errors belong.

    A bilateral case whose left knee had other nerves names them apart: the first set is
    then the right knee's, and each knee's lines carry RT or LT.

    :raises InvalidInput: nothing treated and no device billed, or a left-knee set on a
        case that is not bilateral (or without the right knee's).
    """
    left = bool(form.anterior_left.data or form.genicular_left.data)
    if left and form.laterality.data != "bilateral":
        raise InvalidInput(
            "Only a bilateral case names the left knee's nerves apart; choose Bilateral as "
            "the side, or clear the left-knee boxes.",
            field="anterior_left",
        )
    if left and not (form.anterior.data or form.genicular.data):
        raise InvalidInput(
            "Tick the right knee's nerves too (or choose LT as the side).", field="anterior"
        )
    procedures: list[dict[str, Any]] = []
    where: dict[str, str] = {}
    # Both knees, the same nerves: codes billed per nerve go on each knee's own lines (a
    # modifier 50 line is one unit, so it cannot carry several nerves); 64624 stays -50.
    mirrored = form.laterality.data == "bilateral" and not left
    for side, anterior, genicular in TWO_KNEES if left else ONE_SET:
        if form.as_0441t.data:  # one 0441T line per knee names every nerve treated there
            nerves = [*(getattr(form, anterior).data or []), *(getattr(form, genicular).data or [])]
            if nerves:
                for each in ("RT", "LT") if mirrored else (side,):
                    where[f"procedures[{len(procedures)}]"] = anterior
                    line = {"code": "0441T", "nerves": nerves}
                    procedures.append(line | ({"laterality": each} if each else {}))
            continue
        for code, field in (("64640", anterior), ("64624", genicular)):
            nerves = getattr(form, field).data or []
            per_knee = ("RT", "LT") if mirrored and code == "64640" else (side,)
            for each in per_knee if nerves else ():
                where[f"procedures[{len(procedures)}]"] = field
                line = {"code": code, "nerves": list(nerves)}
                procedures.append(line | ({"laterality": each} if each else {}))
    if form.device.data:
        where[f"procedures[{len(procedures)}]"] = "device"
        procedures.append({"code": "C9809"})
    if not procedures:
        raise InvalidInput("Tick the nerves treated (or the device billed).", field="anterior")
    return procedures, where


def _supplies(form: CaseForm, parts: list) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Supply lines: each barcode scanned (one each per scan), then eaches picked FEFO.

    The same barcode scanned four times is one line of four eaches, so a shortage says how
    many were scanned against what is on hand.

    :raises InvalidInput: no supplies, unless the form says none were used.
    """
    supplies: list[dict[str, Any]] = []
    where: dict[str, str] = {}
    scanned = Counter(raw.strip() for raw in (form.scans.data or "").splitlines() if raw.strip())
    for raw, times in scanned.items():
        where[f"supplies[{len(supplies)}]"] = "scans"
        supplies.append({"scan": raw, "eaches": times})
    for part in parts:
        eaches = getattr(form, f"pick_{part.id}").data
        if eaches:
            where[f"supplies[{len(supplies)}]"] = f"pick_{part.id}"
            supplies.append({"part_id": part.id, "eaches": eaches})
    if supplies and form.no_supplies.data:
        raise InvalidInput(
            "Supplies are scanned or picked, yet 'No tips or cartridges were used' is ticked; "
            "untick it or clear the supplies.",
            field="no_supplies",
        )
    if not supplies and not form.no_supplies.data:
        raise InvalidInput(
            "This case names no supplies. Scan or pick the Smart Tips and cartridges used, or "
            "tick 'No tips or cartridges were used in this case'.",
            field="scans",
        )
    return supplies, where


@bp.route("/cases/new", methods=["GET", "POST"])
@ui_roles(*CASE_RECORDERS)
def case_new():
    """Record a case at the point of use; shows the priced result once saved."""
    parts = _consumable_parts()
    form = _case_form(parts)
    if request.method == "GET":
        facility = chosen_facility()
        form.facility_id.data = facility.id
        form.date_of_service.data = facility.today()
        form.device.data = facility.bill_device_by_default
        form.payer_id.data = facility.default_payer_id
        form.as_0441t.data = facility.bills_0441t
    if form.validate_on_submit():
        where: dict[str, str] = {
            "facility_id": "facility_id",
            "payer_id": "payer_id",
            "handpiece_serial": "handpiece_serial",
        }

        def work():
            procedures, procedure_fields = _procedures(form)
            supplies, supply_fields = _supplies(form, parts)
            where.update(procedure_fields | supply_fields)
            data = {
                "facility_id": form.facility_id.data,
                "date_of_service": form.date_of_service.data,
                "reference": form.reference.data,
                "laterality": form.laterality.data,
                "procedures": procedures,
                "supplies": supplies,
            }
            if form.payer_id.data is not None:
                data["payer_id"] = form.payer_id.data
            if form.handpiece_serial.data:
                data["handpiece_serial"] = form.handpiece_serial.data
            return cases.record_case(db.session, user=me(), data=data)

        case = run_write(form, work, where)
        if case is not None:
            flash(f"Case {case.reference} recorded and priced.", "success")
            return redirect(url_for("web.case", case_id=case.id))
    return page("cases/new.html", form=form, parts=parts, serials=_known_serials())


def _known_serials() -> list[str]:
    """Handpiece serials with an equipment figure at the user's facilities (a datalist)."""
    serials = {
        cost.serial
        for facility in my_facilities()
        for cost in equipment.equipment_costs(db.session, facility)
        if cost.serial
    }
    return sorted(serials)


@bp.route("/cases")
@ui_roles(*ALL_ROLES)
def cases_list():
    """Recent cases at a facility, newest date of service first."""
    facility = chosen_facility()
    status = status_filter(CASE_STATUS.values)
    stmt = cases.visible_cases(db.session, me(), facility_id=facility.id, status=status)
    return render_template(
        "cases/index.html",
        facility=facility,
        facilities=my_facilities(),
        cases=list(db.session.scalars(stmt.limit(CASE_LIST_LIMIT))),
        status=status,
        statuses=CASE_STATUS.values,
    )


def _render_case(
    case, form: VoidForm | None = None, status: int = 200, payer_form: CasePayerForm | None = None
):
    """The case page: codes, priced components, supplies, margin and the explanation."""
    cost = cases.supply_cost_cents(db.session, case)
    if payer_form is None:
        payer_form = CasePayerForm(formdata=None)
        payer_form.payer_id.data = case.payer_id
    payer_form.payer_id.choices = payer_choices()
    return (
        render_template(
            "cases/detail.html",
            case=case,
            cost=cost,
            supplies=[(s, inventory.get_lot(db.session, s.lot_id)) for s in case.supplies],
            margin=case.collection_cents - cost - case.equipment_cents if case.billed else None,
            pricing=case.pricing or {},
            collection=case.collection or {},
            payer_form=payer_form,
            can_change_payer=me().role in PAYER_CHANGERS,
            nerve_labels=NERVE_LABELS,
            void_form=form or VoidForm(),
            can_void=me().role in CASE_RECORDERS,
            today=case.facility.today(),
        ),
        status,
    )


@bp.route("/cases/<int(max=2147483647):case_id>")
@ui_roles(*ALL_ROLES)
def case(case_id: int):
    """One case with its priced snapshot."""
    return _render_case(cases.get_case(db.session, me(), case_id))


@bp.route("/cases/<int(max=2147483647):case_id>/void", methods=["POST"])
@ui_roles(*CASE_RECORDERS)
def case_void(case_id: int):
    """Void a case: its supplies go back on the shelf and it leaves the margin figures."""
    form = VoidForm()
    if form.validate_on_submit():

        def work():
            found = cases.get_case(db.session, me(), case_id)
            return cases.void_case(db.session, case=found, actor=me(), reason=form.reason.data)

        if run_write(form, work) is not None:
            flash("Case voided; its supplies are back in stock.", "success")
            return redirect(url_for("web.case", case_id=case_id))
    return _render_case(cases.get_case(db.session, me(), case_id), form, 422)


@bp.route("/cases/<int(max=2147483647):case_id>/payer", methods=["POST"])
@ui_roles(*PAYER_CHANGERS)
def case_payer(case_id: int):
    """Give a recorded case another payer category; it is priced again under it (audited)."""
    form = CasePayerForm()
    form.payer_id.choices = payer_choices()
    if form.validate_on_submit():

        def work():
            found = cases.get_case(db.session, me(), case_id)
            return repricing.set_case_payer(
                db.session, case=found, payer_id=form.payer_id.data, actor=me()
            )

        changed = run_write(form, work)
        if changed is not None:
            flash(f"Payer changed to {changed.payer.name}; the case was priced again.", "success")
            return redirect(url_for("web.case", case_id=case_id))
    found = cases.get_case(db.session, me(), case_id)
    return _render_case(found, status=422, payer_form=form)
