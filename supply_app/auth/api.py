"""Auth API: who am I, my tokens, user administration, and the health probe."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from sqlalchemy import select, text

from supply_app.auth import admin, service
from supply_app.auth.guard import api_user, roles
from supply_app.auth.models import ApiToken, User
from supply_app.auth.permissions import ALL_ROLES, USER_ADMINS
from supply_app.auth.schemas import (
    HealthOut,
    IssuedTokenOut,
    MeOut,
    TokenIn,
    TokenList,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
    UserQuery,
)
from supply_app.errors import NotFound
from supply_app.extensions import db
from supply_app.http import ApiBlueprint, paginate
from supply_app.idempotency import write_endpoint

blp = ApiBlueprint("auth", __name__, url_prefix="/api/v1", description="Identity and tokens")


@blp.route("/health")
class Health(MethodView):
    """Liveness probe (no token needed)."""

    @blp.doc(security=[])
    @blp.response(200, HealthOut)
    def get(self):
        """Report that the service runs and reaches its database."""
        db.session.execute(text("SELECT 1"))
        return {"status": "ok", "database": db.engine.dialect.name}


@blp.route("/me")
class Me(MethodView):
    """The caller."""

    @roles(*ALL_ROLES)
    @blp.response(200, MeOut)
    def get(self):
        """Who the token belongs to, with role and facilities."""
        user = api_user()
        ids = service.facility_ids_for(db.session, user)
        return {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
            "all_facilities": user.all_facilities,
            "facility_ids": sorted(ids) if ids is not None else [],
        }


@blp.route("/me/tokens")
class MyTokens(MethodView):
    """The caller's API tokens."""

    @roles(*ALL_ROLES)
    @blp.response(200, TokenList)
    def get(self):
        """List your tokens (never their secrets)."""
        tokens = db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == api_user().id).order_by(ApiToken.id)
        ).all()
        return {"items": tokens}

    @roles(*ALL_ROLES)
    @write_endpoint(redact=("token",))
    @blp.arguments(TokenIn)
    @blp.response(201, IssuedTokenOut)
    def post(self, data):
        """Issue yourself a new token; the secret is in this response only. It expires no
        later than the token that asked for it."""
        token, secret = service.issue_token(
            db.session,
            user=api_user(),
            name=data["name"],
            days=data["days"],
            not_after=g.api_token_expires_at,
        )
        return {
            **{c: getattr(token, c) for c in IssuedTokenOut().fields if c != "token"},
            "token": secret,
        }


@blp.route("/me/tokens/<int(max=2147483647):token_id>/revoke")
class RevokeToken(MethodView):
    """Revoke one of your tokens."""

    @roles(*ALL_ROLES)
    @write_endpoint
    @blp.response(204)
    def post(self, token_id):
        """Revoke a token at once (it answers 401 from then on)."""
        token = db.session.get(ApiToken, token_id)
        if token is None or token.user_id != api_user().id:
            raise NotFound(f"No token with id {token_id}.")
        service.revoke_token(db.session, token=token, actor=api_user())


@blp.route("/users")
class Users(MethodView):
    """Users an administrator manages."""

    @roles(*USER_ADMINS)
    @blp.arguments(UserQuery, location="query")
    @blp.response(200, UserPage)
    def get(self, args):
        """List the users you manage (all, or those within your facilities), by username."""
        stmt = admin.managed_users(api_user())
        if args.get("active") is not None:
            stmt = stmt.where(User.active.is_(args["active"]))
        return paginate(db.session, stmt, args["page"], args["per_page"])

    @roles(*USER_ADMINS)
    @write_endpoint
    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    def post(self, data):
        """Create a user with a role, facilities and an initial password (admins)."""
        return admin.add_user(db.session, admin=api_user(), data=data)


@blp.route("/users/<int(max=2147483647):user_id>")
class UserDetail(MethodView):
    """One user."""

    @roles(*USER_ADMINS)
    @blp.response(200, UserOut)
    def get(self, user_id):
        """Get a user you manage."""
        return admin.get_managed_user(db.session, api_user(), user_id)

    @roles(*USER_ADMINS)
    @write_endpoint
    @blp.arguments(UserPatch)
    @blp.response(200, UserOut)
    def patch(self, changes, user_id):
        """Change a user's name, role, facilities or password, or deactivate them (admins)."""
        user = admin.get_managed_user(db.session, api_user(), user_id, for_update=True)
        return admin.update_user(db.session, admin=api_user(), user=user, changes=changes)
