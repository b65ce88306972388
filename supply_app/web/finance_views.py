"""Finance pages: per-case margin with filters, totals, charts and exports; fee schedules."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from supply_app.auth.permissions import (
    ALL_ROLES,
    FEE_SCHEDULE_EDITORS,
    OVERRIDES_ARE_GLOBAL,
    REPORT_READERS,
)
from supply_app.cases import fees, repricing
from supply_app.cases.rules import DATE_OF_SERVICE, PROCEDURE_CODE, SCHEDULE_YEAR
from supply_app.coding import available_years
from supply_app.extensions import db
from supply_app.facilities.rules import SITE_OF_SERVICE
from supply_app.http import PAGE
from supply_app.money import dollars
from supply_app.payers.service import list_payers
from supply_app.reporting import service as reporting
from supply_app.reporting.export import XLSX_DATA_ROWS, export_response, open_export
from supply_app.reporting.rules import GROUPING
from supply_app.web import bp
from supply_app.web.charts import Series, bar_chart
from supply_app.web.fields import RuleDateField, RuleSelectField
from supply_app.web.forms import ActionForm, OverrideForm, optional_id, options
from supply_app.web.helpers import facility_choices, me, query_number, run_write, ui_roles

ROWS_PER_PAGE = 50
CHART_ROWS = 120  # ten years of months


#: The billed filter: everything, billed cases only, or the cases billed to nobody.
BILLED_CHOICES = (("", "Billed and not billed"), ("yes", "Billed only"), ("no", "Not billed only"))


class MarginFilterForm(FlaskForm):
    """The report's filters, sent as a GET query (no state changes, so no CSRF)."""

    class Meta:
        csrf = False

    # Not checked against the choices: the service answers 404 for a facility not yours.
    facility_id = SelectField(
        "Facility", coerce=optional_id, validators=[Optional()], validate_choice=False
    )
    date_from = RuleDateField("Service from", DATE_OF_SERVICE, optional=True)
    date_to = RuleDateField("Service to", DATE_OF_SERVICE, optional=True)
    site_of_service = RuleSelectField("Site of service", SITE_OF_SERVICE, blank="Any")
    code = RuleSelectField("Code", PROCEDURE_CODE, blank="Any")
    payer_id = SelectField(
        "Payer", coerce=optional_id, validators=[Optional()], validate_choice=False
    )
    billed = SelectField("Billed", choices=options(*BILLED_CHOICES), default="")
    group_by = RuleSelectField("Group by", GROUPING, default="case")


def _filter_form() -> MarginFilterForm:
    """The filter form bound to the query string, with its choices."""
    form = MarginFilterForm(request.args)
    form.facility_id.choices = options(("", "All my facilities")) + facility_choices()
    form.payer_id.choices = options(("", "Every payer")) + [
        SelectChoice(p.id, p.name) for p in list_payers(db.session)
    ]
    return form


def _report_args(form: MarginFilterForm) -> dict[str, Any]:
    """The reporting service's arguments from a validated filter form."""
    return {
        "facility_id": form.facility_id.data,
        "date_from": form.date_from.data,
        "date_to": form.date_to.data,
        "site_of_service": form.site_of_service.data or None,
        "code": form.code.data or None,
        "payer_id": form.payer_id.data,
        "billed": {"yes": True, "no": False}.get(form.billed.data or ""),
        "group_by": [form.group_by.data or "case"],
    }


def _valid(form: MarginFilterForm) -> bool:
    """Validate the filters, including the date order."""
    ok = form.validate()
    if ok and form.date_from.data and form.date_to.data and form.date_from.data > form.date_to.data:
        form.date_to.errors = ["Must be on or after the start date."]
        ok = False
    return ok


def _cents(value: int | None) -> int:
    """A figure for a bar: a group with no billed case has no margin, drawn as none."""
    return value or 0


def _charts(args: dict[str, Any]) -> list:
    """Margin after equipment by month, site and payer (billed cases), and cost against
    collection and the benchmark by month."""
    by_month, by_site, by_payer = (
        reporting.margin_page(db.session, me(), {**args, "group_by": [key]}, 1, CHART_ROWS)["items"]
        for key in ("month", "site_of_service", "payer")
    )
    months = [str(row["month"])[:7] for row in by_month]
    margin_colours = ("#1e6b34", "#b3261e")  # green, red below zero
    charts = [
        (
            "Margin after equipment by month of service (billed cases)",
            months,
            [
                Series(
                    "Margin after equipment",
                    [_cents(r["margin_after_equipment"]) for r in by_month],
                    *margin_colours,
                )
            ],
        ),
        (
            "Margin after equipment by site of service (billed cases)",
            [row["site_of_service"] for row in by_site],
            [
                Series(
                    "Margin after equipment",
                    [_cents(r["margin_after_equipment"]) for r in by_site],
                    *margin_colours,
                )
            ],
        ),
        (
            "Margin after equipment by payer (billed cases)",
            [row["payer_name"] for row in by_payer],
            [
                Series(
                    "Margin after equipment",
                    [_cents(r["margin_after_equipment"]) for r in by_payer],
                    *margin_colours,
                )
            ],
        ),
        (
            "Cost against expected collection and the Medicare benchmark, by month",
            months,
            [
                Series(
                    "Supply and equipment cost",
                    [r["supply_cost"] + r["equipment_cost"] for r in by_month],
                    "#b3261e",
                ),
                Series(
                    "Expected collection", [r["expected_collection"] for r in by_month], "#0b5cad"
                ),
                Series(
                    "Medicare benchmark", [r["medicare_benchmark"] for r in by_month], "#7a5195"
                ),
            ],
        ),
    ]
    return [
        (title, bar_chart(title, labels, series), labels, series)
        for title, labels, series in charts
    ]


@bp.route("/reports/margin")
@ui_roles(*REPORT_READERS)
def margin():
    """The per-case margin table with filters, totals, charts and download links."""
    form = _filter_form()
    page = query_number("page", PAGE, 1)
    if not _valid(form):
        return render_template("finance/margin.html", form=form, report=None, charts=[]), 422
    args = _report_args(form)
    report = reporting.margin_page(db.session, me(), args, page, ROWS_PER_PAGE)
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "finance/margin.html",
        form=form,
        report=report,
        group_by=args["group_by"][0],
        charts=_charts(args),
        query=query,
        xlsx_rows=XLSX_DATA_ROWS,
    )


@bp.route("/reports/margin.<any(csv, xlsx):fmt>")
@ui_roles(*REPORT_READERS)
def margin_export(fmt: str):
    """Download the filtered report (every row, then a TOTAL row) as CSV or XLSX, streamed.

    The page's download buttons fetch this with export.js, which shows progress and saves
    the file only once it has checked that the whole file arrived.
    """
    form = _filter_form()
    if not _valid(form):
        return render_template("finance/margin.html", form=form, report=None, charts=[]), 422
    export = open_export(db.session, db.engine, me(), {**_report_args(form), "format": fmt})
    return export_response(export)


def _year_arg() -> int:
    """The schedule year asked for, else the latest one available."""
    years = available_years()
    year = query_number("year", SCHEDULE_YEAR, 0)
    return year if year in years else max(years)


def _render_schedules(year: int, form: OverrideForm, status: int = 200):
    """The fee schedule page for a year, with its overrides and the override form."""
    return (
        render_template(
            "finance/fee_schedules.html",
            year=year,
            years=available_years(),
            published=fees.schedule_year(year),
            schedule=fees.current_schedule(db.session, year),
            overrides=fees.list_overrides(db.session, year),
            form=form,
            reprice_form=ActionForm(),
            # Overrides apply to every facility; a reprice touches only your own cases.
            can_set=me().role in FEE_SCHEDULE_EDITORS and me().all_facilities,
            can_reprice=me().role in FEE_SCHEDULE_EDITORS,
        ),
        status,
    )


def _override_form(year: int) -> OverrideForm:
    """The C9809 override form with the schedule years to choose from."""
    form = OverrideForm()
    form.year.choices = options(*((y, f"CY{y}") for y in available_years()))
    if request.method == "GET":
        form.year.data = year
    return form


@bp.route("/fee-schedules")
@ui_roles(*ALL_ROLES)
def fee_schedules():
    """A year's fee schedule: every code's figures with source and confidence."""
    year = _year_arg()
    return _render_schedules(year, _override_form(year))


@bp.route("/fee-schedules/overrides", methods=["POST"])
@ui_roles(*FEE_SCHEDULE_EDITORS, every_facility=OVERRIDES_ARE_GLOBAL)
def fee_override():
    """Set the C9809 amount a schedule year uses at a site (audited)."""
    form = _override_form(_year_arg())
    if form.validate_on_submit():

        def work():
            return fees.set_override(
                db.session,
                year=form.year.data,
                code="C9809",
                site=form.site.data,
                amount_cents=form.amount.data,
                note=form.note.data or None,
                actor=me(),
            )

        if run_write(form, work, {"code": "site", "amount": "amount"}) is not None:
            flash(
                f"C9809 at {form.site.data} for CY{form.year.data} set to "
                f"{dollars(form.amount.data)}. "
                "Recorded cases keep their price until you reprice them.",
                "success",
            )
            return redirect(url_for("web.fee_schedules", year=form.year.data))
    return _render_schedules(form.year.data or _year_arg(), form, 422)


@bp.route("/fee-schedules/reprice", methods=["POST"])
@ui_roles(*FEE_SCHEDULE_EDITORS)
def fee_reprice():
    """Reprice every case priced under an older schedule version (explicit bulk action)."""
    form = ActionForm()
    year = _year_arg()
    if form.validate_on_submit():
        report = run_write(form, lambda: repricing.reprice_cases(db.session, user=me()))
        if report is not None:
            flash(
                f"Repriced {report.repriced} of {report.examined} stale case(s); "
                f"{report.changed} changed amount; {len(report.failed)} could not be priced.",
                "success",
            )
            return redirect(url_for("web.fee_schedules", year=year))
    return _render_schedules(year, _override_form(year), 409)
