"""API plumbing shared by every domain: problem+json docs, strict query parsing, pagination."""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar

import marshmallow as ma
from flask import request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from sqlalchemy import Select, func, select
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

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


#: Deeper than any body this API takes (a case is four levels), shallow enough for a stack.
MAX_JSON_DEPTH = 32
#: Digits in a JSON integer: every id and quantity fits in 18; a 5,000-digit one is an attack.
MAX_JSON_INTEGER_DIGITS = 18


def _nesting_depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text (strings skipped), scanning once."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise ValueError(f"a number has more than {MAX_JSON_INTEGER_DIGITS} digits")
    return int(digits)


def _number(text: str) -> float:
    value = float(text)
    if len(text) > 40 or not math.isfinite(value):
        raise ValueError("a number is too long or out of range")
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _no_lone_surrogates(value: Any) -> None:
    """Refuse strings (and keys) no database can store: UTF-16 halves without their pair."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= char <= "\udfff" for char in item):
                raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff)")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def read_json(text: str | bytes) -> Any:
    """Parse a request body as JSON within sane bounds.

    Refuses nesting deeper than MAX_JSON_DEPTH, integers longer than
    MAX_JSON_INTEGER_DIGITS, NaN and Infinity, and lone surrogates, so no body can exhaust
    the stack, the CPU or the database driver.

    :raises json.JSONDecodeError: not JSON, or JSON beyond those bounds (message says which).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", text, 0)
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_number, parse_constant=_constant)
        _no_lone_surrogates(value)
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None
    return value


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, reading request bodies with read_json's bounds."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text within read_json's bounds."""
        return read_json(s)


class StrictQueryParser(FlaskParser):
    """Rejects unknown query parameters as it rejects unknown body fields, and reads bodies
    with read_json's bounds.

    webargs ignores unknown query parameters by default, so a misspelt filter
    (`?facilty_id=3`) would silently return everything instead of telling the caller.
    """

    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict[str, str | None]] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return core.missing
        return read_json(req.get_data(cache=True))

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        detail = getattr(error, "msg", None) or "the body is not UTF-8"
        abort(400, exc=error, messages={"json": [f"The body is not usable JSON: {detail}."]})


class AsciiIntegerConverter(IntegerConverter):
    """<int:...> in URLs matched by ASCII digits only (werkzeug's \\d also takes ٣ and ３)."""

    regex = r"[0-9]{1,10}"


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


def refuse_oversized_streams() -> None:
    """413 for a body sent without a length (chunked) that reaches the size limit.

    werkzeug stops reading such a body at MAX_CONTENT_LENGTH without saying so, so a reader
    would act on its first megabyte as if it were all of it. Read (and cache, for the form
    and JSON readers) every such body once, here, and refuse it when it fills the limit.
    """
    limit = request.max_content_length
    if request.content_length is not None or limit is None:
        return
    if len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


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
