"""UI views: sign-in, home by role."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from supply_app.auth.service import check_password
from supply_app.extensions import db
from supply_app.web import bp
from supply_app.web.forms import LoginForm


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; failures are counted so repeated guessing is slowed down."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = check_password(db.session, form.username.data, form.password.data)
        db.session.commit()
        if user is None:
            form.password.errors.append(
                "Username or password is wrong, or the account is paused after repeated "
                "failures; wait a minute and try again."
            )
            return render_template("auth/login.html", form=form), 401
        login_user(user, remember=form.remember.data)
        target = request.args.get("next", "")
        if not target or urlsplit(target).netloc or not target.startswith("/"):
            target = url_for("web.home")
        return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out."""
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("web.login"))


@bp.route("/")
@login_required
def home():
    """Landing page for the signed-in user's role."""
    return render_template("home.html")
