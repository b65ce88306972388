"""User administration: create, change, deactivate; scoped to the admin's facilities; audited."""

from __future__ import annotations

import hashlib
import hmac
import json

from sqlalchemy import func, select

from supply_app.auth.models import ApiToken, AuditEvent, User
from supply_app.auth.service import check_password
from supply_app.extensions import db
from supply_app.idempotency import IdempotencyRecord
from tests.support.factories import make_actor, make_facility

USERS = "/api/v1/users"
NEW_PASSWORD = "a-new-long-password"


def new_user(facility_ids: list[int], **changes) -> dict:
    """A valid body for POST /users."""
    return {
        "username": "pat.smith",
        "display_name": "Pat Smith",
        "role": "purchaser",
        "password": "initial-password-1",
        "facility_ids": facility_ids,
        **changes,
    }


def audit(action: str) -> list[AuditEvent]:
    """Audit events of one action, oldest first."""
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by("id"))
    )


def problem_fields(response) -> set[str]:
    """The body fields a 4xx problem names."""
    return set(response.json.get("errors", {}).get("json", {}))


def row_counts() -> tuple[int, int]:
    """Users and audit events in the database."""
    return (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
    )


def test_admin_creates_a_user_who_can_sign_in_and_is_audited(app):
    """201 with the user (no password in it); the password works; user.create is audited."""
    home = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    response = admin.post(USERS, json=new_user([home.id]))
    assert response.status_code == 201, response.json
    assert response.json["facility_ids"] == [home.id]
    assert response.json["active"] is True
    assert "password" not in response.json
    assert check_password(db.session, "pat.smith", "initial-password-1").role == "purchaser"
    (event,) = [e for e in audit("user.create") if e.entity_id == str(response.json["id"])]
    assert event.actor_id == admin.user.id
    assert "password" not in str(event.after)
    taken = admin.post(USERS, json=new_user([home.id], role="viewer"))
    assert taken.status_code == 409
    assert problem_fields(taken) == {"username"}


def test_bad_input_names_the_field_and_writes_nothing(app):
    """Unknown facility, no facility, short password, every-facility viewer: refused cleanly."""
    home = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    before = row_counts()
    cases = [
        (new_user([home.id + 999]), 404, None),
        (new_user([]), 422, "facility_ids"),
        (new_user([home.id], password="short"), 422, "password"),
        (new_user([], role="viewer", all_facilities=True), 422, "all_facilities"),
        (new_user([home.id], username="-bad name"), 422, "username"),
    ]
    for body, status, field in cases:
        response = admin.post(USERS, json=body)
        assert response.status_code == status, (body, response.json)
        if field:
            assert problem_fields(response) == {field}, response.json
    assert row_counts() == before


def test_a_scoped_admin_manages_only_users_within_their_facilities(app):
    """Users with a membership elsewhere, or every facility, do not exist for them (404)."""
    home, other = make_facility(), make_facility()
    scoped = make_actor(app, "admin", [home])
    local = make_actor(app, "clinician", [home])
    shared = make_actor(app, "clinician", [home, other])
    finance = make_actor(app, "finance", all_facilities=True)
    listed = {u["username"] for u in scoped.get(USERS).json["items"]}
    assert listed == {scoped.user.username, local.user.username}
    assert scoped.get(f"{USERS}/{local.user.id}").status_code == 200
    for outsider in (shared, finance):
        assert scoped.get(f"{USERS}/{outsider.user.id}").status_code == 404
        patched = scoped.patch(f"{USERS}/{outsider.user.id}", json={"active": False})
        assert patched.status_code == 404
    grant_other = scoped.patch(f"{USERS}/{local.user.id}", json={"facility_ids": [other.id]})
    assert grant_other.status_code == 404
    create_other = scoped.post(USERS, json=new_user([home.id, other.id]))
    assert create_other.status_code == 404
    everywhere = scoped.post(USERS, json=new_user([], role="finance", all_facilities=True))
    assert everywhere.status_code == 422
    assert problem_fields(everywhere) == {"all_facilities"}
    assert scoped.post(USERS, json=new_user([home.id])).status_code == 201


def test_deactivating_revokes_tokens_and_reactivating_does_not_revive_them(app):
    """A deactivated user's token stops working at once and stays revoked afterwards."""
    home = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    leaver = make_actor(app, "purchaser", [home])
    assert leaver.get("/api/v1/me").status_code == 200
    off = admin.patch(f"{USERS}/{leaver.user.id}", json={"active": False})
    assert off.status_code == 200
    assert off.json["active"] is False
    assert leaver.get("/api/v1/me").status_code == 401
    (event,) = audit("user.update")
    assert (event.before["active"], event.after["active"]) == (True, False)
    assert event.after["tokens_revoked"] == 1
    on = admin.patch(f"{USERS}/{leaver.user.id}", json={"active": True})
    assert on.json["active"] is True
    assert leaver.get("/api/v1/me").status_code == 401
    assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == leaver.user.id))


def test_role_facilities_and_password_change_together(app):
    """A patch replaces memberships, changes role, resets the password and clears a lockout."""
    first, second, third = make_facility(), make_facility(), make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    target = make_actor(app, "viewer", [first, second])
    user = target.user
    assert target.get("/api/v1/me").status_code == 200
    for _ in range(5):  # lock the account with failed sign-ins
        check_password(db.session, user.username, "wrong-password")
    db.session.commit()
    response = admin.patch(
        f"{USERS}/{user.id}",
        json={"role": "materials", "facility_ids": [second.id, third.id], "password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.json
    assert response.json["role"] == "materials"
    assert response.json["facility_ids"] == sorted([second.id, third.id])
    assert response.json["locked_until"] is None
    assert check_password(db.session, user.username, NEW_PASSWORD) is not None
    (event,) = audit("user.update")
    assert event.before["facility_ids"] == sorted([first.id, second.id])
    assert event.after["password"] == "reset"
    assert NEW_PASSWORD not in str(event.after)
    # A reset answers a lost or stolen password: the tokens made with it stop at once.
    assert event.after["tokens_revoked"] == 1
    assert target.get("/api/v1/me").status_code == 401


def test_an_admin_cannot_lock_themself_out(app):
    """Deactivating or demoting yourself is a 409 and changes nothing; renaming is fine."""
    admin = make_actor(app, "admin", all_facilities=True)
    me = f"{USERS}/{admin.user.id}"
    before = row_counts()
    for change in ({"active": False}, {"role": "viewer"}):
        refused = admin.patch(me, json=change)
        assert refused.status_code == 409, refused.json
    assert row_counts() == before
    assert admin.patch(me, json={"display_name": "Chief"}).json["display_name"] == "Chief"
    assert admin.patch(me, json={}).status_code == 422


def test_only_admins_administer_users(app):
    """Every other role is refused with 403."""
    home = make_facility()
    for role in ("purchaser", "materials", "clinician", "finance", "viewer"):
        actor = make_actor(app, role, [home])
        assert actor.get(USERS).status_code == 403
        assert actor.post(USERS, json=new_user([home.id])).status_code == 403


def test_cli_deactivates_a_user(app):
    """`users deactivate` switches the user off, revokes tokens, and says so; unknown fails."""
    home = make_facility()
    leaver = make_actor(app, "purchaser", [home])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "deactivate", leaver.user.username])
    assert result.exit_code == 0, result.output
    assert leaver.get("/api/v1/me").status_code == 401
    db.session.expire_all()
    assert db.session.get(User, leaver.user.id).active is False
    missing = runner.invoke(args=["users", "deactivate", "nobody"])
    assert missing.exit_code == 1
    assert "nobody" in missing.output


def test_giving_up_your_own_every_facility_access_is_refused(app):
    """A global admin narrowing themself to one facility could not undo it: 409."""
    home = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    refused = admin.patch(
        f"{USERS}/{admin.user.id}", json={"all_facilities": False, "facility_ids": [home.id]}
    )
    assert refused.status_code == 409
    db.session.expire_all()
    assert db.session.get(User, admin.user.id).all_facilities is True


def test_a_blank_display_name_is_refused(app):
    """Spaces alone are not a name."""
    home = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    response = admin.post(USERS, json=new_user([home.id], display_name="   "))
    assert response.status_code == 422
    assert problem_fields(response) == {"display_name"}


def test_deactivating_twice_records_one_change(app):
    """The second deactivation finds nothing to do and writes no audit event."""
    home = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    leaver = make_actor(app, "viewer", [home])
    for _ in range(2):
        assert admin.patch(f"{USERS}/{leaver.user.id}", json={"active": False}).status_code == 200
    assert len(audit("user.update")) == 1


def test_the_stored_request_fingerprint_reveals_no_password(app):
    """An Idempotency-Key record keeps a keyed hash, not a plain hash of the body."""
    home = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    body = new_user([home.id])
    assert admin.post(USERS, json=body, key="new-user-1").status_code == 201
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.key == "new-user-1")
    )
    canonical = json.dumps(
        ["POST", USERS, "", body], sort_keys=True, separators=(",", ":")
    ).encode()
    assert record.request_hash != hashlib.sha256(canonical).hexdigest()
    keyed = hmac.new(app.secret_key.encode(), canonical, hashlib.sha256).hexdigest()
    assert record.request_hash == keyed


def test_a_username_clash_tells_a_limited_admin_nothing_about_its_holder(app):
    """Sign-in names are one namespace, so a name in use is refused; the refusal is the same
    for a holder inside and outside the admin's facilities and says nothing about them."""
    home, elsewhere = make_facility(), make_facility()
    limited = make_actor(app, "admin", [home])
    holders = [make_actor(app, "viewer", [home]), make_actor(app, "finance", [elsewhere])]

    def refusal(holder) -> str:
        """The answer to a clash with holder, with their name (the admin's input) blanked."""
        name = holder.user.username
        response = limited.post(USERS, json=new_user([home.id], username=name))
        assert response.status_code == 409, response.json
        body = {k: v for k, v in response.json.items() if k != "request_id"}
        return json.dumps(body).replace(name, "<name>")

    inside, outside = (refusal(holder) for holder in holders)
    assert inside == outside
    assert "holds every facility" in outside
    for detail in (elsewhere.code, elsewhere.name, "finance", "viewer"):
        assert detail not in outside
