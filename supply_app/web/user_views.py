"""User administration pages: the users an admin manages, adding one, changing one."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from supply_app.auth import admin
from supply_app.auth.permissions import USER_ADMINS
from supply_app.auth.rules import ROLE
from supply_app.extensions import db
from supply_app.web import bp
from supply_app.web.forms import UserEditForm, UserForm
from supply_app.web.helpers import facility_choices, me, my_facilities, run_write, ui_roles
from supply_app.web.views import sign_in

USER_LIST_LIMIT = 500
ACCESS_FIELDS = ("display_name", "role", "facility_ids", "all_facilities")


def _with_facilities(form: UserEditForm) -> UserEditForm:
    """The form with the facilities this admin may grant as its choices.

    Deactivated ones are listed too: a membership the form did not show would be dropped
    without anyone choosing to drop it.
    """
    form.facility_ids.choices = facility_choices(include_inactive=True)
    return form


@bp.route("/users", methods=["GET", "POST"])
@ui_roles(*USER_ADMINS)
def users():
    """The users you manage, and a form to add one."""
    form = _with_facilities(UserForm())
    status = 200
    if form.validate_on_submit():
        data = {name: form[name].data for name in (*ACCESS_FIELDS, "username", "password")}
        created = run_write(form, lambda: admin.add_user(db.session, admin=me(), data=data))
        if created is not None:
            role = dict(ROLE.options)[created.role]
            flash(f"User {created.username} created as {role}.", "success")
            return redirect(url_for("web.user", user_id=created.id))
    if form.is_submitted():
        status = 422
    rows = db.session.scalars(admin.managed_users(me()).limit(USER_LIST_LIMIT))
    codes = {f.id: f.code for f in my_facilities(include_inactive=True)}
    return render_template("users/index.html", users=list(rows), form=form, codes=codes), status


@bp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
@ui_roles(*USER_ADMINS)
def user(user_id: int):
    """One user: change their name, role, facilities or password, or deactivate them."""
    target = admin.get_managed_user(db.session, me(), user_id)
    form = _with_facilities(UserEditForm(data=_current(target)))
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("users/detail.html", target=target, form=form), status
    changes = _changes(form, _current(target))
    if not changes:
        flash("Nothing to change.", "info")
        return redirect(url_for("web.user", user_id=user_id))

    def work():
        found = admin.get_managed_user(db.session, me(), user_id, for_update=True)
        return admin.update_user(db.session, admin=me(), user=found, changes=changes)

    updated = run_write(form, work)
    if updated is None:
        target = admin.get_managed_user(db.session, me(), user_id)
        return render_template("users/detail.html", target=target, form=form), 422
    if updated.id == me().id and "password" in changes:
        sign_in(updated)  # your new password ended every sign-in; this browser gets a new one
    flash("User updated.", "success")
    return redirect(url_for("web.user", user_id=user_id))


def _current(user) -> dict[str, Any]:
    """The form's starting values: the user as stored."""
    return {name: getattr(user, name) for name in (*ACCESS_FIELDS, "active")}


def _changes(form: UserEditForm, current: dict[str, Any]) -> dict[str, Any]:
    """Only what the admin changed (and a new password, when one was typed)."""
    typed = {name: form[name].data for name in current}
    typed["facility_ids"] = sorted(typed["facility_ids"])  # ticked in list order
    changes = {name: value for name, value in typed.items() if value != current[name]}
    if form.password.data:
        changes["password"] = form.password.data
    return changes
