"""Stock pages: balances by part and lot, alerts, the ledger, stock movements and scanning."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from supply_app.auth.permissions import ALL_ROLES, STOCK_MOVERS
from supply_app.auth.service import require_role
from supply_app.catalog.models import Part
from supply_app.catalog.service import parts_query
from supply_app.extensions import db
from supply_app.facilities.service import get_active_facility
from supply_app.fields import ID
from supply_app.inventory import service as inventory
from supply_app.inventory.rules import PAR_MAX, PAR_MIN
from supply_app.reporting import service as reporting
from supply_app.web import bp
from supply_app.web.fields import RuleNumberField
from supply_app.web.helpers import (
    chosen_facility,
    me,
    my_facilities,
    page,
    query_number,
    run_write,
    ui_roles,
)
from supply_app.web.movement_views import orders_by_line, reversible

MOVEMENTS_PER_PAGE = 50


@bp.route("/stock")
@ui_roles(*ALL_ROLES)
def stock():
    """Balances of one facility: totals per part, then every lot with expiry highlighted."""
    facility = chosen_facility()
    today = facility.today()
    return render_template(
        "stock/index.html",
        facility=facility,
        facilities=my_facilities(),
        totals=inventory.part_totals(db.session, facility.id, today),
        balances=list(db.session.scalars(inventory.balances_query(facility.id))),
        today=today,
        can_move=me().role in STOCK_MOVERS,
    )


@bp.route("/stock/alerts")
@ui_roles(*ALL_ROLES)
def alerts():
    """Below-par parts, lots expiring within the facility's window, and expired stock."""
    facility = chosen_facility()
    found = inventory.alerts(db.session, facility)
    return render_template(
        "stock/alerts.html",
        facility=facility,
        facilities=my_facilities(),
        alerts=found,
        can_move=me().role in STOCK_MOVERS,
    )


@bp.route("/stock/movements")
@ui_roles(*ALL_ROLES)
def movements():
    """The facility's ledger, newest first, one keyset page at a time."""
    facility = chosen_facility()
    before_id = query_number("before", ID, 0)
    rows = inventory.ledger_page(
        db.session,
        facility_ids=[facility.id],
        after_id=before_id,
        limit=MOVEMENTS_PER_PAGE + 1,
        newest_first=True,
    )
    shown = rows[:MOVEMENTS_PER_PAGE]
    return render_template(
        "stock/movements.html",
        facility=facility,
        facilities=my_facilities(),
        movements=shown,
        reversed_ids=inventory.reversed_ids(db.session, [m.id for m in shown]),
        reversible=reversible,
        orders_by_line=orders_by_line(shown),
        can_move=me().role in STOCK_MOVERS,
        older_than=rows[MOVEMENTS_PER_PAGE - 1].id if len(rows) > MOVEMENTS_PER_PAGE else None,
        before_id=before_id,
    )


def _par_form(parts: list[Part], levels: dict[int, Any]) -> FlaskForm:
    """A form with a min and max eaches field per active part, filled from current levels."""

    class ParForm(FlaskForm):
        """Par levels of one facility."""

    for part in parts:
        for end in ("min", "max"):
            setattr(
                ParForm,
                f"{end}_{part.id}",
                RuleNumberField(
                    f"{part.part_number} {end}imum eaches",
                    PAR_MIN if end == "min" else PAR_MAX,
                    optional=True,
                ),
            )
    form = ParForm()
    if request.method == "GET":
        for part_id, level in levels.items():
            if f"min_{part_id}" in form:
                form[f"min_{part_id}"].data = level.min_eaches
                form[f"max_{part_id}"].data = level.max_eaches
    return form


@bp.route("/stock/par-levels", methods=["GET", "POST"])
@ui_roles(*ALL_ROLES)
def par_levels():
    """Min/max eaches per part at a facility; materials managers and admins change them."""
    facility = chosen_facility()
    parts = [p for p in db.session.scalars(parts_query()) if p.active]
    levels = {level.part_id: level for level in inventory.par_levels(db.session, facility.id)}
    form = _par_form(parts, levels)
    can_set = me().role in STOCK_MOVERS
    if request.method == "POST":
        require_role(me(), *STOCK_MOVERS)
        if form.validate_on_submit() and _pars_complete(form, parts):
            wanted = [
                {
                    "part_id": p.id,
                    "min_eaches": form[f"min_{p.id}"].data,
                    "max_eaches": form[f"max_{p.id}"].data,
                }
                for p in parts
                if form[f"max_{p.id}"].data is not None
            ]

            def work():
                return inventory.set_par_levels(
                    db.session,
                    facility=get_active_facility(db.session, me(), facility.id),
                    levels=wanted,
                    actor=me(),
                )

            if run_write(form, work) is not None:
                flash("Par levels saved.", "success")
                return redirect(url_for("web.par_levels", facility=facility.id))
    return page(
        "stock/par_levels.html",
        facility=facility,
        facilities=my_facilities(),
        parts=parts,
        form=form,
        can_set=can_set,
    )


def _pars_complete(form: FlaskForm, parts: list[Part]) -> bool:
    """Each part has both ends or neither, and max is at least min."""
    ok = True
    for part in parts:
        low, high = form[f"min_{part.id}"], form[f"max_{part.id}"]
        if (low.data is None) != (high.data is None):
            high.errors = [*high.errors, "Give both minimum and maximum, or neither."]
            ok = False
        elif high.data is not None and high.data < low.data:
            high.errors = [*high.errors, "The maximum must be at least the minimum."]
            ok = False
    return ok


@bp.route("/lots/<int(max=2147483647):lot_id>")
@ui_roles(*ALL_ROLES)
def lot_trace(lot_id: int):
    """Recall support: which of your facilities hold a lot and which cases used it."""
    return render_template("stock/lot.html", trace=reporting.lot_trace(db.session, me(), lot_id))
