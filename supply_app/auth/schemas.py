"""Schemas for the auth API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from supply_app.auth import rules
from supply_app.fields import id_field, rule_field
from supply_app.http import PageArgs, page_envelope


class MeOut(ma.Schema):
    """The calling user, their role and the facilities they hold."""

    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    role = ma.fields.String()
    all_facilities = ma.fields.Boolean()
    facility_ids = ma.fields.List(ma.fields.Integer())


class TokenIn(ma.Schema):
    """A request for a new API token for yourself."""

    name = rule_field(rules.TOKEN_NAME, required=True)
    days = rule_field(rules.TOKEN_DAYS, load_default=90)


class TokenOut(ma.Schema):
    """An API token without its secret."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String()
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    revoked_at = ma.fields.DateTime(allow_none=True)


class IssuedTokenOut(TokenOut):
    """A newly issued token: the secret is shown this once and never again."""

    token = ma.fields.String()


class TokenList(ma.Schema):
    """Your tokens."""

    items = ma.fields.List(ma.fields.Nested(TokenOut))


class HealthOut(ma.Schema):
    """Liveness and database reachability."""

    status = ma.fields.String()
    database = ma.fields.String()


class UserOut(MeOut):
    """A user as administrators see them (never the password)."""

    active = ma.fields.Boolean()
    locked_until = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


def _password(**kwargs) -> ma.fields.Field:
    return rule_field(rules.PASSWORD, load_only=True, **kwargs)


def _facility_ids(**kwargs) -> ma.fields.List:
    return ma.fields.List(id_field(), validate=validate.Length(max=100), **kwargs)


class UserIn(ma.Schema):
    """A new user: role, facilities and an initial password."""

    username = rule_field(rules.USERNAME, required=True)
    display_name = rule_field(rules.DISPLAY_NAME)
    role = rule_field(rules.ROLE, required=True)
    password = _password(required=True)
    facility_ids = _facility_ids(load_default=list)
    all_facilities = ma.fields.Boolean(load_default=False)


class UserPatch(ma.Schema):
    """Changes to a user; send only what changes (a password resets it)."""

    display_name = rule_field(rules.DISPLAY_NAME)
    role = rule_field(rules.ROLE)
    password = _password()
    facility_ids = _facility_ids()
    all_facilities = ma.fields.Boolean()
    active = ma.fields.Boolean()


class UserQuery(PageArgs):
    """Filters for the user list."""

    active = ma.fields.Boolean()


UserPage = page_envelope(UserOut, "UserPage")
