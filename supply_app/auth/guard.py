"""Request-level authentication for /api and role checks for API views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, request

from supply_app.auth.models import User
from supply_app.auth.service import require_every_facility, require_role, user_for_token
from supply_app.errors import Unauthorized
from supply_app.extensions import db

PUBLIC_API_PATHS = (
    "/api/v1/health",
    "/api/openapi.json",
    "/api/docs",
    "/api/swagger-ui-assets/",
)


def authenticate_api_request() -> None:
    """Resolve the bearer token for /api requests; the session cookie is never accepted."""
    if not request.path.startswith("/api/") or request.path.startswith(PUBLIC_API_PATHS):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    found = user_for_token(db.session, secret.strip())
    if found is None:
        raise Unauthorized("The API token is unknown, expired or revoked; issue a new one.")
    user, g.api_token_expires_at = found
    g.api_user = user
    g.api_user_id = user.id  # a plain int: readable after the commit expires the user


def api_user() -> User:
    """The user behind the current API request."""
    return g.api_user


def roles(
    *allowed: str, every_facility: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow a view only to the given roles, and record them in the OpenAPI operation.

    The `x-roles` extension lets the access-control tests enumerate every endpoint from
    the spec, so a new endpoint cannot escape them. `every_facility` (the reason) marks a
    change beyond any one facility: only a user who holds every facility may make it, and
    the operation carries `x-every-facility`.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            require_role(api_user(), *allowed)
            if every_facility is not None:
                require_every_facility(api_user(), every_facility)
            return view(*args, **kwargs)

        extensions: dict[str, Any] = {"x-roles": list(allowed)}
        if every_facility is not None:
            extensions["x-every-facility"] = every_facility
        apidoc = getattr(wrapper, "_apidoc", {})
        wrapper._apidoc = {  # type: ignore[attr-defined]
            **apidoc,
            "manual_doc": {**apidoc.get("manual_doc", {}), **extensions},
        }
        return wrapper

    return decorate
