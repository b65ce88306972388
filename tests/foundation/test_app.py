"""The factory, config safety, logs and error shapes."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from supply_app import create_app
from supply_app.config import DEVELOPMENT_SECRET_KEY
from tests.support.factories import make_actor


def test_factory_touches_no_database(tmp_path):
    """Building the app against a database that does not exist yet must not fail."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/nope/x.db", "TESTING": True}
    )
    assert not (tmp_path / "nope").exists()
    assert app.name == "supply_app"


@pytest.mark.parametrize("secret", [None, "", DEVELOPMENT_SECRET_KEY])
def test_production_refuses_development_secret(tmp_path, secret):
    """Outside development and tests, the dev key (or none) stops the app with a reason."""
    config = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"}
    if secret is not None:
        config["SECRET_KEY"] = secret
    else:
        config["SECRET_KEY"] = None
    with pytest.raises(RuntimeError, match="SUPPLY_SECRET_KEY"):
        create_app(config)


def test_production_starts_with_real_secret(tmp_path):
    """A real secret key is accepted in production."""
    app = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db",
        }
    )
    assert app.config["SECRET_KEY"] == "x" * 40


def test_environment_overrides_database_url(tmp_path, monkeypatch):
    """SUPPLY_DATABASE_URL switches the database (here to another SQLite file)."""
    monkeypatch.setenv("SUPPLY_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")


def test_default_database_is_sqlite_in_instance_folder(monkeypatch):
    """Without configuration the app uses SQLite in its instance folder."""
    monkeypatch.delenv("SUPPLY_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{app.instance_path}/supply_app.sqlite3"
    )


def test_sqlite_pragmas(app):
    """WAL journal and enforced foreign keys on the embedded database."""
    from sqlalchemy import text

    from supply_app.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas only apply to SQLite")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_request_id_is_echoed_and_in_problems(client):
    """A given X-Request-ID comes back in the header and in problem bodies."""
    response = client.get("/api/v1/parts", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.json["request_id"] == "abc-123"


def test_unsafe_request_id_is_replaced(client):
    """A request id with odd characters is not echoed (no header or log injection)."""
    response = client.get("/api/v1/health", headers={"X-Request-ID": "bad id <script>"})
    assert response.headers["X-Request-ID"] != "bad id <script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_logs_are_json_with_request_id_and_no_body(client):
    """Each request logs one JSON line with its id; request bodies never appear."""
    logger = logging.getLogger("supply_app")
    handler = next(h for h in logger.handlers if isinstance(h.formatter, JsonFormatter))
    captured = io.StringIO()
    previous = handler.setStream(captured)
    logger.setLevel(logging.INFO)
    try:
        client.post(
            "/api/v1/facilities",
            json={"secret_marker": "PATIENT-NAME"},
            headers={"X-Request-ID": "log-check"},
        )
    finally:
        logger.setLevel(logging.WARNING)
        handler.setStream(previous)
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert any(
        line.get("request_id") == "log-check" and line.get("status") == 401 for line in lines
    )
    assert "PATIENT-NAME" not in json.dumps(lines)


def test_health_needs_no_token(client):
    """Health answers without a token and reports the database dialect."""
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"


def test_openapi_spec_is_public_and_31(client):
    """The spec is served at /api/openapi.json in OpenAPI 3.1 with bearer security."""
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert "bearer" in spec["components"]["securitySchemes"]
    assert "/api/v1/parts" in spec["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"/api/swagger-ui-assets/swagger-ui-bundle.js" in docs.data
    bundle = client.get("/api/swagger-ui-assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert bundle.mimetype in ("text/javascript", "application/javascript")


def test_unknown_api_path_is_problem_json(client):
    """Routing 404s under /api are problem+json (after auth); elsewhere an HTML page."""
    assert client.get("/api/v1/nothing-here").status_code == 401
    make_actor(client.application, "viewer")
    api = make_actor(client.application, "viewer").get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.mimetype == "application/problem+json"
    page = client.get("/nothing-here")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert b"Traceback" not in page.data


def test_method_not_allowed_keeps_allow_header(client):
    """405 carries Allow, as RFC 9110 asks."""
    response = client.delete("/api/v1/health")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_unknown_query_parameter_is_422(app):
    """A misspelt filter is refused, not silently ignored (which would return everything)."""
    viewer = make_actor(app, "viewer")
    response = viewer.get("/api/v1/facilities?include_inactiv=true")
    assert response.status_code == 422
    assert "include_inactiv" in response.json["errors"]["query"]
    assert viewer.get("/api/v1/facilities?include_inactive=true").status_code == 200
