"""Tokens, sessions, CSRF, login throttling and the audit trail.

The API-wide checks enumerate operations from the spec and UI forms from the URL map, so
endpoints added later are covered without touching this file.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import AnyConverter

from supply_app.auth.models import ApiToken, AuditEvent, User
from supply_app.auth.service import LOCKOUT_AFTER_FAILURES
from supply_app.clock import utcnow
from supply_app.extensions import db
from tests.support.factories import TEST_PASSWORD, make_actor, make_facility, sync_parts
from tests.support.spec import PUBLIC_OPERATIONS, operations

API_OPERATIONS = [(m, p) for m, p, _ in operations() if (m, p) not in PUBLIC_OPERATIONS]
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def concrete(path: str) -> str:
    """A spec path with every placeholder filled (auth is checked before any lookup)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form on a page."""
    found = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert found, f"no csrf_token field on {path}"
    return found.group(1)


def login(client, username: str, password: str = TEST_PASSWORD):
    """Sign in through the real form, CSRF token included."""
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )


def test_revoked_and_expired_tokens_are_401_on_every_operation(app):
    """A revoked token and an expired token are refused by every protected operation."""
    revoked = make_actor(app, "admin", all_facilities=True)
    expired = make_actor(app, "admin", all_facilities=True)
    token_id = revoked.get("/api/v1/me/tokens").json["items"][0]["id"]
    assert revoked.post(f"/api/v1/me/tokens/{token_id}/revoke").status_code == 204
    row = db.session.scalars(select(ApiToken).where(ApiToken.user_id == expired.user.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for method, path in API_OPERATIONS:
        for actor in (revoked, expired):
            response = actor.client.open(
                concrete(path), method=method.upper(), headers=actor.headers(), json={}
            )
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_never_accepts_the_session_cookie(app):
    """A browser signed in to the UI gets 401 from every API operation."""
    actor = make_actor(app, "admin", all_facilities=True)
    client = app.test_client()
    assert login(client, actor.user.username).status_code == 302
    assert client.get("/").status_code in (200, 302)
    for method, path in API_OPERATIONS:
        response = client.open(concrete(path), method=method.upper(), json={})
        assert response.status_code == 401, (method, path, response.status_code)


def ui_post_urls(app: Flask) -> list[str]:
    """A URL for every UI rule that accepts POST (ids 1, the first choice of an any())."""
    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or "POST" not in (rule.methods or ()):
            continue
        values = {
            name: sorted(converter.items)[0] if isinstance(converter, AnyConverter) else 1
            for name, converter in rule._converters.items()
        }
        urls.append(adapter.build(rule.endpoint, values, method="POST"))
    return sorted(set(urls))


def test_every_ui_form_requires_csrf(app):
    """POSTing any UI form without its CSRF token is a 400, signed in or not."""
    facility = make_facility()
    actor = make_actor(app, "admin", [facility])
    client = app.test_client()
    paths = ui_post_urls(app)
    assert "/login" in paths
    for path in paths:
        assert client.post(path, data={"x": "1"}).status_code == 400, path
    assert login(client, actor.user.username).status_code == 302
    for path in paths:
        response = client.post(path, data={"x": "1"})
        assert response.status_code == 400, (path, response.status_code)
        assert b"Traceback" not in response.data


def test_login_with_csrf_token_works(app):
    """The control for the CSRF test: the same form with its token signs in."""
    actor = make_actor(app, "viewer")
    client = app.test_client()
    assert login(client, actor.user.username, "wrong-password").status_code == 401
    assert login(client, actor.user.username).status_code == 302


def test_repeated_failed_logins_are_slowed_down(app):
    """After LOCKOUT_AFTER_FAILURES wrong passwords even the right one is refused for a while."""
    actor = make_actor(app, "viewer")
    client = app.test_client()
    for _ in range(LOCKOUT_AFTER_FAILURES):
        assert login(client, actor.user.username, "wrong-password").status_code == 401
    refused = login(client, actor.user.username)
    assert refused.status_code == 401
    assert b"wait" in refused.data
    user = db.session.get(User, actor.user.id)
    db.session.refresh(user)
    assert user.locked_until is not None
    assert user.locked_until > utcnow()
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert login(client, actor.user.username).status_code == 302


def audit_events(action_prefix: str) -> list[AuditEvent]:
    """Audit events whose action starts with a prefix, oldest first."""
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.startswith(action_prefix))
        .order_by(AuditEvent.id)
    ).all()


def assert_audited(
    event: AuditEvent, actor_id: int | None, *, before: bool, after: bool = True
) -> None:
    """An event names who and when, and carries the values before and/or after the change."""
    assert event.actor_id == actor_id
    assert abs((utcnow() - event.at).total_seconds()) < 60
    assert bool(event.before) is before, event.before
    assert bool(event.after) is after, event.after


def test_price_changes_are_audited(app):
    """Setting a price, and the end date it puts on the previous one, are audited."""
    parts = sync_parts(app)
    buyer = make_actor(app, "finance", all_facilities=True)
    part_id = parts["CRX2111-10"].id
    for start, price in (("2026-01-01", "300.00"), ("2026-07-01", "310.00")):
        response = buyer.post(
            "/api/v1/contract-prices",
            json={"part_id": part_id, "unit_price": price, "effective_from": start},
        )
        assert response.status_code == 201, response.json
    sets = audit_events("price.set")
    assert [e.after["unit_price_cents"] for e in sets] == [30000, 31000]
    for event in sets:
        assert_audited(event, buyer.user.id, before=False)
    (ended,) = audit_events("price.end")
    assert_audited(ended, buyer.user.id, before=True)


def test_user_and_token_changes_are_audited(app):
    """Creating a user, issuing and revoking tokens name the actor and the values."""
    actor = make_actor(app, "viewer")
    (created,) = [e for e in audit_events("user.create") if e.entity_id == str(actor.user.id)]
    assert created.after["role"] == "viewer"
    issued = actor.post("/api/v1/me/tokens", json={"name": "laptop", "days": 7})
    assert issued.status_code == 201
    token_id = issued.json["id"]
    assert actor.post(f"/api/v1/me/tokens/{token_id}/revoke").status_code == 204
    issue = [e for e in audit_events("token.issue") if e.entity_id == str(token_id)]
    revoke = [e for e in audit_events("token.revoke") if e.entity_id == str(token_id)]
    assert len(issue) == len(revoke) == 1
    assert_audited(issue[0], actor.user.id, before=False)
    assert_audited(revoke[0], actor.user.id, before=True)
    assert actor.token not in str(issue[0].after)
    assert "token_hash" not in str(issue[0].after)


def test_par_level_changes_are_audited(app):
    """Setting and then changing a par level records who, when, before and after."""
    parts = sync_parts(app)
    facility = make_facility()
    materials = make_actor(app, "materials", [facility])
    part_id = parts["CRX2111-10"].id
    for low, high in ((10, 40), (20, 60)):
        response = materials.client.put(
            f"/api/v1/facilities/{facility.id}/par-levels",
            json={"levels": [{"part_id": part_id, "min_eaches": low, "max_eaches": high}]},
            headers=materials.headers(),
        )
        assert response.status_code == 200, response.json
    first, second = audit_events("par_level.set")
    assert_audited(first, materials.user.id, before=False)
    assert_audited(second, materials.user.id, before=True)
    assert (second.before["min_eaches"], second.after["min_eaches"]) == (10, 20)
    assert second.facility_id == facility.id


def test_fee_schedule_overrides_are_audited(app):
    """Setting, changing and removing a C9809 override is audited with before and after."""
    finance = make_actor(app, "finance", all_facilities=True)
    path = "/api/v1/fee-schedules/2026/overrides/C9809/HOPD"
    for amount in ("1000.00", "1200.00"):
        response = finance.client.put(path, json={"amount": amount}, headers=finance.headers())
        assert response.status_code in (200, 201), response.json
    assert finance.client.delete(path, headers=finance.headers()).status_code in (200, 204)
    first, second = audit_events("fee_override.set")
    assert_audited(first, finance.user.id, before=False)
    assert_audited(second, finance.user.id, before=True)
    (removed,) = audit_events("fee_override.delete")
    assert_audited(removed, finance.user.id, before=True, after=False)


def test_a_body_without_a_length_that_fills_the_limit_is_refused_not_cut(app):
    """A chunked body (no Content-Length) past MAX_CONTENT_LENGTH is a 413 through a real
    HTTP server; werkzeug alone stops reading at the limit and the view acted on the first
    megabyte as if it were all (a 200). A small chunked body still works."""
    import http.client
    from urllib.parse import urlsplit

    from tests.support.live import serving

    viewer = make_actor(app, "viewer")
    limit = app.config["MAX_CONTENT_LENGTH"]

    def chunked(base: str, padding: int) -> int:
        where = urlsplit(base)
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
        connection.putrequest("POST", "/api/v1/scan")
        for name, value in {**viewer.headers(), "Content-Type": "application/json"}.items():
            connection.putheader(name, value)
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        body = b'{"scan": "ABC"}' + b" " * padding
        try:
            for start in range(0, len(body), 65536):
                chunk = body[start : start + 65536]
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before the rest was sent
        status = connection.getresponse().status
        connection.close()
        return status

    with serving(app) as base:
        assert chunked(base, 10) == 200
        assert chunked(base, 5 * limit) == 413
