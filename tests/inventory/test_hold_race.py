"""PostgreSQL: a recall placed while cases are being recorded against its lot.

Once the hold commits, no case consumes the lot. Two runs through a real threaded server:

* interleaved by hand: a test transaction holds the lot's balance row; cases queue on it,
  then the recall, then more cases. Row-lock queues are first come, first served, so the
  cases before the recall consume (they commit before it), and every case after it is a
  409 lot-on-hold, though each had passed every check made before its lock was granted.
* a stampede: clients record cases in a loop while the recall is placed; every case sent
  after the recall's answer is refused, and the books still balance.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

from supply_app.auth.service import create_user, issue_token
from supply_app.catalog.service import get_part_by_number
from supply_app.extensions import db
from supply_app.inventory import service
from tests.cases.support import case_body
from tests.conftest import make_test_app
from tests.inventory.helpers import in_days
from tests.live import call, migrated_facility, on_postgresql, serving

STOCK = 200


@dataclass
class Scene:
    """The live server and what the race needs of it."""

    url: str
    base: str
    clinician: str
    materials: str
    facility_id: int
    lot_id: int
    part_id: int

    def case(self, reference: str) -> tuple[int, dict]:
        """Record a case taking one each of the lot."""
        body = case_body(
            _Facility(self.facility_id),
            reference,
            supplies=[{"part_id": self.part_id, "lot_id": self.lot_id, "eaches": 1}],
        )
        return call(self.base, self.clinician, "POST", "/api/v1/cases", body)

    def recall(self) -> tuple[int, dict]:
        """Place a recall on the lot."""
        return call(
            self.base,
            self.materials,
            "POST",
            "/api/v1/recalls",
            {
                "source": "manufacturer",
                "notice_number": "RACE-1",
                "notice_date": in_days(-1).isoformat(),
                "reason": "Seal may leak",
                "lots": [{"part_id": self.part_id, "lot_number": "RACE-LOT"}],
            },
        )


@dataclass
class _Facility:
    id: int


@contextmanager
def scene(url: str) -> Iterator[Scene]:
    """Migrate, seed a facility, people and one stocked lot, and serve the app."""
    app = make_test_app(url)
    with app.app_context():
        facility = migrated_facility(app, "RACE-H", "RACE02")
        tokens = {}
        for role in ("clinician", "materials"):
            user = create_user(
                db.session,
                username=f"race-{role}",
                display_name=role,
                role=role,
                password="correct-horse-battery",
                facility_ids=[facility.id],
            )
            tokens[role] = issue_token(db.session, user=user, name="race", days=1)[1]
        lot = service.receive(
            db.session,
            facility=facility,
            part=get_part_by_number(db.session, "STT2190-5"),
            lot_number="RACE-LOT",
            expiry_date=in_days(300),
            eaches=STOCK,
            value_cents=STOCK * 25_000,
            actor=None,
            reason="opening_balance",
        ).lot
        db.session.commit()
        ids = facility.id, lot.id, lot.part_id
    with serving(app) as base:
        yield Scene(url, base, tokens["clinician"], tokens["materials"], *ids)


def waiting_on_locks(engine) -> int:
    """Backends of this database waiting for a lock now."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar()


def until_waiting(engine, count: int) -> None:
    """Wait (at most 30 s) until `count` backends are queued on locks."""
    deadline = time.monotonic() + 30
    while waiting_on_locks(engine) < count:
        assert time.monotonic() < deadline, "requests never queued on the balance lock"
        time.sleep(0.02)


def start(target, results: dict, key: str) -> threading.Thread:
    """Run target on a thread, keeping its result under key."""
    thread = threading.Thread(target=lambda: results.__setitem__(key, target()))
    thread.start()
    return thread


def consumed(url: str, lot_id: int) -> tuple[int, list[str]]:
    """(eaches on hand, discrepancies) of the lot, read afresh."""
    check = make_test_app(url)
    with check.app_context():
        problems = service.verify(db.session)
        on_hand = db.session.scalar(
            text("SELECT on_hand FROM stock_balance WHERE lot_id = :lot"), {"lot": lot_id}
        )
        db.engine.dispose()
    return on_hand, problems


@pytest.mark.pg
@on_postgresql
def test_cases_queued_behind_the_hold_never_consume(database_factory):
    """Cases before the recall in the lock queue consume; every case after it is refused."""
    with scene(database_factory("holdrace")) as s:
        engine = create_engine(s.url)
        blocker = engine.connect()
        blocker.execute(
            text("SELECT id FROM stock_balance WHERE lot_id = :lot FOR UPDATE"), {"lot": s.lot_id}
        )
        results: dict[str, tuple[int, dict]] = {}
        threads = []
        for n in range(3):
            threads.append(start(lambda n=n: s.case(f"BEFORE-{n}"), results, f"before-{n}"))
            until_waiting(engine, n + 1)
        threads.append(start(s.recall, results, "recall"))
        until_waiting(engine, 4)
        for n in range(3):
            threads.append(start(lambda n=n: s.case(f"AFTER-{n}"), results, f"after-{n}"))
            until_waiting(engine, 5 + n)
        blocker.commit()  # let the queue go: before-0..2, the recall, after-0..2
        blocker.close()
        for thread in threads:
            thread.join(60)
        engine.dispose()
    assert results["recall"][0] == 201, results["recall"]
    recall_id = results["recall"][1]["id"]
    for n in range(3):
        assert results[f"before-{n}"][0] == 201, results[f"before-{n}"]
        status, body = results[f"after-{n}"]
        assert status == 409, body
        assert body["type"] == "/problems/lot-on-hold"
        assert body["recall_id"] == recall_id
    on_hand, problems = consumed(s.url, s.lot_id)
    assert problems == []
    assert on_hand == STOCK - 3


@pytest.mark.pg
@on_postgresql
def test_stampede_of_cases_while_the_recall_is_placed(database_factory):
    """Every case sent after the recall answered is refused; the rest consumed exactly."""
    clients, per_client = 6, 12
    outcomes: list[tuple[float, int, dict]] = []
    lock = threading.Lock()
    with scene(database_factory("holdstampede")) as s:
        go = threading.Barrier(clients + 1)

        def record(client: int) -> None:
            go.wait()
            for n in range(per_client):
                sent = time.monotonic()
                status, body = s.case(f"C{client}-{n}")
                with lock:
                    outcomes.append((sent, status, body))

        threads = [threading.Thread(target=record, args=(c,)) for c in range(clients)]
        for thread in threads:
            thread.start()
        go.wait()
        time.sleep(0.3)  # cases are flowing
        status, body = s.recall()
        answered = time.monotonic()
        for thread in threads:
            thread.join(120)
    assert status == 201, body
    late = [(st, b) for sent, st, b in outcomes if sent > answered]
    assert late, "no case was sent after the recall; make the run longer"
    for st, b in late:
        assert st == 409, b
        assert b["type"] == "/problems/lot-on-hold"
    taken = sum(1 for _, st, _ in outcomes if st == 201)
    assert all(st in (201, 409) for _, st, _ in outcomes)
    on_hand, problems = consumed(s.url, s.lot_id)
    assert problems == []
    assert on_hand == STOCK - taken
