"""Marshmallow fields built from input rules, so the API enforces and documents each rule.

Every input field of every API schema is one of these (a test walks the schemas to make
sure): the rule cleans the value, and its bounds, pattern or choices go into the OpenAPI
spec. Query strings arrive as text, so numbers and dates there are read by the rule's
parse() (ASCII digits in one plain form), never by int() or fromisoformat().
"""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from supply_app.money import FIGURE, Amount
from supply_app.rules import Choice, Day, Identifier, Rule, RuleBroken, Text, WholeNumber

#: The largest id any path or body may name (the columns are 32-bit).
MAX_ID = 2_147_483_647
ID = WholeNumber("id", 1, MAX_ID)


def _documented(rule: Rule, kwargs: dict[str, Any]) -> dict[str, Any]:
    """kwargs with the rule's bounds merged into the field's OpenAPI metadata."""
    described: dict[str, Any] = {}
    if isinstance(rule, Text | Identifier):
        described = {"minLength": rule.min_length, "maxLength": rule.max_length}
        if isinstance(rule, Identifier):
            described["pattern"] = rule.json_pattern
    elif isinstance(rule, Choice):
        described = {"enum": list(rule.values)}
    elif isinstance(rule, WholeNumber):
        described = {"minimum": rule.minimum, "maximum": rule.maximum}
    elif isinstance(rule, Amount):
        described = {"pattern": rule.json_pattern, "example": rule.example}
    elif isinstance(rule, Day) and rule.json_pattern:
        described = {"pattern": rule.json_pattern}
    return {**kwargs, "metadata": {**described, **kwargs.get("metadata", {})}}


class _RuleMixin:
    """Deserialise through a rule; the rule's message becomes the validation error."""

    rule: Rule

    def _clean(self, value: Any) -> Any:
        try:
            return self.rule.clean(value)
        except RuleBroken as exc:
            raise ma.ValidationError(str(exc)) from exc


class RuleString(_RuleMixin, ma.fields.String):
    """A text, identifier or choice field cleaned by its rule."""

    def __init__(self, rule: Text | Identifier | Choice, **kwargs: Any) -> None:
        self.rule = rule
        super().__init__(**_documented(rule, kwargs))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return self._clean(value)


class RuleNumber(_RuleMixin, ma.fields.Integer):
    """A whole number cleaned by its rule; from_text for query strings (ASCII digits only)."""

    def __init__(self, rule: WholeNumber, *, from_text: bool = False, **kwargs: Any) -> None:
        self.rule = rule
        self.from_text = from_text
        super().__init__(strict=True, **_documented(rule, kwargs))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if self.from_text and isinstance(value, str):
            try:
                return self.rule.parse(value)  # type: ignore[attr-defined]
            except RuleBroken as exc:
                raise ma.ValidationError(str(exc)) from exc
        return self._clean(value)


class RuleDay(_RuleMixin, ma.fields.Date):
    """A date written YYYY-MM-DD, in the rule's range."""

    def __init__(self, rule: Day, **kwargs: Any) -> None:
        self.rule = rule
        super().__init__(**_documented(rule, kwargs))

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str):
            raise ma.ValidationError("Give a date written YYYY-MM-DD, such as 2026-03-31.")
        try:
            return self.rule.parse(value)  # type: ignore[attr-defined]
        except RuleBroken as exc:
            raise ma.ValidationError(str(exc)) from exc


class Money(_RuleMixin, ma.fields.Field):
    """Integer cents in Python, a decimal string ("903.63", "-12.50") in JSON.

    Inputs name the rule they take (PRICE, say); without one the field describes a figure
    the API reports, which may be negative (a margin, an outbound movement's value).
    """

    def __init__(self, rule: Amount | None = None, **kwargs: Any) -> None:
        self.rule = rule or FIGURE
        super().__init__(**_documented(self.rule, kwargs))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else self.rule.format(int(value))  # type: ignore[attr-defined]

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str):
            raise ma.ValidationError('Give an amount as a string, such as "1234.50".')
        try:
            return self.rule.parse(value)  # type: ignore[attr-defined]
        except RuleBroken as exc:
            raise ma.ValidationError(str(exc)) from exc


def rule_field(rule: Rule, *, from_text: bool = False, **kwargs: Any) -> ma.fields.Field:
    """The field for a rule: text and choices as strings, numbers, dates or money."""
    if isinstance(rule, WholeNumber):
        return RuleNumber(rule, from_text=from_text, **kwargs)
    if isinstance(rule, Day):
        return RuleDay(rule, **kwargs)
    if isinstance(rule, Amount):
        return Money(rule, **kwargs)
    return RuleString(rule, **kwargs)  # type: ignore[arg-type]


def id_field(**kwargs: Any) -> ma.fields.Field:
    """A row id in a JSON body."""
    return RuleNumber(ID, **kwargs)


def query_id(**kwargs: Any) -> ma.fields.Field:
    """A row id in a query string."""
    return RuleNumber(ID, from_text=True, **kwargs)
