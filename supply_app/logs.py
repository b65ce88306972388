"""Structured JSON logs with a request id on every line, never request bodies."""

from __future__ import annotations

import logging
import logging.config
import re
import time
import uuid

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)


class RequestIdFilter(logging.Filter):
    """Stamp the current request id (if any) onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add request_id to the record; always lets it through."""
        from flask import has_request_context

        record.request_id = g.get("request_id") if has_request_context() else None
        return True


def configure_logging(level: str) -> None:
    """Send JSON lines to stderr for the app's loggers."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"request_id": {"()": RequestIdFilter}},
            "formatters": {
                "json": {
                    "()": "pythonjsonlogger.json.JsonFormatter",
                    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                    "rename_fields": {"asctime": "time", "levelname": "level"},
                }
            },
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "json",
                    "filters": ["request_id"],
                }
            },
            "loggers": {"supply_app": {"handlers": ["stderr"], "level": level, "propagate": False}},
        }
    )


def install_request_logging(app: Flask) -> None:
    """Assign a request id, echo it back, and log one line per request."""
    access = logging.getLogger("supply_app.access")

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _echo_request_id(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
            access.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.started) * 1000, 2),
                    "user_id": g.get("api_user_id"),
                },
            )
        return response
