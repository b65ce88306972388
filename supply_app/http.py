"""API plumbing shared by every domain: problem+json docs, pagination, money fields."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import marshmallow as ma
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from marshmallow import validate
from sqlalchemy import Select, func, select
from webargs.flaskparser import FlaskParser

MAX_INT32 = 2_147_483_647


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


MONEY_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"


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


class Money(ma.fields.Field):
    """Integer cents in Python, a decimal string ("903.63") in JSON."""

    def __init__(self, **kwargs: Any) -> None:
        # Documented as a string with a pattern, so the spec says what the API accepts.
        metadata = {"pattern": MONEY_PATTERN, "example": "903.63", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return format_cents(int(value))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str):
            raise ma.ValidationError('Give an amount as a string, such as "1234.50".')
        try:
            amount = Decimal(value)
        except InvalidOperation as exc:
            raise ma.ValidationError('Give an amount such as "1234.50".') from exc
        if not amount.is_finite():
            raise ma.ValidationError('Give an amount such as "1234.50".')
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ma.ValidationError("Give an amount with at most two decimal places.")
        if not Decimal("0") <= amount <= Decimal("10000000"):
            raise ma.ValidationError("Amount must be between 0 and 10000000.00.")
        return int(amount * 100)


def format_cents(cents: int) -> str:
    """Render integer cents as a decimal string with two places."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


class WholeNumber(ma.fields.Integer):
    """A strict integer that also takes a JSON number with no fraction (29.0).

    JSON Schema counts 29.0 as an integer, so the published spec allows it; 29.5, "29"
    and booleans are still refused rather than truncated or coerced.
    """

    def _validated(self, value: Any) -> int:
        if self.strict and isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


def bounded_int(
    minimum: int = 1, maximum: int = MAX_INT32, *, strict: bool = True, **kwargs: Any
) -> ma.fields.Integer:
    """An integer field with bounds, so no client value can overflow a column.

    JSON bodies are strict (no "5" for 5); query strings pass strict=False.
    """
    return WholeNumber(strict=strict, validate=validate.Range(minimum, maximum), **kwargs)


def bounded_str(maximum: int, minimum: int = 1, **kwargs: Any) -> ma.fields.String:
    """A string field with length bounds (plus any extra validators given)."""
    extra = kwargs.pop("validate", ())
    extra = list(extra) if isinstance(extra, list | tuple) else [extra]
    return ma.fields.String(validate=[validate.Length(minimum, maximum), *extra], **kwargs)


class PageArgs(ma.Schema):
    """Bounded page/per_page query arguments."""

    page = ma.fields.Integer(load_default=1, validate=validate.Range(1, 10_000))
    per_page = ma.fields.Integer(load_default=50, validate=validate.Range(1, 100))


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
