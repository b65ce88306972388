"""Payer pages: payer categories, their fee tables (CSV in and out), a facility's billing
settings and its equipment cost per case."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from supply_app.auth.permissions import (
    ALL_ROLES,
    EQUIPMENT_COSTERS,
    FACILITY_ADMINS,
    PAYER_MANAGERS,
    PAYERS_ARE_GLOBAL,
    REPORT_READERS,
)
from supply_app.cases import equipment
from supply_app.coding import Basis
from supply_app.errors import InvalidInput
from supply_app.extensions import db
from supply_app.facilities.rules import WAGE_INDEX
from supply_app.facilities.service import get_facility, update_facility
from supply_app.money import dollars
from supply_app.payers import feetable
from supply_app.payers import service as payers
from supply_app.payers.models import Payer
from supply_app.payers.rules import BASIS, PERCENT
from supply_app.web import bp
from supply_app.web.helpers import me, page, run_write, ui_roles
from supply_app.web.payer_forms import (
    EquipmentCostForm,
    EquipmentRemoveForm,
    FacilityBillingForm,
    FeeTableForm,
    PayerForm,
)

PAYER_PAGE = "<int(max=2147483647):payer_id>"
FACILITY_PAGE = "<int(max=2147483647):facility_id>"
#: Why a user who holds only some facilities sees payers read-only.
READ_ONLY_WHY = (
    "Payers and their fee tables price every facility's cases, so only finance staff and "
    "administrators who hold every facility change them. You can read them here."
)


def basis_words(payer: Payer) -> str:
    """How a payer pays, in words: "Percentage of Medicare (120.00%)"."""
    words = BASIS.words(payer.basis)
    if payer.basis == Basis.PERCENT_OF_MEDICARE and payer.percent_hundredths is not None:
        words += f" ({PERCENT.format(payer.percent_hundredths)}%)"
    return words


def payer_choices() -> list[SelectChoice]:
    """Active payers for a select, each with how it pays."""
    return [
        SelectChoice(p.id, f"{p.name} · {basis_words(p)}")
        for p in payers.list_payers(db.session, include_inactive=False)
    ]


def can_manage_payers() -> bool:
    """Whether the signed-in user may change payers (finance or admin holding every facility)."""
    return me().role in PAYER_MANAGERS and me().all_facilities


def _fee_problems(error: InvalidInput) -> list[dict[str, Any]]:
    return list(error.members.get("problems") or [])


@bp.route("/payers")
@ui_roles(*REPORT_READERS)
def payers_list():
    """Every payer: how it pays, its fee table's size, whether it is active, its revision."""
    return render_template(
        "payers/index.html",
        payers=payers.list_payers(db.session),
        basis_words=basis_words,
        can_manage=can_manage_payers(),
        read_only_why=READ_ONLY_WHY,
    )


def _payer_from(form: PayerForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "basis": form.basis.data,
        "percent_hundredths": form.percent.data,
        "medicare_rules": form.medicare_rules.data,
        "note": form.note.data or None,
        "active": form.active.data,
    }


ALIASES = {"percent_hundredths": "percent", "percent": "percent"}


@bp.route("/payers/new", methods=["GET", "POST"])
@ui_roles(*PAYER_MANAGERS, every_facility=PAYERS_ARE_GLOBAL)
def payer_new():
    """Add a payer category (audited)."""
    form = PayerForm()
    if request.method == "GET":
        form.medicare_rules.data = True
        form.active.data = True
    if form.validate_on_submit():

        def work():
            return payers.create_payer(db.session, data=_payer_from(form), actor=me())

        payer = run_write(form, work, ALIASES)
        if payer is not None:
            flash(f"Payer {payer.name} added. Load its fee table here if it has one.", "success")
            return redirect(url_for("web.payer", payer_id=payer.id))
    return page("payers/new.html", form=form)


def _render_payer(payer: Payer, form: PayerForm | None = None, fees_form=None, problems=()):
    """A payer's page: its terms, the edit form, its fee table and the upload form."""
    if form is None:
        form = PayerForm(obj=payer, formdata=None)
        form.percent.data = payer.percent_hundredths
    return page(
        "payers/detail.html",
        payer=payer,
        form=form,
        fees_form=fees_form or FeeTableForm(formdata=None),
        problems=list(problems),
        basis_words=basis_words,
        can_manage=can_manage_payers(),
        read_only_why=READ_ONLY_WHY,
    )


@bp.route(f"/payers/{PAYER_PAGE}")
@ui_roles(*REPORT_READERS)
def payer(payer_id: int):
    """One payer with its fee table."""
    return _render_payer(payers.get_payer(db.session, payer_id))


@bp.route(f"/payers/{PAYER_PAGE}", methods=["POST"])
@ui_roles(*PAYER_MANAGERS, every_facility=PAYERS_ARE_GLOBAL)
def payer_edit(payer_id: int):
    """Change a payer's terms; a change to how it pays makes its cases stale (audited)."""
    form = PayerForm()
    if form.validate_on_submit():

        def work():
            found = payers.get_payer(db.session, payer_id)
            return (
                found,
                found.revision,
                payers.update_payer(db.session, payer=found, changes=_payer_from(form), actor=me()),
            )

        done = run_write(form, work, ALIASES)
        if done is not None:
            found, before, _ = done
            more = (
                " Its recorded cases are now stale until repriced."
                if found.revision != before
                else ""
            )
            flash(f"Payer {found.name} saved.{more}", "success")
            return redirect(url_for("web.payer", payer_id=payer_id))
    return _render_payer(payers.get_payer(db.session, payer_id), form)


@bp.route(f"/payers/{PAYER_PAGE}/fees", methods=["POST"])
@ui_roles(*PAYER_MANAGERS, every_facility=PAYERS_ARE_GLOBAL)
def payer_fees(payer_id: int):
    """Replace a payer's fee table with a CSV file's rows, every row checked first."""
    form = FeeTableForm()
    problems: list[dict[str, Any]] = []
    if form.validate_on_submit():
        text = form.upload.data or form.csv.data
        if not text:
            form.upload.errors = ["Choose a CSV file, or paste the table below."]
        else:

            def work():
                found = payers.get_payer(db.session, payer_id)
                try:
                    return payers.replace_fees(db.session, payer=found, text=text, actor=me())
                except InvalidInput as exc:
                    problems.extend(_fee_problems(exc))
                    raise

            rows = run_write(form, work, {"csv": "csv"})
            if rows is not None:
                flash(
                    f"Fee table loaded: {len(rows)} row(s). Cases under this payer are stale "
                    "until repriced.",
                    "success",
                )
                return redirect(url_for("web.payer", payer_id=payer_id))
            if problems:  # the summary lists each problem; the field needs no repeat
                form.csv.errors = []
                form.form_errors.clear()
    return _render_payer(payers.get_payer(db.session, payer_id), fees_form=form, problems=problems)


def _csv_download(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route(f"/payers/{PAYER_PAGE}/fees.csv")
@ui_roles(*REPORT_READERS)
def payer_fees_csv(payer_id: int):
    """The payer's fee table as a CSV file the upload reads back."""
    found = payers.get_payer(db.session, payer_id)
    return _csv_download(feetable.write_fee_table(found.fees), f"fee-table-{found.id}.csv")


@bp.route("/payers/fee-table-example.csv")
@ui_roles(*REPORT_READERS)
def fee_table_example():
    """An example fee-table file with the header and two rows."""
    return _csv_download(feetable.EXAMPLE, "fee-table-example.csv")


def _billing_form(facility) -> FacilityBillingForm:
    form = FacilityBillingForm()
    form.default_payer_id.choices = payer_choices()
    if request.method == "GET":
        form.default_payer_id.data = facility.default_payer_id
        form.wage_index.data = facility.wage_index
        form.bills_0441t.data = facility.bills_0441t
    return form


def _render_facility_payment(facility, billing=None, cost_form=None):
    """A facility's billing settings and equipment costs on one page."""
    return page(
        "facilities/billing.html",
        facility=facility,
        billing=billing or _billing_form(facility),
        cost_form=cost_form or EquipmentCostForm(formdata=None),
        remove_form=EquipmentRemoveForm(formdata=None),
        costs=equipment.equipment_costs(db.session, facility),
        default_payer=db.session.get(Payer, facility.default_payer_id)
        if facility.default_payer_id
        else None,
        wage_index_text=None
        if facility.wage_index is None
        else WAGE_INDEX.format(facility.wage_index),
        can_bill=me().role in FACILITY_ADMINS,
        can_cost=me().role in EQUIPMENT_COSTERS,
    )


@bp.route(f"/facilities/{FACILITY_PAGE}/billing")
@ui_roles(*ALL_ROLES)
def facility_billing(facility_id: int):
    """A facility's default payer, wage index, 0441T setting and equipment costs."""
    return _render_facility_payment(get_facility(db.session, me(), facility_id))


@bp.route(f"/facilities/{FACILITY_PAGE}/billing", methods=["POST"])
@ui_roles(*FACILITY_ADMINS)
def facility_billing_save(facility_id: int):
    """Save a facility's default payer, wage index and 0441T setting (audited)."""
    facility = get_facility(db.session, me(), facility_id)
    form = _billing_form(facility)
    if form.validate_on_submit():

        def work():
            changes = {
                "default_payer_id": form.default_payer_id.data,
                "wage_index": form.wage_index.data,
                "bills_0441t": form.bills_0441t.data,
            }
            return update_facility(db.session, facility=facility, changes=changes, actor=me())

        if run_write(form, work) is not None:
            flash(f"Billing settings of {facility.code} saved.", "success")
            return redirect(url_for("web.facility_billing", facility_id=facility_id))
    return _render_facility_payment(facility, billing=form)


@bp.route(f"/facilities/{FACILITY_PAGE}/equipment", methods=["POST"])
@ui_roles(*EQUIPMENT_COSTERS)
def equipment_cost_set(facility_id: int):
    """Set the facility's equipment figure or a handpiece's; re-costs its recorded cases."""
    facility = get_facility(db.session, me(), facility_id)
    form = EquipmentCostForm()
    if form.validate_on_submit():
        data = {
            "acquisition": form.acquisition.data,
            "salvage": form.salvage.data or 0,
            "life_years": form.life_years.data,
            "cases_per_year": form.cases_per_year.data,
            "note": form.note.data or None,
        }

        def work():
            return equipment.set_equipment_cost(
                db.session, facility=facility, serial=form.serial.data, data=data, actor=me()
            )

        done = run_write(form, work)
        if done is not None:
            row, recosted = done
            which = f"handpiece {row.serial}" if row.serial else "the facility"
            flash(
                f"Equipment cost for {which}: {dollars(row.per_case_cents)} per case; "
                f"{recosted} recorded case(s) re-costed.",
                "success",
            )
            return redirect(url_for("web.facility_billing", facility_id=facility_id))
    return _render_facility_payment(facility, cost_form=form)


@bp.route(f"/facilities/{FACILITY_PAGE}/equipment/remove", methods=["POST"])
@ui_roles(*EQUIPMENT_COSTERS)
def equipment_cost_remove(facility_id: int):
    """Remove an equipment figure; its cases fall back to the facility's (or none)."""
    facility = get_facility(db.session, me(), facility_id)
    form = EquipmentRemoveForm()
    if form.validate_on_submit():
        serial = form.serial.data or None

        def work():
            return equipment.delete_equipment_cost(
                db.session, facility=facility, serial=serial, actor=me()
            )

        recosted = run_write(form, work)
        if recosted is not None:
            which = f"handpiece {serial}" if serial else "the facility"
            flash(
                f"Equipment cost for {which} removed; {recosted} recorded case(s) re-costed.",
                "success",
            )
            return redirect(url_for("web.facility_billing", facility_id=facility_id))
    cost_form = EquipmentCostForm(formdata=None)
    cost_form.form_errors.extend(form.form_errors)
    cost_form.form_errors.extend(e for errors in form.errors.values() for e in errors)
    return _render_facility_payment(facility, cost_form=cost_form)
