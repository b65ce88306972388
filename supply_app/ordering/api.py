"""Ordering API."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("ordering", __name__, url_prefix="/api/v1", description="Ordering")
