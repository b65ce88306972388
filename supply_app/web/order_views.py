"""Order pages: list and reorder suggestions, build a draft, submit, approve, receive, export."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for

from supply_app.auth.permissions import ALL_ROLES, ORDER_BUILDERS, ORDER_RECEIVERS
from supply_app.errors import InvalidInput
from supply_app.extensions import db
from supply_app.facilities.service import get_active_facility
from supply_app.ordering import ecat, receiving, suggestions
from supply_app.ordering import service as ordering
from supply_app.ordering.rules import ORDER_STATUS
from supply_app.rules import RuleBroken
from supply_app.web import bp
from supply_app.web.forms import (
    ActionForm,
    AddLineForm,
    CancelForm,
    LinePacksForm,
    OrderForm,
    OrderReceiveForm,
    ReverseForm,
    SuggestionForm,
    row_id,
)
from supply_app.web.helpers import (
    chosen_facility,
    facility_choices,
    me,
    my_facilities,
    page,
    part_choices,
    run_write,
    status_filter,
    ui_roles,
)

ORDER_LIST_LIMIT = 100
HEADER_FIELDS = ("fund_code", "priority", "required_delivery_date")


def _default_header(form, facility) -> None:
    """Sensible header defaults: routine priority, delivery after the facility's lead time."""
    if request.method == "GET":
        form.required_delivery_date.data = facility.today() + timedelta(
            days=facility.lead_time_days
        )


@bp.route("/orders")
@ui_roles(*ALL_ROLES)
def orders():
    """Orders of a facility (newest first) and its reorder suggestions."""
    facility = chosen_facility()
    status = status_filter(ORDER_STATUS.values)
    stmt = ordering.orders_query(db.session, me(), facility_id=facility.id, status=status)
    rows = list(db.session.scalars(stmt.limit(ORDER_LIST_LIMIT)))
    suggested = suggestions.reorder_suggestions(db.session, facility=facility)
    can_build = me().role in ORDER_BUILDERS
    suggest_form = SuggestionForm(facility_id=facility.id)
    suggest_form.facility_id.choices = facility_choices()
    _default_header(suggest_form, facility)
    return render_template(
        "orders/index.html",
        facility=facility,
        facilities=my_facilities(),
        orders=rows,
        status=status,
        statuses=ORDER_STATUS.values,
        suggestions=suggested,
        can_build=can_build,
        suggest_form=suggest_form,
    )


@bp.route("/orders/from-suggestions", methods=["POST"])
@ui_roles(*ORDER_BUILDERS)
def orders_from_suggestions():
    """Turn the chosen facility's suggestions into one draft order."""
    form = SuggestionForm()
    form.facility_id.choices = facility_choices()
    if not form.validate_on_submit():
        return _suggestions_failed(form)

    def work():
        facility = get_active_facility(db.session, me(), form.facility_id.data)
        return suggestions.draft_from_suggestions(
            db.session,
            facility=facility,
            actor=me(),
            header={name: getattr(form, name).data for name in HEADER_FIELDS},
        )

    order = run_write(form, work)
    if order is None:
        return _suggestions_failed(form)
    flash(f"Draft order {order.id} created from the reorder suggestions.", "success")
    return redirect(url_for("web.order", order_id=order.id))


def _suggestions_failed(form):
    """Show the orders page again with the suggestion form's errors."""
    facility = get_active_facility(db.session, me(), form.facility_id.data or 0)
    stmt = ordering.orders_query(db.session, me(), facility_id=facility.id)
    return (
        render_template(
            "orders/index.html",
            facility=facility,
            facilities=my_facilities(),
            orders=list(db.session.scalars(stmt.limit(ORDER_LIST_LIMIT))),
            status=None,
            statuses=ORDER_STATUS.values,
            suggestions=suggestions.reorder_suggestions(db.session, facility=facility),
            can_build=True,
            suggest_form=form,
        ),
        422,
    )


@bp.route("/orders/new", methods=["GET", "POST"])
@ui_roles(*ORDER_BUILDERS)
def order_new():
    """Start a draft order by hand."""
    form = OrderForm()
    form.facility_id.choices = facility_choices()
    if request.method == "GET":
        facility = chosen_facility()
        form.facility_id.data = facility.id
        _default_header(form, facility)
    if form.validate_on_submit():

        def work():
            facility = get_active_facility(db.session, me(), form.facility_id.data)
            header = {name: getattr(form, name).data for name in HEADER_FIELDS}
            header["notes"] = form.notes.data or None
            return ordering.create_order(db.session, facility=facility, actor=me(), header=header)

        order = run_write(form, work)
        if order is not None:
            flash(f"Draft order {order.id} started; add its lines.", "success")
            return redirect(url_for("web.order", order_id=order.id))
    return page("orders/new.html", form=form)


def _load(order_id: int, lock: bool = False):
    """An order of one of the user's facilities (404 otherwise)."""
    return ordering.get_order(db.session, me(), order_id, lock=lock)


def _receive_form(order) -> OrderReceiveForm:
    """The receipt form: one row per outstanding line (a refused post keeps what was typed)."""
    form = OrderReceiveForm()
    outstanding = [line for line in order.lines if line.outstanding_packs > 0]
    if not form.is_submitted():
        for line in outstanding:
            form.lines.append_entry({"line_id": line.id})
    lines = {line.id: line for line in order.lines}
    for entry in form.lines:
        entry.line = lines.get(_line_id(entry))
    return form


def _line_id(entry) -> int | None:
    """The order line a row of the receipt form names (None when it names none)."""
    raw = entry.form.line_id.raw_data[0] if entry.form.line_id.raw_data else entry.form.line_id.data
    try:
        return row_id(raw)
    except (RuleBroken, TypeError):
        return None


def _render_order(order, status: int = 200, **forms):
    """The order page with every form it may show (defaults for those not given)."""
    add = forms.get("add_form") or AddLineForm()
    add.part_id.choices = part_choices()
    prices = _draft_prices(order)
    return (
        render_template(
            "orders/detail.html",
            order=order,
            add_form=add,
            action_form=forms.get("action_form") or ActionForm(),
            packs_form=forms.get("packs_form") or LinePacksForm(),
            packs_line=forms.get("packs_line"),
            cancel_form=forms.get("cancel_form") or CancelForm(),
            receive_form=forms.get("receive_form") or _receive_form(order),
            can_build=me().role in ORDER_BUILDERS,
            can_receive=me().role in ORDER_RECEIVERS,
            draft_prices=prices,
            draft_total=None
            if None in prices.values()
            else sum(prices[line.id] * line.packs for line in order.lines if line.id in prices),
            can_receive_undo=me().role in ORDER_RECEIVERS
            and order.status in ordering.ALLOWED_FROM["undo_receipt"],
            exportable=ordering.ALLOWED_FROM["export"],
            me=me(),
        ),
        status,
    )


def _draft_prices(order) -> dict[int, int | None]:
    """For a draft, each line's contract pack price in effect today (fixed only on submit),
    so the purchaser sees what they are ordering; None where the part has no price."""
    if order.status != "draft":
        return {}
    found = ordering.line_prices(db.session, order, order.facility.today())
    return {line.id: price.unit_price_cents if price else None for line, price in found}


@bp.route("/orders/<int(max=2147483647):order_id>")
@ui_roles(*ALL_ROLES)
def order(order_id: int):
    """One order: header, lines, receipts and the actions its status allows."""
    return _render_order(_load(order_id))


@bp.route("/orders/<int(max=2147483647):order_id>/lines", methods=["POST"])
@ui_roles(*ORDER_BUILDERS)
def order_add_line(order_id: int):
    """Add packs of a part to a draft."""
    form = AddLineForm()
    form.part_id.choices = part_choices()
    if form.validate_on_submit():

        def work():
            order = _load(order_id, lock=True)
            part = ordering.resolve_part(db.session, part_id=form.part_id.data, part_number=None)
            return ordering.add_line(
                db.session, order=order, part=part, packs=form.packs.data, actor=me()
            )

        if run_write(form, work) is not None:
            flash("Line added.", "success")
            return redirect(url_for("web.order", order_id=order_id))
    return _render_order(_load(order_id), 422, add_form=form)


@bp.route(
    "/orders/<int(max=2147483647):order_id>/lines/<int(max=2147483647):line_id>/remove",
    methods=["POST"],
)
@ui_roles(*ORDER_BUILDERS)
def order_remove_line(order_id: int, line_id: int):
    """Remove a line from a draft."""
    form = ActionForm()
    if form.validate_on_submit():

        def work():
            order = _load(order_id, lock=True)
            ordering.remove_line(
                db.session, order=order, line=ordering.get_line(order, line_id), actor=me()
            )
            return True

        if run_write(form, work):
            flash("Line removed.", "success")
            return redirect(url_for("web.order", order_id=order_id))
    return _render_order(_load(order_id), 409, action_form=form)


# Lifecycle buttons: (service function, message once done).
STEPS = {
    "submit": (ordering.submit_order, "Order submitted; a second purchaser must approve it."),
    "approve": (ordering.approve_order, "Order approved; it can be sent to ECAT and received."),
}


@bp.route(
    "/orders/<int(max=2147483647):order_id>/submit", methods=["POST"], defaults={"step": "submit"}
)
@bp.route(
    "/orders/<int(max=2147483647):order_id>/approve", methods=["POST"], defaults={"step": "approve"}
)
@ui_roles(*ORDER_BUILDERS)
def order_step(order_id: int, step: str):
    """Submit or approve an order."""
    action, message = STEPS[step]
    form = ActionForm()
    if form.validate_on_submit():

        def work():
            return action(db.session, order=_load(order_id, lock=True), actor=me())

        if run_write(form, work) is not None:
            flash(message, "success")
            return redirect(url_for("web.order", order_id=order_id))
    return _render_order(_load(order_id), 409, action_form=form)


@bp.route("/orders/<int(max=2147483647):order_id>/cancel", methods=["POST"])
@ui_roles(*ORDER_BUILDERS)
def order_cancel(order_id: int):
    """Cancel an order that has received nothing."""
    form = CancelForm()
    if form.validate_on_submit():

        def work():
            return ordering.cancel_order(
                db.session,
                order=_load(order_id, lock=True),
                actor=me(),
                reason=form.reason.data or None,
            )

        if run_write(form, work) is not None:
            flash("Order cancelled.", "success")
            return redirect(url_for("web.order", order_id=order_id))
    return _render_order(_load(order_id), 409, cancel_form=form)


@bp.route("/orders/<int(max=2147483647):order_id>/receive", methods=["POST"])
@ui_roles(*ORDER_RECEIVERS)
def order_receive(order_id: int):
    """Receive the packs of every line that arrived, each with its lot scanned or typed."""
    form = _receive_form(_load(order_id))
    if form.validate_on_submit():
        items, aliases = _receipt_items(form)

        def work():
            if not items:
                raise InvalidInput(
                    "Type the packs received on at least one line (or scan their labels).",
                    field="lines-0-packs",
                )
            return receiving.receive_order(
                db.session,
                order=_load(order_id, lock=True),
                actor=me(),
                items=items,
                note=form.note.data or None,
            )

        receipt = run_write(form, work, aliases)
        if receipt is not None:
            received = ", ".join(
                f"{rl.packs} × {rl.order_line.part.part_number} lot {rl.lot_number}"
                for rl in receipt.lines
            )
            flash(f"Received into stock: {received}.", "success")
            return redirect(url_for("web.order", order_id=order_id))
    return _render_order(_load(order_id), 422, receive_form=form)


def _receipt_items(form: OrderReceiveForm) -> tuple[list[dict], dict[str, str]]:
    """The rows with packs as the service's items, and where each item's errors belong."""
    items: list[dict] = []
    aliases: dict[str, str] = {}
    for index, entry in enumerate(form.lines):
        row = entry.form
        if not row.packs.data and not row.scan.data:
            continue
        item = {"line_id": row.line_id.data, "packs": row.packs.data or 1}
        for name in ("lot_number", "expiry_date", "scan"):
            if getattr(row, name).data:
                item[name] = getattr(row, name).data
        for name in ("line_id", "packs", "lot_number", "expiry_date", "scan"):
            aliases[f"lines.{len(items)}.{name}"] = f"lines-{index}-{name}"
        items.append(item)
    return items, aliases


@bp.route(
    "/orders/<int(max=2147483647):order_id>/lines/<int(max=2147483647):line_id>/packs",
    methods=["POST"],
)
@ui_roles(*ORDER_BUILDERS)
def order_line_packs(order_id: int, line_id: int):
    """Change the packs of a draft's line."""
    form = LinePacksForm()
    if form.validate_on_submit():

        def work():
            order = _load(order_id, lock=True)
            line = ordering.get_line(order, line_id)
            return ordering.set_line_packs(
                db.session, order=order, line=line, packs=form.packs.data, actor=me()
            )

        line = run_write(form, work)
        if line is not None:
            flash(f"{line.part.part_number}: {line.packs} pack(s).", "success")
            return redirect(url_for("web.order", order_id=order_id))
    return _render_order(_load(order_id), 422, packs_form=form, packs_line=line_id)


@bp.route("/orders/<int(max=2147483647):order_id>/ecat.csv")
@ui_roles(*ALL_ROLES)
def order_ecat_csv(order_id: int):
    """Download the order as the ECAT CSV."""
    order = _load(order_id)
    if order.status not in ordering.ALLOWED_FROM["export"]:
        abort(409, description=f"Order {order.id} is {order.status}; it cannot be exported yet.")
    name = order.document_number or f"order-{order.id}"
    return Response(
        ecat.ecat_csv(order),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="ecat-{name}.csv"'},
    )


@bp.route(
    "/orders/<int(max=2147483647):order_id>/receipts/<int(max=2147483647):line_id>/undo",
    methods=["GET", "POST"],
)
@ui_roles(*ORDER_RECEIVERS)
def order_receipt_undo(order_id: int, line_id: int):
    """Undo one received lot (wrong lot scanned, miscount): stock out, packs outstanding."""
    order = _load(order_id)
    received = receiving.get_receipt_line(order, line_id)
    form = ReverseForm()
    if form.validate_on_submit():

        def work():
            return receiving.undo_receipt_line(
                db.session,
                order=_load(order_id, lock=True),
                receipt_line_id=line_id,
                reason=form.reason.data,
                actor=me(),
            )

        if run_write(form, work, {"eaches": "reason", "lot_id": "reason"}) is not None:
            flash(
                f"Receipt of {received.packs} × {received.order_line.part.part_number} lot "
                f"{received.lot_number} undone; those packs are outstanding again.",
                "success",
            )
            return redirect(url_for("web.order", order_id=order_id))
    return page("orders/undo_receipt.html", order=order, received=received, form=form)
