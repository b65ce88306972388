"""Domain errors and the one handler that renders them: problem+json under /api, HTML elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A failure a client caused or can act on; carries an HTTP status and problem members."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, **members: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.members = members

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 body for this error."""
        body: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.members,
        }
        if self.field:
            body["errors"] = {"json": {self.field: [self.detail]}}
        return body


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a business rule (422)."""

    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class NotFound(DomainError):
    """A resource that does not exist or that the caller may not know exists (404)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state of a resource (409)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class InvalidTransition(Conflict):
    """A lifecycle step that is not allowed from the resource's current state."""

    slug = "invalid-transition"
    title = "Invalid state transition"


class Forbidden(DomainError):
    """The caller is known but their role may not do this (403)."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    """No valid credentials were presented (401)."""

    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


def wants_problem_json() -> bool:
    """True for API paths, which always answer in problem+json."""
    return request.path.startswith("/api/")


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None):
    """Build a problem+json response, stamping the request id into the body."""
    body.setdefault("type", "about:blank")
    body["request_id"] = g.get("request_id")
    response = jsonify(body)
    response.status_code = body["status"]
    response.mimetype = PROBLEM_JSON
    if body["status"] == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="supply_app"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def html_error(status: int, title: str, detail: str):
    """Render the friendly error page for the UI."""
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def handle_domain_error(error: DomainError):
    """Render a DomainError for whichever side of the app raised it."""
    from supply_app.extensions import db

    db.session.rollback()
    if wants_problem_json():
        return problem_response(error.problem())
    return html_error(error.status, error.title, error.detail)


def handle_http_exception(error: HTTPException):
    """Render werkzeug/webargs HTTP errors (404 routing, 405, 422 validation, 500)."""
    from supply_app.extensions import db

    db.session.rollback()
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    detail = data.get("message") or (
        "An unexpected error occurred; it has been logged." if status >= 500 else error.description
    )
    if not wants_problem_json():
        return html_error(status, error.name, detail)
    body: dict[str, Any] = {"title": error.name, "status": status, "detail": detail}
    errors = data.get("errors") or data.get("messages")
    if errors:
        body["errors"] = errors
        body["detail"] = "The request did not validate; see errors for each field."
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in ("content-type", "content-length")
    }
    headers.update(data.get("headers") or {})
    return problem_response(body, headers)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the app."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
