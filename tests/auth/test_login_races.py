"""Wrong passwords sent at the same moment, through a real threaded HTTP server.

Every attempt is counted in one conditional UPDATE before the password is looked at, so
parallel guesses cannot lose each other's counts, and no more passwords are checked than
the lockout promises, however many arrive at once.
"""

from __future__ import annotations

import threading
from typing import Any

import flask_migrate
import pytest
from sqlalchemy import select

from supply_app.auth import service as auth_service
from supply_app.auth.models import AuditEvent, User
from supply_app.auth.service import LOCKOUT_AFTER_FAILURES, create_user
from supply_app.clock import utcnow
from supply_app.extensions import db
from tests.conftest import make_test_app
from tests.support.factories import TEST_PASSWORD
from tests.support.live import FormBrowser, at_once, on_postgresql, serving

AT_ONCE = 12


class CountingHasher:
    """The suite's password hasher, counting the checks made against one user's hash."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.watched: str | None = None
        self.checks = 0
        self.lock = threading.Lock()

    def verify(self, hashed: str, password: str) -> bool:
        """Count a check of the watched hash, then check."""
        if hashed == self.watched:
            with self.lock:
                self.checks += 1
        return self.inner.verify(hashed, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def guesses_at_once(base: str, username: str, password: str, n: int) -> list[int]:
    """n browsers post the sign-in form at the same moment; their statuses."""
    browsers = [FormBrowser(base) for _ in range(n)]
    forms = [{"username": username, "password": password, "csrf_token": b.csrf()} for b in browsers]
    return at_once(
        [lambda b=b, f=f: b.open("/login", f)[0] for b, f in zip(browsers, forms, strict=True)]
    )


def lockout_state(app) -> tuple[int, bool]:
    """The target's failure count and whether it is locked now."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "target"))
        locked = user.locked_until is not None and user.locked_until > utcnow()
        db.session.remove()
        return user.failed_logins, locked


def run_parallel_guesses(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four wrong at once are four failures; then a crowd gets only the one check left."""
    app = make_test_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        user = create_user(
            db.session, username="target", display_name="T", role="viewer", password=TEST_PASSWORD
        )
        db.session.commit()
        hasher = CountingHasher(auth_service.password_hasher)
        hasher.watched = user.password_hash
        user_id = user.id
        db.session.remove()
    monkeypatch.setattr(auth_service, "password_hasher", hasher)
    with serving(app) as base:
        first = guesses_at_once(base, "target", "wrong-password", LOCKOUT_AFTER_FAILURES - 1)
        assert first == [401] * (LOCKOUT_AFTER_FAILURES - 1)
        assert lockout_state(app) == (LOCKOUT_AFTER_FAILURES - 1, False)
        assert hasher.checks == LOCKOUT_AFTER_FAILURES - 1
        crowd = guesses_at_once(base, "target", "wrong-password", AT_ONCE)
        assert crowd == [401] * AT_ONCE
        assert hasher.checks == LOCKOUT_AFTER_FAILURES, "more guesses checked than promised"
        assert lockout_state(app)[1] is True
        assert guesses_at_once(base, "target", TEST_PASSWORD, 1) == [401]
        assert hasher.checks == LOCKOUT_AFTER_FAILURES  # refused without looking
    with app.app_context():
        lockouts = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "user.lockout")
        ).all()
        assert [(e.actor_id, e.entity_id) for e in lockouts] == [(None, str(user_id))]
        db.session.remove()


@pytest.mark.pg
@on_postgresql
def test_parallel_wrong_passwords_on_postgresql(database_factory, monkeypatch):
    """PostgreSQL: the conditional UPDATE counts every attempt; the lockout allows five."""
    run_parallel_guesses(database_factory("lockout"), monkeypatch)


def test_parallel_wrong_passwords_on_sqlite(tmp_path, monkeypatch):
    """SQLite: the same outcome under BEGIN IMMEDIATE."""
    run_parallel_guesses(f"sqlite:///{tmp_path}/lockout.sqlite3", monkeypatch)
