"""Inventory API."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("inventory", __name__, url_prefix="/api/v1", description="Inventory")

from supply_app.inventory import service  # noqa: E402,F401  (models on the metadata)
