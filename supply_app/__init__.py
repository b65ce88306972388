"""supply_app: ECAT ordering, lot-level stock and per-case margin for iovera° supplies.

The factory's imports are deferred so that `supply_app.coding` can be imported by other
services without pulling in Flask or SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application (no database I/O happens here)."""
    from supply_app.factory import build_app

    return build_app(test_config)
