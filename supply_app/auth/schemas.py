"""Schemas for the auth API."""

from __future__ import annotations

import marshmallow as ma

from supply_app.http import bounded_int, bounded_str


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

    name = bounded_str(80, required=True)
    days = bounded_int(1, 366, load_default=90)


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
