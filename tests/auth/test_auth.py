"""Tokens, roles, idempotency, CLI users and the demo loader."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from supply_app.auth import service
from supply_app.auth.models import ApiToken, AuditEvent, User
from supply_app.clock import utcnow
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.idempotency import IdempotencyRecord
from tests.support.factories import make_actor, make_facility
from tests.support.web import sign_in

FACILITY = {
    "code": "IDEM-1",
    "name": "n",
    "site_of_service": "ASC",
    "dodaac": "ABC123",
    "ship_to_address": "a",
}


def test_no_token_is_401_problem(client):
    """Every /api endpoint but health and the spec needs a token."""
    response = client.get("/api/v1/parts")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_token_stored_only_as_hash(app):
    """The secret never lands in the database."""
    actor = make_actor(app, "viewer")
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert actor.token not in stored
    assert actor.get("/api/v1/me").json["username"] == actor.user.username


def test_revoked_and_expired_tokens_are_401(app):
    """Revocation is immediate; an expired token stops working."""
    actor = make_actor(app, "viewer")
    tokens = actor.get("/api/v1/me/tokens").json["items"]
    assert actor.post(f"/api/v1/me/tokens/{tokens[0]['id']}/revoke").status_code == 204
    assert actor.get("/api/v1/me").status_code == 401
    other = make_actor(app, "viewer")
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == other.user.id)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert other.get("/api/v1/me").status_code == 401


def test_deactivated_user_token_is_401(app):
    """A deactivated user's tokens stop working."""
    actor = make_actor(app, "viewer")
    db.session.get(User, actor.user.id).active = False
    db.session.commit()
    assert actor.get("/api/v1/me").status_code == 401


def test_session_cookie_is_not_accepted_on_api(app):
    """A signed-in browser session gives no access to /api."""
    browser = sign_in(app, "viewer")
    home = browser.get("/")
    assert "/login" not in home.headers.get("Location", "")  # the UI accepts the session
    assert browser.get("/api/v1/me").status_code == 401


def test_issue_token_shows_secret_once(app):
    """The issued token works; a replayed response does not repeat the secret."""
    actor = make_actor(app, "viewer")
    first = actor.post("/api/v1/me/tokens", json={"name": "laptop"}, key="tok-1")
    assert first.status_code == 201
    secret = first.json["token"]
    assert (
        app.test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        .status_code
        == 200
    )
    replay = actor.post("/api/v1/me/tokens", json={"name": "laptop"}, key="tok-1")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert secret not in replay.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 2


def test_idempotency_replays_and_rejects_a_changed_body(app):
    """Same key + body replays the first response; a different body is 422."""
    admin = make_actor(app, "admin", all_facilities=True)
    first = admin.post("/api/v1/facilities", json=FACILITY, key="k-1")
    again = admin.post("/api/v1/facilities", json=FACILITY, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = admin.post("/api/v1/facilities", json={**FACILITY, "name": "other"}, key="k-1")
    assert changed.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Facility)) == 1
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_idempotency_keys_are_per_user_and_failures_not_stored(app):
    """Another user's key does not collide; a failed request can be retried."""
    admin = make_actor(app, "admin", all_facilities=True)
    other = make_actor(app, "admin", all_facilities=True)
    bad = admin.post("/api/v1/facilities", json={**FACILITY, "dodaac": "x"}, key="k-2")
    assert bad.status_code == 422
    assert admin.post("/api/v1/facilities", json=FACILITY, key="k-2").status_code == 201
    second = other.post("/api/v1/facilities", json={**FACILITY, "code": "IDEM-2"}, key="k-2")
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second.headers
    too_long = admin.post("/api/v1/facilities", json={**FACILITY, "code": "IDEM-3"}, key="k" * 256)
    assert too_long.status_code == 422


def test_users_and_tokens_cli(app):
    """`users create` and `tokens issue` work and report bad input."""
    facility = make_facility()
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["users", "create", "pat", "--role", "purchaser", "--facility", facility.code],
        input="long-enough-pw\n" * 2,
    )
    assert created.exit_code == 0, created.output
    issued = runner.invoke(args=["tokens", "issue", "pat", "--days", "7"])
    assert issued.exit_code == 0
    secret = issued.output.strip().splitlines()[-1]
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json["facility_ids"] == [facility.id]
    dup = runner.invoke(
        args=["users", "create", "pat", "--role", "viewer"], input="long-enough-pw\n" * 2
    )
    assert dup.exit_code == 1
    wrong = runner.invoke(
        args=["users", "create", "vee", "--role", "viewer", "--all-facilities"],
        input="long-enough-pw\n" * 2,
    )
    assert wrong.exit_code == 1
    assert "admin and finance" in wrong.output
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "user.create")
        )
        == 1
    )


def test_demo_is_idempotent_and_prints_working_tokens(app):
    """The demo loads three facilities and a user per role; reruns change nothing."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    counts = (
        db.session.scalar(select(func.count()).select_from(Facility)),
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(ApiToken)),
    )
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    tokens = [line for line in first.output.splitlines() if "sat_demo_" in line]
    assert len(tokens) == 7
    assert tokens == [line for line in second.output.splitlines() if "sat_demo_" in line]
    db.session.expire_all()
    assert counts == (
        db.session.scalar(select(func.count()).select_from(Facility)),
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(ApiToken)),
    )
    assert counts[0] == 3
    sites = set(db.session.scalars(select(Facility.site_of_service)))
    assert sites == {"HOPD", "ASC", "office"}
    token = next(
        line.split()[-1]
        for line in first.output.splitlines()
        if line.strip().startswith("purchaser ")
    )
    parts = app.test_client().get("/api/v1/parts", headers={"Authorization": f"Bearer {token}"})
    assert parts.json["meta"]["total"] == 6
    assert "DEMO VALUE" in first.output


def test_login_is_slowed_after_repeated_failures(app, monkeypatch):
    """Five wrong passwords pause the account; the right one is then refused for a while."""
    actor = make_actor(app, "viewer")
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client = app.test_client()
        for _ in range(5):
            assert (
                client.post(
                    "/login", data={"username": actor.user.username, "password": "wrong-password"}
                ).status_code
                == 401
            )
        hashed = []
        real = service._spend_one_hash
        monkeypatch.setattr(service, "_spend_one_hash", lambda p: hashed.append(p) or real(p))
        locked = client.post(
            "/login", data={"username": actor.user.username, "password": "correct-horse-battery"}
        )
        assert locked.status_code == 401
        # A locked account spends a hash like any other answer: its speed names no account.
        assert hashed == ["correct-horse-battery"]
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_a_token_never_makes_one_that_outlives_it(app):
    """A 1-day token asking for a 366-day token gets one that ends when it does, so a stolen
    token cannot renew itself past its expiry."""
    actor = make_actor(app, "viewer")
    minting = db.session.scalars(select(ApiToken).where(ApiToken.user_id == actor.user.id)).one()
    minting.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    made = actor.post("/api/v1/me/tokens", json={"name": "long-lived", "days": 366})
    assert made.status_code == 201, made.json
    db.session.commit()
    child = db.session.get(ApiToken, made.json["id"])
    assert child.expires_at == db.session.get(ApiToken, minting.id).expires_at


def test_idempotent_retry_of_an_empty_answer_replays_it(app):
    """A retried 204 (token revoke, override removal) answers 204 again, changing nothing."""
    actor = make_actor(app, "finance", all_facilities=True)
    token_id = actor.get("/api/v1/me/tokens").json["items"][0]["id"]
    spare = actor.post("/api/v1/me/tokens", json={"name": "spare"}).json
    actor.token = spare["token"]  # revoke the first token with the second
    revoke = f"/api/v1/me/tokens/{token_id}/revoke"
    first = actor.post(revoke, key="revoke-1")
    again = actor.post(revoke, key="revoke-1")
    assert first.status_code == again.status_code == 204
    assert again.get_data() == first.get_data() == b""
    assert again.content_type == first.content_type
    assert again.headers["Idempotent-Replayed"] == "true"
    override = "/api/v1/fee-schedules/2026/overrides/C9809/HOPD"
    put = actor.client.put(override, json={"amount": "1000.00"}, headers=actor.headers())
    assert put.status_code == 200, put.json
    removals = [actor.client.delete(override, headers=actor.headers("drop-1")) for _ in range(2)]
    assert [r.status_code for r in removals] == [204, 204]
    assert removals[1].headers["Idempotent-Replayed"] == "true"
    assert removals[1].get_data() == b""
    deletes = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "fee_override.delete")
    )
    assert deletes == 1
    # Without the key, a second removal is what it is: there is nothing left to remove.
    assert actor.client.delete(override, headers=actor.headers()).status_code == 404


def test_every_refused_sign_in_is_audited_with_its_address(app):
    """A wrong password and a locked account each leave a user.sign_in_failed event naming
    the account and the client address (AC-7, AU-2); an unknown name writes nothing."""
    actor = make_actor(app, "viewer")
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client = app.test_client()
        for _ in range(6):  # five wrong passwords lock the account; the sixth is refused locked
            client.post("/login", data={"username": actor.user.username, "password": "nope-nope"})
        client.post("/login", data={"username": "nobody-by-this-name", "password": "nope-nope"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.sign_in_failed").order_by(AuditEvent.id)
    ).all()
    assert [(e.entity_type, e.entity_id, e.after["locked"]) for e in events] == [
        *[("user", str(actor.user.id), False)] * 5,
        ("user", str(actor.user.id), True),
    ]
    assert {e.after["client"] for e in events} == {"127.0.0.1"}
