"""Your own account: the facility you work in (switched from the header), your default
facility and your password."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import flash, redirect, request, session, url_for
from flask_login import login_required

from supply_app.auth.account import (
    WRONG_CURRENT_PASSWORD,
    change_own_password,
    set_default_facility,
)
from supply_app.auth.permissions import ALL_ROLES
from supply_app.auth.service import check_password
from supply_app.db import begin_write
from supply_app.extensions import db
from supply_app.facilities.service import get_active_facility
from supply_app.web import bp
from supply_app.web.forms import DefaultFacilityForm, PasswordForm, SwitchFacilityForm, options
from supply_app.web.helpers import (
    CURRENT_FACILITY,
    current_facility,
    facility_choices,
    me,
    page,
    run_write,
    switch_facility,
    ui_roles,
)
from supply_app.web.views import sign_in


def back_to(target: str) -> str:
    """Where to go after switching: the same page of this site, without a facility in its URL
    (which would switch straight back)."""
    parts = urlsplit(target or "")
    if parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return url_for("web.home")
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("facility", "page")]
    return parts.path + (f"?{urlencode(query)}" if query else "")


@bp.route("/facility", methods=["POST"])
@login_required
def facility_switch():
    """Work in another of your facilities: every page and form starts there from now on."""
    form = SwitchFacilityForm()
    form.facility_id.choices = facility_choices()
    if form.validate_on_submit():
        facility = get_active_facility(db.session, me(), form.facility_id.data)
        switch_facility(facility)
        flash(f"Now working in {facility.code} · {facility.name}.", "info")
    else:
        flash("That facility could not be chosen; pick one of yours.", "error")
    return redirect(back_to(request.form.get("next", "")))


def _default_form() -> DefaultFacilityForm:
    form = DefaultFacilityForm(default_facility_id=me().default_facility_id)
    form.default_facility_id.choices = options(("", "The first of my facilities")) + (
        facility_choices()
    )
    return form


def _account_page(default_form=None, password_form=None):
    """The account page with both of its forms (a refused one shown with its errors)."""
    return page(
        "account.html",
        default_form=default_form or _default_form(),
        password_form=password_form or PasswordForm(),
        current=current_facility(),
    )


@bp.route("/account")
@ui_roles(*ALL_ROLES)
def account():
    """Your default facility and your password."""
    return _account_page()


@bp.route("/account/default-facility", methods=["POST"])
@ui_roles(*ALL_ROLES)
def account_default():
    """Choose the facility each of your sign-ins starts in."""
    form = _default_form()
    if form.validate_on_submit():
        chosen = form.default_facility_id.data
        done = run_write(
            form, lambda: set_default_facility(db.session, user=me(), facility_id=chosen)
        )
        if done is not None:
            flash("Your default facility is saved; each sign-in starts there.", "success")
            return redirect(url_for("web.account"))
    return _account_page(default_form=form)


@bp.route("/account/password", methods=["POST"])
@ui_roles(*ALL_ROLES)
def account_password():
    """Change your own password (the current one first)."""
    form = PasswordForm()
    if _password_changed(form):
        flash("Your password is changed. Your other signed-in browsers were signed out.", "success")
        return redirect(url_for("web.account"))
    return _account_page(password_form=form)


def _password_changed(form: PasswordForm) -> bool:
    """Check and change the password; errors are put on the form's fields."""
    if not form.validate_on_submit():
        return False
    if form.password.data != form.confirm.data:
        form.confirm.errors = ["The two new passwords differ; type the same one twice."]
        return False
    begin_write(db.session)  # the attempt is counted (and kept) as a sign-in's is
    proved = check_password(db.session, me().username, form.current_password.data)
    db.session.commit()
    if proved is None:
        form.current_password.errors = [WRONG_CURRENT_PASSWORD]
        return False
    changed = run_write(
        form,
        lambda: change_own_password(
            db.session, user=me(), current=form.current_password.data, new=form.password.data
        ),
    )
    if changed is None:
        return False
    working_in = session.get(CURRENT_FACILITY)
    sign_in(changed)  # the new password ended every sign-in; this browser gets a new one
    if working_in is not None:
        session[CURRENT_FACILITY] = working_in
    return True
