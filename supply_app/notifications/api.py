"""Notifications API: your address and digest choice, and today's digest as data."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from supply_app.auth.guard import api_user, roles
from supply_app.auth.permissions import ALL_ROLES
from supply_app.errors import NotFound
from supply_app.extensions import db
from supply_app.fields import rule_field
from supply_app.http import ApiBlueprint
from supply_app.idempotency import write_endpoint
from supply_app.notifications import service
from supply_app.notifications.digest import SECTIONS, build_digest
from supply_app.notifications.rules import EMAIL

blp = ApiBlueprint(
    "notifications", __name__, url_prefix="/api/v1", description="Digests and notices"
)


class PreferenceIn(ma.Schema):
    """Your address (null forgets it) and whether you want the daily digest."""

    email = rule_field(EMAIL, required=True, allow_none=True)
    daily_digest = ma.fields.Boolean(required=True)


class PreferenceOut(ma.Schema):
    """Where your mail goes and whether the daily digest is on."""

    email = ma.fields.String(allow_none=True)
    daily_digest = ma.fields.Boolean()


class DigestItemOut(ma.Schema):
    """One thing that needs you."""

    facility_code = ma.fields.String()
    text = ma.fields.String()
    path = ma.fields.String(metadata={"description": "The UI page that deals with it."})


class DigestSectionOut(ma.Schema):
    """A kind of item, with its items."""

    key = ma.fields.String(metadata={"enum": [key for key, _ in SECTIONS]})
    title = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(DigestItemOut))


class DigestOut(ma.Schema):
    """Today's digest: what your landing page shows and the morning email says."""

    day = ma.fields.Date()
    count = ma.fields.Integer()
    sections = ma.fields.List(ma.fields.Nested(DigestSectionOut))


@blp.route("/notifications/me")
class MyPreference(MethodView):
    """Your notification settings."""

    @roles(*ALL_ROLES)
    @blp.response(200, PreferenceOut)
    def get(self):
        """Your address and digest choice."""
        return service.preference(db.session, api_user())

    @roles(*ALL_ROLES)
    @write_endpoint
    @blp.arguments(PreferenceIn)
    @blp.response(200, PreferenceOut)
    def put(self, data):
        """Set your address and opt in to (or out of) the daily digest."""
        return service.set_preference(db.session, user=api_user(), **data)


@blp.route("/notifications/digest")
class MyDigest(MethodView):
    """Your digest."""

    @roles(*ALL_ROLES)
    @blp.response(200, DigestOut)
    def get(self):
        """Today's items for your role at your facilities (404 when you hold none)."""
        digest = build_digest(db.session, api_user())
        if digest is None:
            raise NotFound("You hold no active facility, so there is no digest.")
        return {
            "day": digest.day,
            "count": digest.count,
            "sections": [
                {"key": key, "title": title, "items": digest.sections.get(key, [])}
                for key, title in SECTIONS
                if key in digest.sections
            ],
        }
