"""The server-rendered UI."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)

from supply_app.web import views  # noqa: E402,F401  (registers the routes on bp)
