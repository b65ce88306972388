"""Barcodes: read a scan for the forms, teach an unknown label's GTIN, and the admins' list."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from flask_login import login_required

from supply_app.auth.permissions import (
    ALL_ROLES,
    BARCODES_ARE_GLOBAL,
    GTIN_ADMINS,
    GTIN_TEACHERS,
)
from supply_app.catalog import gtins
from supply_app.catalog.service import get_part
from supply_app.errors import DomainError
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.inventory.models import Lot
from supply_app.web import bp
from supply_app.web.forms import ActionForm, GtinForm, GtinLinkForm, options
from supply_app.web.helpers import (
    chosen_facility,
    has_role,
    me,
    page,
    part_choices,
    query_id,
    run_write,
    ui_roles,
)


@bp.route("/scan")
@login_required
def scan():
    """Read a scanned barcode for the forms' scan fields: part, lot and expiry as JSON.

    A label the catalog cannot place (or a plain lot number) is looked up among the lots on
    the shelf of the form's facility, so the part is filled in whenever the lot is known;
    the lot found there comes with what is on hand. `teach` says the label's GTIN is unknown
    and the user may link it to its part. `warning` says at the moment of scanning why the
    lot must not go where the form sends it: for `purpose=use` (a case, a transfer) on hold,
    expired, or not on this shelf; for `purpose=receive`, on hold or expired.
    """
    try:
        result = inventory.parse_scan(db.session, request.args.get("code", ""), "code")
    except DomainError as exc:
        return jsonify({"error": exc.detail}), 422
    lot, on_hand = _lot_on_shelf(result)
    part = result.part or (lot.part if lot else None)
    expiry = result.expiry_date or (lot.expiry_date if lot else None)
    return jsonify(
        {
            "gs1": result.gs1,
            "gtin": result.gtin,
            "lot_number": result.lot_number,
            "expiry_date": expiry.isoformat() if expiry else None,
            "serial": result.serial,
            "batch": result.batch,
            "part_id": part.id if part else None,
            "part_number": part.part_number if part else None,
            "units_per_package": result.units_per_package,
            "lot_id": lot.id if lot else None,
            "on_hand": on_hand,
            "teach": bool(result.gtin and result.part is None and me().role in GTIN_TEACHERS),
            "warning": _scan_warning(result, part, lot, on_hand, expiry),
        }
    )


SCAN_PURPOSES = {"use": "do not use it", "receive": "it cannot be received"}


def _scan_warning(
    result: inventory.ScanResult, part: Any, lot: Lot | None, on_hand: int | None, expiry: Any
) -> str | None:
    """Why the scanned lot must not go where the form sends it, in words; None if fine."""
    purpose = request.args.get("purpose", "")
    if purpose not in SCAN_PURPOSES or query_id("facility") is None or not result.lot_number:
        return None
    why = SCAN_PURPOSES[purpose]
    if lot is None and part is not None:  # on file elsewhere, if anywhere (a receipt)
        lot = inventory.find_lot(db.session, part=part, lot_number=result.lot_number)
    if lot is not None and (recall := inventory.holds_on(db.session, [lot.id]).get(lot.id)):
        return f"ON HOLD under recall {recall.id} ({recall.label}): {why}"
    if expiry is not None and expiry < chosen_facility().today():
        return f"EXPIRED on {expiry.isoformat()}: {why}"
    if purpose == "use" and not on_hand:
        return "not on the shelf here: check the facility, or receive it first"
    return None


def _lot_on_shelf(result: inventory.ScanResult) -> tuple[Lot | None, int | None]:
    """The lot the scan names on the chosen facility's shelf and its eaches, if there is one."""
    if query_id("facility") is None or not result.lot_number:
        return None, None
    facility = chosen_facility()
    try:
        lot = inventory.lot_for_scan(db.session, result, facility=facility)
    except DomainError:
        return None, None
    return lot, inventory.on_hand(db.session, facility.id, lot.id)


@bp.app_template_global()
def may_teach() -> bool:
    """Whether the signed-in user may link an unknown barcode to its part."""
    return has_role(*GTIN_TEACHERS)


@bp.app_template_global()
def teach_parts():
    """The parts a scanned label can be linked to (the scan pages' teaching panel)."""
    return part_choices()


def _gtin_form() -> GtinForm:
    """The teach form; it starts with no part chosen, so a link is never a default."""
    form = GtinForm()
    form.part_id.choices = options(("", "Choose the part on the label")) + part_choices()
    return form


def _answer(form: GtinForm, link: Any, message: str):
    """JSON for the scan forms (fetch); the barcodes page (422 with the form) otherwise."""
    wants_json = request.accept_mimetypes.best == "application/json"
    if link is None:
        if wants_json:
            errors = [e for f in form for e in f.errors] + list(form.form_errors)
            return jsonify({"error": " ".join(errors) or message}), 422
        return _barcodes_page(form)
    if wants_json:
        return jsonify({"message": message, "part_number": link.part.part_number})
    flash(message, "success")
    return redirect(url_for("web.barcodes"))


@bp.route("/barcodes", methods=["POST"])
@ui_roles(*GTIN_TEACHERS)
def barcode_teach():
    """Link an unknown barcode's GTIN to its part; every door knows it from now on."""
    form = _gtin_form()
    link = None
    if form.validate_on_submit():

        def work():
            part = get_part(db.session, form.part_id.data)
            return gtins.teach_gtin(
                db.session, gtin=form.gtin.data, part=part, level=form.level.data, actor=me()
            )

        link = run_write(form, work, {"part_id": "part_id"})
    if link is None:
        return _answer(form, None, "The barcode could not be linked.")
    return _answer(
        form, link, f"Barcode {link.gtin} is now {link.part.part_number} ({_package(link)})."
    )


def _package(link) -> str:
    return "one each" if link.units == 1 else f"a pack of {link.units}"


@bp.route("/catalog/barcodes")
@ui_roles(*ALL_ROLES)
def barcodes():
    """Every barcode linked to a part: from the catalog file or taught by a user."""
    return _barcodes_page(_gtin_form())


def _barcodes_page(form: GtinForm):
    """The barcodes page (a refused form shown again with its errors answers 422)."""
    return page(
        "catalog/barcodes.html",
        links=list(db.session.scalars(gtins.gtin_links())),
        form=form,
        action_form=ActionForm(),
        can_teach=me().role in GTIN_TEACHERS,
        can_change=me().role in GTIN_ADMINS and me().all_facilities,
        parts=part_choices(),
        package=_package,
    )


@bp.route("/catalog/barcodes/<int(max=2147483647):link_id>", methods=["POST"])
@ui_roles(*GTIN_ADMINS, every_facility=BARCODES_ARE_GLOBAL)
def barcode_change(link_id: int):
    """Point a taught barcode at another part or package size."""
    form = GtinLinkForm()
    form.part_id.choices = part_choices()
    if form.validate_on_submit():

        def work():
            link = gtins.get_link(db.session, link_id)
            part = get_part(db.session, form.part_id.data)
            return gtins.change_gtin(
                db.session, link=link, part=part, level=form.level.data, actor=me()
            )

        link = run_write(form, work)
        if link is not None:
            return _answer(
                form,
                link,
                f"Barcode {link.gtin} is now {link.part.part_number} ({_package(link)}).",
            )
    flash(" ".join(e for f in form for e in f.errors) or "The link could not be changed.", "error")
    return _barcodes_page(_gtin_form())


@bp.route("/catalog/barcodes/<int(max=2147483647):link_id>/remove", methods=["POST"])
@ui_roles(*GTIN_ADMINS, every_facility=BARCODES_ARE_GLOBAL)
def barcode_remove(link_id: int):
    """Remove a taught link: the next scan of that barcode names no part."""
    form = ActionForm()
    if form.validate_on_submit():

        def work():
            link = gtins.get_link(db.session, link_id)
            gtins.remove_gtin(db.session, link=link, actor=me())
            return link.gtin

        gtin = run_write(form, work)
        if gtin is not None:
            flash(f"Barcode {gtin} is no longer linked to a part.", "success")
            return redirect(url_for("web.barcodes"))
    flash(" ".join(form.form_errors) or "The link could not be removed.", "error")
    return redirect(url_for("web.barcodes"))
