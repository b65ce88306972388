"""API plumbing shared by every domain: problem+json docs, strict query parsing, pagination."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import marshmallow as ma
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser

from supply_app.fields import Money, RuleNumber
from supply_app.rules import WholeNumber

PAGE = WholeNumber("page", 1, 10_000)
PER_PAGE = WholeNumber("per_page", 1, 100)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details as this API sends them."""

    class Meta:
        """Problems carry extension members (requested, available, current_state...)."""

        unknown = ma.INCLUDE

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    request_id = ma.fields.String(allow_none=True)
    errors = ma.fields.Dict()


class ProblemApi(Api):
    """flask-smorest Api that documents errors as application/problem+json.

    Error rendering itself lives in supply_app.errors; this class only fixes the spec and
    stops smorest from installing its own JSON handler for the whole app (the UI too).
    """

    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app: Any, *, spec_kwargs: dict[str, Any] | None = None) -> None:
        """Set up the spec, documenting our custom fields with their JSON types."""
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_field(Money, "string", None)

    def _register_error_handlers(self) -> None:
        """Leave error handling to supply_app.errors."""

    def _register_responses(self) -> None:
        """Document every error status with the problem+json media type."""
        import http

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, "application/problem+json")
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, "application/problem+json")
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class StrictQueryParser(FlaskParser):
    """Rejects unknown query parameters as it rejects unknown body fields.

    webargs ignores unknown query parameters by default, so a misspelt filter
    (`?facilty_id=3`) would silently return everything instead of telling the caller.
    """

    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }


class ApiBlueprint(Blueprint):
    """The flask-smorest Blueprint every domain API uses."""

    ARGUMENTS_PARSER = StrictQueryParser()


class PageArgs(ma.Schema):
    """Bounded page/per_page query arguments."""

    page = RuleNumber(PAGE, from_text=True, load_default=1)
    per_page = RuleNumber(PER_PAGE, from_text=True, load_default=50)


class PageMeta(ma.Schema):
    """Pagination facts sent beside every list."""

    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()


def page_envelope(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A `{items, meta}` schema for lists of item_schema."""
    return ma.Schema.from_dict(
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "meta": ma.fields.Nested(PageMeta),
        },
        name=name,
    )


def paginate(session: Any, stmt: Select, page: int, per_page: int) -> dict[str, Any]:
    """Run stmt for one page (stmt must already have a stable ORDER BY)."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {
        "items": items,
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": max(1, math.ceil(total / per_page)),
        },
    }
