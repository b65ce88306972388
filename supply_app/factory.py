"""The application factory: config, extensions, blueprints, error handlers and CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from supply_app.config import Defaults, check_production_safety, database_uri
from supply_app.db import install_sqlite_hooks
from supply_app.errors import register_error_handlers
from supply_app.extensions import api, csrf, db, login_manager, migrate
from supply_app.logs import configure_logging, install_request_logging

MIGRATIONS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations"
)


def api_blueprints() -> list[Any]:
    """Every domain's API blueprint, in the order they appear in the docs."""
    from supply_app.auth.api import blp as auth_blp
    from supply_app.cases.api import blp as cases_blp
    from supply_app.catalog.api import blp as catalog_blp
    from supply_app.facilities.api import blp as facilities_blp
    from supply_app.inventory.api import blp as inventory_blp
    from supply_app.inventory.recall_api import blp as recalls_blp
    from supply_app.notifications.api import blp as notifications_blp
    from supply_app.ordering.api import blp as ordering_blp
    from supply_app.reporting.api import blp as reporting_blp

    return [
        auth_blp,
        catalog_blp,
        facilities_blp,
        inventory_blp,
        recalls_blp,
        ordering_blp,
        cases_blp,
        reporting_blp,
        notifications_blp,
    ]


def build_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the app; touches no database."""
    app = Flask("supply_app", instance_relative_config=True)
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("SUPPLY")
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config, app.instance_path)
    check_production_safety(app.config)
    configure_logging(app.config["LOG_LEVEL"])

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            install_sqlite_hooks(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    _init_login(app)
    from supply_app.notifications.mail import init_mail

    init_mail(app)

    api.init_app(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    for blueprint in api_blueprints():
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)

    from supply_app.auth.guard import authenticate_api_request
    from supply_app.web import bp as web_bp

    app.register_blueprint(web_bp)
    _serve_swagger_ui_assets(app)
    register_error_handlers(app)
    install_request_logging(app)
    app.before_request(authenticate_api_request)

    from supply_app.cli import register_commands

    register_commands(app)
    return app


def _serve_swagger_ui_assets(app: Flask) -> None:
    """Serve Swagger UI from its installed Python package, so /api/docs needs no CDN."""
    from flask import send_from_directory
    from swagger_ui_bundle import swagger_ui_path

    @app.route(app.config["OPENAPI_SWAGGER_UI_URL"] + "<path:filename>")
    def swagger_ui_asset(filename: str):
        """A Swagger UI static file."""
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


def _init_login(app: Flask) -> None:
    """Sessions for the UI only; /api authenticates with bearer tokens."""
    from supply_app.auth.models import User

    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load_user(session_id: str) -> User | None:
        user_id, _, epoch = session_id.partition(".")
        if not (user_id.isdigit() and epoch.isdigit()):
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return user
