"""Every UI form field takes its limits and choices from the domain's own rule.

A form that restated a limit (Length(max=40) beside a rule of 20) would drift; here each
field of each form must carry the rule it was built from, render that rule's bounds, and
offer exactly that rule's choices, with the words people see.
"""

from __future__ import annotations

import inspect
import pathlib

import pytest
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form

from supply_app.money import Amount
from supply_app.rules import Choice, Identifier, Text, WholeNumber
from supply_app.web import fields as ui_fields
from supply_app.web import forms, payer_forms

# Forms people post, and the row forms a list of rows is made of (a receipt's lines).
FORMS = [
    cls
    for module in (forms, payer_forms)
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, Form) and cls not in (Form, FlaskForm) and cls.__module__ == module.__name__
]
# Fields that choose rows by id (their choices are the user's own rows, filled by the view),
# plain checkboxes, lists of row forms (checked as forms of their own), and the CSRF token:
# no rule of a domain applies to them.
ROW_CHOICES = (forms.IdSelectField, forms.CheckboxList, FieldList)


def _bound(app, form_class):
    with app.test_request_context("/", method="GET"):
        return form_class(meta={"csrf": False})


@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: cls.__name__)
def test_every_field_is_built_from_a_domain_rule(app, form_class):
    """Each typed field has a rule; its rendered bounds and its choices are the rule's."""
    form = _bound(app, form_class)
    for field in form:
        if field.name == "csrf_token" or isinstance(field, BooleanField):
            continue
        if isinstance(field, ROW_CHOICES) and not isinstance(field, forms.RuleCheckboxList):
            continue
        if field.name in ("year",) and form_class is forms.OverrideForm:
            continue  # the schedule years come from the coding module's published files
        rule = getattr(field, "rule", None)
        assert rule is not None, f"{form_class.__name__}.{field.name} has no rule"
        render = field.render_kw or {}
        if isinstance(field, ui_fields.TextFileField):
            assert isinstance(rule, Text), (form_class, field.name)
            continue
        if isinstance(rule, Text | Identifier):
            assert render.get("maxlength") == rule.max_length, (form_class, field.name)
        if isinstance(rule, WholeNumber):
            assert (render.get("min"), render.get("max")) == (rule.minimum, rule.maximum)
        if isinstance(rule, Choice):
            offered = [(c.value, c.label) for c in field.choices if c.value != ""]
            assert offered == list(rule.options), (form_class, field.name)
        if isinstance(rule, Amount):
            assert isinstance(field, ui_fields.AmountField)


def test_the_login_and_password_rules_are_the_domains():
    """The user forms' password and username are the auth domain's rules themselves."""
    from supply_app.auth import rules

    assert forms.UserForm.username.args[1] is rules.USERNAME
    assert forms.UserForm.password.args[1] is rules.PASSWORD
    assert forms.UserEditForm.role.args[1] is rules.ROLE


def test_no_view_or_form_restates_a_limit():
    """The UI never declares a length, range or pattern of its own (rules do)."""
    web = pathlib.Path(forms.__file__).parent
    for source in web.glob("*.py"):
        body = source.read_text()
        for restated in ("Length(", "NumberRange(", "Regexp(", "isdigit()"):
            assert restated not in body, f"{source.name} restates a rule with {restated}"
