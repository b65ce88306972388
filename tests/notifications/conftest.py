"""Fixtures for the mail tests: the ordering world, and the app wired to a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from supply_app.extensions import db
from tests.conftest import make_test_app
from tests.ordering.conftest import world  # noqa: F401 - the shared ordering fixture
from tests.support.smtp import Inbox, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, dict[str, Any]]]:
    """A plain SMTP server on a free port: its inbox and the settings that reach it."""
    with smtp_server() as served:
        yield served


@pytest.fixture
def app_with(app) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test database with extra settings (SMTP ones, say)."""
    made: list[Flask] = []

    def build(**settings: Any) -> Flask:
        other = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], **settings)
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def run_cli(target: Flask, *args: str):
    """Invoke `supply-app ARGS` against target (its own app context, so its settings)."""
    with target.app_context():
        result = target.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result
