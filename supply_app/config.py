"""Configuration defaults; every key can be overridden by a SUPPLY_* environment variable."""

from __future__ import annotations

import os

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused outside dev/test


class Defaults:
    """Defaults for a development run on the embedded SQLite database."""

    ENV_NAME = "development"
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI: str | None = None  # set from DATABASE_URL or the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # noqa: RUF012 - Flask config values are plain dicts
    SQLALCHEMY_RECORD_QUERIES = False
    API_TITLE = "supply_app"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_URL = "/api/swagger-ui-assets/"  # the assets; the page is API_DOCS_PATH
    API_DOCS_PATH = "/api/docs"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # None: Secure cookies and HSTS everywhere but development (see https_only).
    HTTPS_ONLY: bool | None = None
    # A UI sign-in lasts this long at most; the cookie itself dies with the browser.
    SESSION_HOURS = 12
    # ...and ends after this many minutes without a request (DoD application STIGs ask for
    # 15; a tired clinician's unlocked workstation is exactly what this is for).
    SESSION_IDLE_MINUTES = 15
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 1024 * 1024
    CATALOG_PATH = os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "catalog", "ecat_parts.json"
    )
    API_TOKEN_DEFAULT_DAYS = 90
    IDEMPOTENCY_RETENTION_HOURS = 24
    LOG_LEVEL = "INFO"
    #: The zone new facilities get unless one is given (and existing ones at migration 0006).
    DEFAULT_TIME_ZONE = "America/New_York"
    # SMTP for digests and recall notices (see supply_app.notifications.mail). No server or
    # sender means no mail: `notify send` says so and exits 1.
    MAIL_SERVER: str | None = None
    # The seconds a recall's request may spend emailing its notices (and per SMTP step);
    # what is left goes with the next `notify send`.
    RECALL_NOTICE_SECONDS = 10
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS
    MAIL_USE_SSL = False  # TLS from the first byte (usually port 465)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER: str | None = None
    MAIL_TIMEOUT = 30  # seconds per SMTP operation
    MAIL_CA_FILE: str | None = None  # extra CA bundle to trust (e.g. DoD roots)
    #: Where people reach the UI (https://supply.example.mil), for links in email.
    PUBLIC_URL: str | None = None


def database_uri(config: dict, instance_path: str) -> str:
    """Pick the database URL: explicit config, SUPPLY_DATABASE_URL, or SQLite in the instance."""
    explicit = config.get("SQLALCHEMY_DATABASE_URI") or config.get("DATABASE_URL")
    if explicit:
        return explicit
    return "sqlite:///" + os.path.join(instance_path, "supply_app.sqlite3")


def https_only(config: dict) -> bool:
    """Whether the app is only ever reached over HTTPS: HTTPS_ONLY, else outside development."""
    explicit = config.get("HTTPS_ONLY")
    return config.get("ENV_NAME") != "development" if explicit is None else bool(explicit)


def check_production_safety(config: dict) -> None:
    """Refuse to run outside development and tests with the development secret key."""
    if config.get("TESTING") or config.get("ENV_NAME") == "development":
        return
    if config.get("SECRET_KEY") in (None, "", DEVELOPMENT_SECRET_KEY):
        raise RuntimeError(
            "SUPPLY_SECRET_KEY is unset or is the development key; sessions and CSRF tokens "
            f"would be forgeable. Set SUPPLY_SECRET_KEY to a long random value for "
            f"SUPPLY_ENV_NAME={config.get('ENV_NAME')!r}."
        )
