"""Recall pages (notice to closing), returns to the vendor with their credit, and each
user's notification settings."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from supply_app.auth.permissions import (
    ALL_ROLES,
    CREDIT_RECORDERS,
    RECALL_MANAGERS,
    RECALL_RELEASERS,
    RELEASES_ARE_GLOBAL,
    STOCK_MOVERS,
)
from supply_app.auth.service import facility_ids_for
from supply_app.catalog.service import get_part_by_number
from supply_app.errors import InvalidInput, NotFound
from supply_app.extensions import db
from supply_app.facilities.service import get_facility
from supply_app.http import PAGE, paginate
from supply_app.inventory import service as inventory
from supply_app.inventory.recall_api import detail_for
from supply_app.inventory.rules import RECALL_STATUS
from supply_app.notifications import service as notifications
from supply_app.notifications.delivery import announce
from supply_app.web import bp
from supply_app.web.forms import (
    CreditForm,
    NotificationForm,
    RecallEndForm,
    RecallForm,
    RecallLotsForm,
)
from supply_app.web.helpers import (
    chosen_facility,
    me,
    my_facilities,
    page,
    query_number,
    run_write,
    status_filter,
    ui_roles,
)

RECALLS_PER_PAGE = 25


def _lots(form: RecallLotsForm) -> list[dict[str, Any]]:
    """The form's lines as {part_id, lot_number}: a part number, then a lot number.

    :raises InvalidInput: a line that is not two words, or a part not in the catalog.
    """
    lots = []
    for number, line in enumerate(form.lots.data.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise InvalidInput(
                f"Line {number} should be a part number and a lot number, such as "
                "STT2190-5 A12345.",
                field="lots",
            )
        try:
            part = get_part_by_number(db.session, words[0])
        except NotFound as exc:
            raise InvalidInput(f"Line {number}: {exc.detail}", field="lots") from exc
        lots.append({"part_id": part.id, "lot_number": words[1]})
    if not lots:
        raise InvalidInput("Name at least one lot.", field="lots")
    return lots


@bp.route("/recalls")
@ui_roles(*ALL_ROLES)
def recalls():
    """Recalls, open first: each with its lots and status."""
    status = status_filter(RECALL_STATUS.values)
    listed = paginate(
        db.session,
        inventory.recalls_query(status),
        query_number("page", PAGE, 1),
        RECALLS_PER_PAGE,
    )
    return render_template(
        "recalls/index.html",
        listed=listed,
        status=status,
        can_place=me().role in RECALL_MANAGERS,
    )


@bp.route("/recalls/new", methods=["GET", "POST"])
@ui_roles(*RECALL_MANAGERS)
def recall_new():
    """Record a recall notice: its lots go on hold everywhere as it is saved."""
    form = RecallForm()
    if form.validate_on_submit():

        def work():
            recall = inventory.place_recall(
                db.session,
                source=form.source.data,
                notice_number=form.notice_number.data,
                notice_date=form.notice_date.data,
                reason=form.reason.data,
                lots=_lots(form),
                actor=me(),
            )
            announce(db.session, recall, recall.lots)
            return recall

        recall = run_write(form, work, {"lots": "lots"})
        if recall is not None:
            flash(f"Recall {recall.id} placed: its lots are on hold everywhere.", "success")
            return redirect(url_for("web.recall", recall_id=recall.id))
    return page("recalls/new.html", form=form)


def _render_recall(recall_id: int, **forms: Any):
    """The recall page with its forms (a refused one is shown again with its errors)."""
    recall = inventory.get_recall(db.session, recall_id)
    user = me()
    detail = detail_for(recall, facility_ids_for(db.session, user))
    return page(
        "recalls/detail.html",
        recall=recall,
        detail=detail,
        lots_form=forms.get("lots_form") or RecallLotsForm(formdata=None),
        close_form=forms.get("close_form") or RecallEndForm(formdata=None, prefix="close"),
        release_form=forms.get("release_form") or RecallEndForm(formdata=None, prefix="release"),
        can_manage=recall.status == "open" and user.role in RECALL_MANAGERS,
        can_release=recall.status == "open"
        and user.role in RECALL_RELEASERS
        and user.all_facilities,
        can_dispose=user.role in STOCK_MOVERS,
    )


@bp.route("/recalls/<int(max=2147483647):recall_id>")
@ui_roles(*ALL_ROLES)
def recall(recall_id: int):
    """A recall: its lots, who of yours holds them and what they disposed of, the cases."""
    return _render_recall(recall_id)


def _recall_step(recall_id: int, form, action, message: str, form_name: str):
    """Run a change to a recall from its page; back to the page either way."""
    if form.validate_on_submit():

        def work():
            return action(inventory.get_recall(db.session, recall_id, lock_row=True))

        if run_write(form, work, {"lots": "lots"}) is not None:
            flash(message, "success")
            return redirect(url_for("web.recall", recall_id=recall_id))
    return _render_recall(recall_id, **{form_name: form})


@bp.route("/recalls/<int(max=2147483647):recall_id>/lots", methods=["POST"])
@ui_roles(*RECALL_MANAGERS)
def recall_add_lots(recall_id: int):
    """Put more lots of an open recall on hold."""
    form = RecallLotsForm()

    def action(recall):
        added = inventory.add_lots(db.session, recall=recall, lots=_lots(form), actor=me())
        announce(db.session, recall, added)
        return added

    return _recall_step(recall_id, form, action, "Lots added and on hold.", "lots_form")


@bp.route("/recalls/<int(max=2147483647):recall_id>/close", methods=["POST"])
@ui_roles(*RECALL_MANAGERS)
def recall_close(recall_id: int):
    """Close a recall every holder has disposed of; its lots stay on hold."""
    form = RecallEndForm(prefix="close")

    def action(recall):
        visible = facility_ids_for(db.session, me())
        return inventory.close_recall(
            db.session, recall=recall, note=form.note.data, actor=me(), visible=visible
        )

    return _recall_step(recall_id, form, action, "Recall closed.", "close_form")


@bp.route("/recalls/<int(max=2147483647):recall_id>/release", methods=["POST"])
@ui_roles(*RECALL_RELEASERS, every_facility=RELEASES_ARE_GLOBAL)
def recall_release(recall_id: int):
    """Release a recall: its lots may be used again."""
    form = RecallEndForm(prefix="release")

    def action(recall):
        return inventory.release_recall(db.session, recall=recall, note=form.note.data, actor=me())

    return _recall_step(
        recall_id, form, action, "Recall released; its lots are usable.", "release_form"
    )


@bp.route("/stock/returns")
@ui_roles(*ALL_ROLES)
def stock_returns():
    """A facility's returns to the vendor and the credit still expected."""
    facility = chosen_facility()
    return render_template(
        "stock/returns.html",
        facility=facility,
        facilities=my_facilities(),
        returns=list(db.session.scalars(inventory.returns_query({facility.id}))),
        expected=inventory.credit_expected_cents(db.session, {facility.id}),
        can_credit=me().role in CREDIT_RECORDERS,
    )


@bp.route("/stock/returns/<int(max=2147483647):return_id>/credit", methods=["GET", "POST"])
@ui_roles(*CREDIT_RECORDERS)
def stock_return_credit(return_id: int):
    """Record the vendor's credit memo for a return (once)."""
    record = inventory.get_return(db.session, return_id, facility_ids_for(db.session, me()))
    form = CreditForm()
    if form.validate_on_submit():

        def work():
            facility = get_facility(db.session, me(), record.movement.facility_id)
            return inventory.record_credit(
                db.session,
                record=record,
                facility=facility,
                credit_memo=form.credit_memo.data,
                credited_on=form.credited_on.data,
                actor=me(),
            )

        if run_write(form, work) is not None:
            flash(f"Credit {form.credit_memo.data} recorded.", "success")
            return redirect(url_for("web.stock_returns", facility=record.movement.facility_id))
    return page("stock/credit.html", record=record, form=form)


@bp.route("/notifications", methods=["GET", "POST"])
@ui_roles(*ALL_ROLES)
def notification_settings():
    """Your email address and whether you get the daily digest."""
    user = me()
    current = notifications.preference(db.session, user)
    form = NotificationForm(
        data={"email": current.email or "", "daily_digest": current.daily_digest}
    )
    if form.validate_on_submit():

        def work():
            return notifications.set_preference(
                db.session,
                user=user,
                email=form.email.data or None,
                daily_digest=form.daily_digest.data,
            )

        if run_write(form, work) is not None:
            flash("Notification settings saved.", "success")
            return redirect(url_for("web.notification_settings"))
    return page("notifications.html", form=form)
