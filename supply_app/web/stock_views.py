"""Stock pages: balances by part and lot, alerts, the ledger, stock movements and scanning."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from supply_app.auth.permissions import ALL_ROLES, STOCK_MOVERS
from supply_app.auth.service import require_role
from supply_app.catalog.models import Part
from supply_app.catalog.service import get_part, parts_query
from supply_app.errors import DomainError, InvalidInput
from supply_app.extensions import db
from supply_app.facilities.service import get_active_facility
from supply_app.fields import ID
from supply_app.inventory import service as inventory
from supply_app.inventory.rules import PAR_MAX, PAR_MIN
from supply_app.reporting import service as reporting
from supply_app.web import bp
from supply_app.web.fields import RuleNumberField
from supply_app.web.forms import (
    AdjustForm,
    CountForm,
    ReceiveForm,
    ReturnForm,
    TransferForm,
    WasteForm,
)
from supply_app.web.helpers import (
    chosen_facility,
    facility_choices,
    me,
    my_facilities,
    page,
    query_id,
    query_number,
    run_write,
    ui_roles,
)

MOVEMENTS_PER_PAGE = 50
# The service names the lot by id; the forms name it by part + lot number.
LOT_FIELDS = {"lot_id": "lot_number", "to_facility_id": "to_facility_id", "counted": "packs"}


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
    return render_template(
        "stock/movements.html",
        facility=facility,
        facilities=my_facilities(),
        movements=rows[:MOVEMENTS_PER_PAGE],
        older_than=rows[MOVEMENTS_PER_PAGE - 1].id if len(rows) > MOVEMENTS_PER_PAGE else None,
        before_id=before_id,
    )


@bp.route("/scan")
@login_required
def scan():
    """Read a scanned barcode for the forms' scan fields: part, lot and expiry as JSON.

    A label the catalog cannot place (or a plain lot number) is looked up among the lots on
    the shelf of the form's facility, so the part is filled in whenever the lot is known.
    """
    try:
        result = inventory.parse_scan(db.session, request.args.get("code", ""), "code")
    except DomainError as exc:
        return jsonify({"error": exc.detail}), 422
    part = result.part or _part_on_shelf(result)
    return jsonify(
        {
            "gs1": result.gs1,
            "gtin": result.gtin,
            "lot_number": result.lot_number,
            "expiry_date": result.expiry_date.isoformat() if result.expiry_date else None,
            "serial": result.serial,
            "batch": result.batch,
            "part_id": part.id if part else None,
            "part_number": part.part_number if part else None,
            "units_per_package": result.units_per_package,
        }
    )


def _part_on_shelf(result: inventory.ScanResult) -> Part | None:
    """The part of the lot the scan names on the chosen facility's shelf, if exactly one."""
    if query_id("facility") is None:
        return None
    try:
        lot = inventory.lot_for_scan(db.session, result, facility=chosen_facility())
    except DomainError:
        return None
    return lot.part


def part_choices() -> list[SelectChoice]:
    """Active parts for a select: part number, description and pack size."""
    return [
        SelectChoice(
            p.id, f"{p.part_number} · {p.description} ({p.units_per_pack}/{p.unit_of_issue})"
        )
        for p in db.session.scalars(parts_query())
        if p.active
    ]


def _prepare(form, with_destination: bool = False):
    """Fill a stock form's choices, defaulting the facility to the one in the URL."""
    form.facility_id.choices = facility_choices()
    form.part_id.choices = part_choices()
    if with_destination:
        form.to_facility_id.choices = facility_choices()
    if request.method == "GET" and query_id("facility") is not None:
        form.facility_id.data = chosen_facility().id
    if request.method == "GET" and query_id("part") is not None:
        # Links from a recall's holders name the part and lot to dispose of.
        form.part_id.data = query_id("part")
        form.lot_number.data = request.args.get("lot", "")[:40]
    return form


def _facility(form):
    """The active facility chosen in a form (one of the user's, by its choices)."""
    return get_active_facility(db.session, me(), form.facility_id.data)


def _lot(form, part: Part):
    """The lot named by part and lot number.

    :raises InvalidInput: the part has no lot with that number.
    """
    lot = inventory.find_lot(db.session, part=part, lot_number=form.lot_number.data)
    if lot is None:
        raise InvalidInput(
            f"{part.part_number} has no lot {form.lot_number.data} on file.",
            field="lot_number",
        )
    return lot


def _eaches(form, part: Part) -> int:
    """Packs and loose eaches of a form as eaches of the part.

    :raises InvalidInput: the quantity is zero.
    """
    total = form.packs.data * part.units_per_pack + form.eaches.data
    if total <= 0:
        raise InvalidInput("Enter at least one pack or each.", field="packs")
    return total


def _done(message: str, facility_id: int):
    """Flash what happened and show the facility's stock."""
    db.session.expire_all()
    flash(message, "success")
    return redirect(url_for("web.stock", facility=facility_id))


def _stock_form(form, title: str):
    """Render a stock movement form (the scan box first, then the fields in order)."""
    return page("stock/move.html", form=form, title=title)


@bp.route("/stock/receive", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_receive():
    """Receive stock outside an order (opening balance, loan, donation, return)."""
    form = _prepare(ReceiveForm())
    if form.validate_on_submit():

        def work():
            facility = _facility(form)
            part = get_part(db.session, form.part_id.data)
            eaches = _eaches(form, part)
            return inventory.receive(
                db.session,
                facility=facility,
                part=part,
                lot_number=form.lot_number.data,
                expiry_date=form.expiry_date.data,
                eaches=eaches,
                value_cents=inventory.receipt_value(
                    db.session,
                    part=part,
                    eaches=eaches,
                    on_date=facility.today(),
                    pack_cost_cents=form.pack_cost.data,
                    field="pack_cost",
                ),
                actor=me(),
                reason=form.reason.data,
                note=form.note.data or None,
            )

        if run_write(form, work, {"value_cents": "pack_cost"}):
            return _done("Stock received.", form.facility_id.data)
    return _stock_form(form, "Receive stock")


@bp.route("/stock/adjust", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_adjust():
    """Correct a lot's balance up or down with a reason."""
    form = _prepare(AdjustForm())
    if form.validate_on_submit():

        def work():
            part = get_part(db.session, form.part_id.data)
            return inventory.adjust(
                db.session,
                facility=_facility(form),
                lot=_lot(form, part),
                eaches=form.change.data,
                reason=form.reason.data,
                actor=me(),
                note=form.note.data or None,
            )

        if run_write(form, work, {**LOT_FIELDS, "eaches": "change"}):
            return _done("Adjustment posted.", form.facility_id.data)
    return _stock_form(form, "Adjust a balance")


@bp.route("/stock/transfer", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_transfer():
    """Send stock of a lot to another of your facilities."""
    form = _prepare(TransferForm(), with_destination=True)
    if form.validate_on_submit():

        def work():
            part = get_part(db.session, form.part_id.data)
            return inventory.transfer(
                db.session,
                source=_facility(form),
                destination=get_active_facility(db.session, me(), form.to_facility_id.data),
                lot=_lot(form, part),
                eaches=_eaches(form, part),
                actor=me(),
                note=form.note.data or None,
            )

        if run_write(form, work, {**LOT_FIELDS, "eaches": "packs"}):
            return _done("Transfer posted.", form.facility_id.data)
    return _stock_form(form, "Transfer stock")


@bp.route("/stock/waste", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_waste():
    """Write off expired, damaged, contaminated or recalled stock."""
    form = _prepare(WasteForm())
    if form.validate_on_submit():

        def work():
            part = get_part(db.session, form.part_id.data)
            return inventory.waste(
                db.session,
                facility=_facility(form),
                lot=_lot(form, part),
                eaches=_eaches(form, part),
                reason=form.reason.data,
                actor=me(),
                note=form.note.data or None,
            )

        if run_write(form, work, {**LOT_FIELDS, "eaches": "packs"}):
            return _done("Waste posted.", form.facility_id.data)
    return _stock_form(form, "Waste stock")


@bp.route("/stock/count", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_count():
    """Record a physical count of a lot; any difference becomes an adjustment."""
    form = _prepare(CountForm())
    if form.validate_on_submit():

        def work():
            part = get_part(db.session, form.part_id.data)
            counted = form.packs.data * part.units_per_pack + form.eaches.data
            return inventory.count(
                db.session,
                facility=_facility(form),
                lot=_lot(form, part),
                counted=counted,
                actor=me(),
                note=form.note.data or None,
            )

        result = run_write(form, work, LOT_FIELDS)
        if result:
            record, movement = result
            change = (
                "no difference"
                if movement is None
                else f"difference {movement.eaches:+d} eaches posted as an adjustment"
            )
            return _done(
                f"Count recorded: {record.counted} eaches (books said "
                f"{record.previous_on_hand}); {change}.",
                form.facility_id.data,
            )
    return _stock_form(form, "Count a lot")


@bp.route("/stock/return", methods=["GET", "POST"])
@ui_roles(*STOCK_MOVERS)
def stock_return():
    """Ship stock back to the vendor under an RGA (at most 30 days old)."""
    form = _prepare(ReturnForm())
    if form.validate_on_submit():

        def work():
            part = get_part(db.session, form.part_id.data)
            return inventory.return_to_vendor(
                db.session,
                facility=_facility(form),
                lot=_lot(form, part),
                eaches=_eaches(form, part),
                rga_number=form.rga_number.data,
                rga_date=form.rga_date.data,
                actor=me(),
                note=form.note.data or None,
            )

        record = run_write(form, work, {"lot_id": "lot_number", "eaches": "packs"})
        if record is not None:
            return _done(
                f"Returned to the vendor under RGA {record.rga_number}; credit expected "
                f"${record.credit_cents / 100:,.2f}.",
                form.facility_id.data,
            )
    return _stock_form(form, "Return to vendor")


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
