"""The application factory: config, extensions, blueprints, error handlers and CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from supply_app.config import Defaults, check_production_safety, database_uri, https_only
from supply_app.db import install_sqlite_hooks
from supply_app.errors import register_error_handlers
from supply_app.extensions import api, csrf, db, login_manager, migrate
from supply_app.headers import install_security_headers
from supply_app.http import AsciiIntegerConverter, SafeJSONProvider
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
    from supply_app.payers.api import blp as payers_blp
    from supply_app.reporting.api import blp as reporting_blp

    return [
        auth_blp,
        catalog_blp,
        facilities_blp,
        inventory_blp,
        recalls_blp,
        ordering_blp,
        cases_blp,
        payers_blp,
        reporting_blp,
        notifications_blp,
    ]


def build_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the app; touches no database."""
    app = Flask("supply_app", instance_relative_config=True)
    app.json = SafeJSONProvider(app)
    app.url_map.converters["int"] = AsciiIntegerConverter
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("SUPPLY")
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config, app.instance_path)
    check_production_safety(app.config)
    if https_only(app.config):
        app.config["SESSION_COOKIE_SECURE"] = True
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
    from supply_app.http import refuse_oversized_streams
    from supply_app.web import bp as web_bp

    app.register_blueprint(web_bp)
    _serve_api_docs(app)
    install_security_headers(app)
    register_error_handlers(app)
    install_request_logging(app)
    app.before_request(refuse_oversized_streams)
    app.before_request(authenticate_api_request)

    from supply_app.cli import register_commands

    register_commands(app)
    return app


def _serve_api_docs(app: Flask) -> None:
    """Serve Swagger UI at /api/docs from its installed Python package (no CDN).

    The page is ours rather than flask-smorest's, whose template starts Swagger UI with an
    inline script the content policy refuses; ours loads a static file that does the same.
    """
    from flask import render_template, send_from_directory, url_for
    from swagger_ui_bundle import swagger_ui_path

    assets = app.config["OPENAPI_SWAGGER_UI_URL"]

    @app.route(assets + "<path:filename>")
    def swagger_ui_asset(filename: str):
        """A Swagger UI static file."""
        return send_from_directory(swagger_ui_path, filename, max_age=86400)

    @app.route(app.config["API_DOCS_PATH"])
    def api_docs():
        """Interactive API documentation (Swagger UI) over /api/openapi.json."""
        return render_template(
            "api_docs.html",
            title=app.config["API_TITLE"],
            assets=assets,
            spec_url=url_for("api-docs.openapi_json"),
        )


def _init_login(app: Flask) -> None:
    """Sessions for the UI only; /api authenticates with bearer tokens."""
    from supply_app.auth.models import User

    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def _load_user(secret: str) -> User | None:
        from flask import flash, session

        from supply_app.auth.sessions import idle_too_long, user_for_session

        if idle_too_long(session, app.config["SESSION_IDLE_MINUTES"]):
            session.clear()
            flash(
                f"You were signed out after {app.config['SESSION_IDLE_MINUTES']} minutes "
                "without activity; sign in again.",
                "info",
            )
            return None
        return user_for_session(db.session, secret)
