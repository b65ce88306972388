"""User administration under concurrency, through a real threaded HTTP server.

The same new username from many clients: one 201, the rest 409, never a 500. The same
facility granted by many clients: every answer 200 and one membership. A deactivation
racing the user's own token requests: once it commits, no token of theirs is live, and
reactivating the user revives none. One user's keyed token requests at once: all 201.
"""

from __future__ import annotations

from collections import Counter

import flask_migrate
import pytest
from sqlalchemy import func, select

from supply_app.auth.models import ApiToken, FacilityMembership, User
from supply_app.auth.service import create_user, issue_token
from supply_app.extensions import db
from supply_app.facilities.service import create_facility
from tests.conftest import make_test_app
from tests.support.live import at_once, call, on_postgresql, serving

THREADS = 12


def seed(url: str):
    """A migrated app with two facilities, an all-facility admin and a purchaser; tokens."""
    app = make_test_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        home, second = (
            create_facility(
                db.session,
                data={
                    "code": f"RACE-{n}",
                    "name": f"Race {n}",
                    "site_of_service": "ASC",
                    "dodaac": f"RACE0{n}",
                    "ship_to_address": "1 Test Road",
                    "time_zone": "UTC",
                },
                actor=None,
            )
            for n in (1, 2)
        )
        boss = create_user(
            db.session,
            username="boss",
            display_name="Boss",
            role="admin",
            password="correct-horse-battery",
            all_facilities=True,
        )
        worker = create_user(
            db.session,
            username="worker",
            display_name="Worker",
            role="purchaser",
            password="correct-horse-battery",
            facility_ids=[home.id],
        )
        _, boss_token = issue_token(db.session, user=boss, name="race", days=1)
        _, worker_token = issue_token(db.session, user=worker, name="race", days=1)
        db.session.commit()
        ids = {"home": home.id, "second": second.id, "worker": worker.id}
    return app, boss_token, worker_token, ids


def run_user_races(url: str) -> None:
    """Create, grant and deactivate at once; then check what the database holds."""
    app, boss, worker, ids = seed(url)
    body = {
        "username": "twin",
        "role": "viewer",
        "password": "a-long-password",
        "facility_ids": [ids["home"]],
    }
    grant = {"facility_ids": [ids["home"], ids["second"]]}
    worker_path = f"/api/v1/users/{ids['worker']}"
    with serving(app) as base:
        created = at_once([lambda: call(base, boss, "POST", "/api/v1/users", body)] * THREADS)
        granted = at_once([lambda: call(base, boss, "PATCH", worker_path, grant)] * THREADS)
        racing = at_once(
            [lambda: call(base, boss, "PATCH", worker_path, {"active": False})]
            + [lambda: call(base, worker, "POST", "/api/v1/me/tokens", {"name": "new"})]
            * (THREADS - 1)
        )
        back = call(base, boss, "PATCH", worker_path, {"active": True})
        after = call(base, worker, "GET", "/api/v1/me")
        keyed = at_once(
            [
                lambda n=n: call(base, boss, "POST", "/api/v1/me/tokens", {"name": "k"}, f"k{n}")
                for n in range(THREADS)
            ]
        )
    assert Counter(status for status, _ in created) == {201: 1, 409: THREADS - 1}, created
    assert {status for status, _ in granted} == {200}, granted
    assert {status for status, _ in racing} <= {200, 201, 401, 409}, racing
    issued = [body["token"] for status, body in racing if status == 201]
    assert back[0] == 200
    assert after[0] == 401
    # Each keyed request holds a key-share lock on its user (the idempotency record) when
    # it asks for the user lock: that must wait, not deadlock.
    assert [status for status, _ in keyed] == [201] * THREADS, keyed
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(User.username == "twin")) == 1
        held = db.session.scalars(
            select(FacilityMembership.facility_id).where(
                FacilityMembership.user_id == ids["worker"]
            )
        ).all()
        assert sorted(held) == sorted([ids["home"], ids["second"]])
        live = db.session.scalar(
            select(func.count()).where(
                ApiToken.user_id == ids["worker"], ApiToken.revoked_at.is_(None)
            )
        )
        assert live == 0, f"{live} live tokens after deactivation ({len(issued)} issued)"
        db.engine.dispose()
    with serving(app) as base:
        assert all(call(base, token, "GET", "/api/v1/me")[0] == 401 for token in issued)


@pytest.mark.pg
@on_postgresql
def test_user_races_on_postgresql(database_factory):
    """PostgreSQL: the user row lock and the unique keys decide; no 500, no live token."""
    run_user_races(database_factory("userrace"))


def test_user_races_on_sqlite(tmp_path):
    """SQLite: BEGIN IMMEDIATE serialises the writers; the same outcomes."""
    run_user_races(f"sqlite:///{tmp_path}/userrace.sqlite3")
