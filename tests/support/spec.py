"""The published OpenAPI spec, read at collection time so every operation gets its own test."""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Iterator
from typing import Any

from flask import Flask

from supply_app import create_app
from supply_app.extensions import db

METHODS = ("get", "post", "put", "patch", "delete")
PUBLIC_OPERATIONS = {("get", "/api/v1/health")}


@contextlib.contextmanager
def throwaway_app() -> Iterator[Flask]:
    """An app on a temporary SQLite URL that is never touched (the factory does no I/O)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/x.db"})
        yield app
        with app.app_context():
            db.engine.dispose()


@functools.cache
def published_spec() -> dict[str, Any]:
    """The spec as /api/openapi.json serves it."""
    with throwaway_app() as app:
        response = app.test_client().get("/api/openapi.json")
        assert response.status_code == 200, response.status_code
        return response.json


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) of the API, in spec order."""
    found = []
    for path, item in published_spec()["paths"].items():
        for method in METHODS:
            if method in item:
                found.append((method, path, item[method]))
    return found


def operation_ids() -> list[str]:
    """Readable test ids, e.g. 'GET /api/v1/parts'."""
    return [f"{method.upper()} {path}" for method, path, _ in operations()]


def path_parameters(path: str) -> list[str]:
    """Names of the {placeholders} in a spec path."""
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
