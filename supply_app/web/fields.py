"""WTForms fields built from the domains' input rules: the UI checks what the API checks.

Each field keeps its rule as `field.rule`, renders the rule's bounds as HTML attributes
(maxlength, min, max) and, when the form is submitted, cleans what was typed with the rule,
so the value a view receives is already the stored form (cents for money, an int for a
number). A test walks every form to hold each field to its rule.
"""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField
from wtforms import DateField, Field, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from supply_app.money import Amount
from supply_app.rules import Choice, Day, Identifier, Rule, RuleBroken, Text, WholeNumber


class _Ruled:
    """Parse what was typed with the field's rule; blank is allowed only when optional."""

    rule: Rule
    optional: bool

    def _clean(self, text: str) -> Any:
        raise NotImplementedError

    def pre_validate(self, form: Any) -> None:
        """Clean the raw text into the stored value, or stop with the rule's message."""
        raw = self.raw_data[0] if self.raw_data else ""  # type: ignore[attr-defined]
        if raw is None or (isinstance(raw, str) and raw.strip(" \t") == ""):
            if self.optional:
                self.data = None
                raise StopValidation()
            raise StopValidation(f"Enter the {self.rule.label}.")
        try:
            self.data = self._clean(raw)
        except RuleBroken as exc:
            raise StopValidation(str(exc)) from exc

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Keep the typed text until validation (so a refused value is shown back as typed)."""
        self.raw_data = valuelist  # type: ignore[attr-defined]
        self.data = valuelist[0] if valuelist else None


class RuleTextField(_Ruled, StringField):
    """A one-line text or identifier field (identifiers lose surrounding spaces first)."""

    def __init__(
        self, label: str, rule: Text | Identifier, *, optional: bool = False, **kwargs: Any
    ) -> None:
        self.rule, self.optional = rule, optional
        render = {"maxlength": rule.max_length, **kwargs.pop("render_kw", {})}
        if isinstance(rule, Identifier):
            render.setdefault("spellcheck", "false")
            render.setdefault("autocomplete", "off")
            if rule.upper:
                render.setdefault("autocapitalize", "characters")
        if not optional:
            render["required"] = True
        super().__init__(label, render_kw=render, **kwargs)

    def _clean(self, text: str) -> str:
        if isinstance(self.rule, Identifier):
            text = text.strip(" \t")
        return self.rule.clean(text)


class RuleTextAreaField(_Ruled, TextAreaField):
    """Multi-line free text (notes, addresses) or one value per line (scans)."""

    def __init__(self, label: str, rule: Text, *, optional: bool = False, **kwargs: Any) -> None:
        self.rule, self.optional = rule, optional
        render = {"maxlength": rule.max_length, **kwargs.pop("render_kw", {})}
        super().__init__(label, render_kw=render, **kwargs)

    def _clean(self, text: str) -> str:
        return self.rule.clean(text)


class TextFileField(FileField):
    """An uploaded text file (a CSV) read as UTF-8 and held to a text rule; optional.

    data is the file's text, or None when no file was chosen.
    """

    def __init__(self, label: str, rule: Text, **kwargs: Any) -> None:
        self.rule = rule
        render = {"accept": ".csv,text/csv,text/plain", **kwargs.pop("render_kw", {})}
        super().__init__(label, render_kw=render, **kwargs)

    def pre_validate(self, form: Any) -> None:
        """Read the upload: UTF-8 (a byte-order mark is dropped), within the rule."""
        upload = self.data
        if not hasattr(upload, "read"):
            self.data = None
            return
        raw = upload.read(self.rule.max_length * 4 + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise StopValidation(
                "The file is not UTF-8 text; save it from your spreadsheet as CSV UTF-8."
            ) from exc
        try:
            self.data = self.rule.clean(text) if text.strip() else None
        except RuleBroken as exc:
            raise StopValidation(str(exc)) from exc


class RuleNumberField(_Ruled, Field):
    """A whole number typed in ASCII digits, within the rule's bounds."""

    widget_type = "number"

    def __init__(
        self, label: str, rule: WholeNumber, *, optional: bool = False, **kwargs: Any
    ) -> None:
        from wtforms.widgets import NumberInput

        self.rule, self.optional = rule, optional
        render = {"min": rule.minimum, "max": rule.maximum, "step": 1}
        render.update(kwargs.pop("render_kw", {}))
        if not optional:
            render["required"] = True
        widget = kwargs.pop("widget", None) or NumberInput()
        super().__init__(label, widget=widget, render_kw=render, **kwargs)

    def _clean(self, text: str) -> int:
        return self.rule.parse(text.strip(" \t"))  # type: ignore[attr-defined]

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class AmountField(_Ruled, StringField):
    """Money typed as "1250.00" (digits, optional point and cents); data is integer cents."""

    def __init__(self, label: str, rule: Amount, *, optional: bool = False, **kwargs: Any) -> None:
        self.rule, self.optional = rule, optional
        render = {"inputmode": "decimal", "maxlength": 16, **kwargs.pop("render_kw", {})}
        if not optional:
            render["required"] = True
        super().__init__(label, render_kw=render, **kwargs)

    def _clean(self, text: str) -> int:
        return self.rule.parse(text.strip(" \t"))  # type: ignore[attr-defined]

    def _value(self) -> str:
        if isinstance(self.data, int):
            return self.rule.format(self.data)  # type: ignore[attr-defined]
        return self.data or ""


class RuleDateField(_Ruled, DateField):
    """A date (the browser's date picker sends YYYY-MM-DD), within the rule's years."""

    def __init__(self, label: str, rule: Day, *, optional: bool = False, **kwargs: Any) -> None:
        self.rule, self.optional = rule, optional
        render = {"min": rule.earliest.isoformat(), "max": rule.latest.isoformat()}
        render.update(kwargs.pop("render_kw", {}))
        if not optional:
            render["required"] = True
        super().__init__(label, render_kw=render, **kwargs)

    def _clean(self, text: str) -> Any:
        return self.rule.parse(text.strip(" \t"))  # type: ignore[attr-defined]

    def _value(self) -> str:
        if hasattr(self.data, "isoformat"):
            return self.data.isoformat()
        return self.data or ""


class RuleSelectField(SelectField):
    """One of a Choice rule's options (with the words people see), optionally blank."""

    def __init__(
        self,
        label: str,
        rule: Choice,
        *,
        blank: str | None = None,
        required: bool = False,
        **kwargs: Any,
    ) -> None:
        """blank: a first option with no value; required: it must not stay chosen (the
        field starts with no choice made for the user, who must make one)."""
        self.rule, self.required = rule, required
        pairs = [("", blank)] if blank is not None else []
        super().__init__(label, choices=options(*pairs, *rule.options), **kwargs)

    def pre_validate(self, form: Any) -> None:
        """Blank only when offered (and not required); otherwise the rule decides."""
        if self.data in ("", None) and self.choices and self.choices[0].value == "":
            if self.required:
                raise StopValidation(f"Choose the {self.rule.label}.")
            self.data = None
            return
        try:
            self.rule.clean(self.data)
        except RuleBroken as exc:
            raise ValidationError(str(exc)) from exc


def options(*pairs: tuple[object, str], **attrs: dict) -> list[SelectChoice]:
    """Select options from (value, label) pairs; attrs maps a value to extra HTML attributes."""
    return [
        SelectChoice(value, label, render_kw=attrs.get(str(value), {})) for value, label in pairs
    ]
