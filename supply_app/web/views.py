"""UI views: sign-in, the landing page per role, overview, catalog and facilities."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from supply_app.auth.models import User
from supply_app.auth.permissions import ALL_ROLES, FACILITY_ADMINS
from supply_app.auth.service import check_password
from supply_app.auth.sessions import end_session, mark_seen, start_session
from supply_app.catalog.service import parts_query, price_in_effect
from supply_app.db import begin_write
from supply_app.extensions import db
from supply_app.facilities.service import get_facility, update_facility
from supply_app.inventory.service import value_at_pack_price
from supply_app.payers.service import list_payers
from supply_app.web import bp
from supply_app.web.forms import FacilitySettingsForm, LoginForm
from supply_app.web.helpers import (
    CURRENT_FACILITY,
    me,
    my_facilities,
    my_today,
    page,
    run_write,
    ui_roles,
)
from supply_app.web.waiting import landing_endpoint


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; failures are counted so repeated guessing is slowed down."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        begin_write(db.session)  # the attempt is counted in the row it locks
        user = check_password(db.session, form.username.data, form.password.data)
        if user is None:
            db.session.commit()  # the attempt stays counted
            form.password.errors.append(
                "Username or password is wrong, or the account is paused after repeated "
                "failures; wait a minute and try again."
            )
            return render_template("auth/login.html", form=form), 401
        sign_in(user)
        target = request.args.get("next", "")
        if not target or urlsplit(target).netloc or not target.startswith("/"):
            target = url_for("web.home")
        return redirect(target)
    return page("auth/login.html", form=form)


def sign_in(user: User) -> None:
    """Start a new sign-in record for user and put its secret in a fresh session cookie.

    Whatever the session held before (a CSRF token, flashes) is dropped, so nothing from
    before sign-in carries over into the signed-in session. Commits (what came before too).
    """
    begin_write(db.session)
    start_session(db.session, user=user, hours=current_app.config["SESSION_HOURS"])
    db.session.commit()
    session.clear()
    login_user(user)
    mark_seen(session)
    if user.default_facility_id is not None:
        session[CURRENT_FACILITY] = user.default_facility_id


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out: this browser's sign-in ends on the server, so no copy of its cookie works."""
    begin_write(db.session)
    end_session(db.session, user=me(), secret=current_user.get_id())
    db.session.commit()
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("web.login"))


@bp.route("/")
@login_required
def home():
    """Send each role to the page it needs first."""
    return redirect(url_for(landing_endpoint(current_user.role)))


@bp.route("/overview")
@ui_roles(*ALL_ROLES)
def overview():
    """Facilities at a glance with links to each area."""
    return render_template("overview.html", facilities=my_facilities())


@bp.route("/catalog")
@ui_roles(*ALL_ROLES)
def catalog():
    """Every ECAT part with pack size, unit of issue and today's contract price."""
    today = my_today()
    rows = []
    for part in db.session.scalars(parts_query()):
        price = price_in_effect(db.session, part.id, today)
        # Per-each price rounded half up to the cent, for comparing packs of different sizes.
        each = None
        if price is not None:
            each = value_at_pack_price(price.unit_price_cents, part.units_per_pack, 1)
        rows.append({"part": part, "price": price, "each_cents": each})
    return render_template("catalog/index.html", rows=rows, today=today)


@bp.route("/facilities")
@ui_roles(*ALL_ROLES)
def facilities():
    """The facilities you belong to, with site of service, ship-to and their settings."""
    return render_template(
        "facilities/index.html",
        facilities=my_facilities(),
        settings_form=FacilitySettingsForm(),
        payer_names={p.id: p.name for p in list_payers(db.session)},
        can_edit=me().role in FACILITY_ADMINS,
    )


@bp.route("/facilities/<int(max=2147483647):facility_id>/settings", methods=["POST"])
@ui_roles(*FACILITY_ADMINS)
def facility_settings(facility_id: int):
    """Change what a facility's forms start with (audited)."""
    form = FacilitySettingsForm()
    if form.validate_on_submit():

        def work():
            facility = get_facility(db.session, me(), facility_id)
            changes = {"bill_device_by_default": form.bill_device_by_default.data}
            return update_facility(db.session, facility=facility, changes=changes, actor=me())

        facility = run_write(form, work)
        if facility is not None:
            state = "ticked" if facility.bill_device_by_default else "left unticked"
            flash(f"New cases at {facility.code} start with C9809 {state}.", "success")
    return redirect(url_for("web.facilities"))
