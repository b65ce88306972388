"""PostgreSQL: a recall placed while cases are being recorded against its lot.

Once the hold commits, no case consumes the lot. Two runs through a real threaded server:

* interleaved by hand: a test transaction holds the lot's balance row (locked, not
  changed) while requests queue on it in a known order. A case ahead of the recall consumes
  and commits first; cases queued behind the recall each get the row only after the hold
  committed, and each is a 409 lot-on-hold though it passed every check made before its
  lock was granted (stock was there, no hold was visible when it started).
* a stampede: clients record cases in a loop while the recall is placed; every case sent
  after the recall's answer is refused, and the books still balance.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from supply_app.auth.service import create_user, issue_token
from supply_app.catalog.service import get_part_by_number
from supply_app.extensions import db
from supply_app.inventory import service
from tests.conftest import make_test_app
from tests.support.cases import case_body
from tests.support.inventory import in_days
from tests.support.live import call, migrated_facility, on_postgresql, serving

STOCK = 200


@dataclass
class Scene:
    """The live server and what the race needs of it."""

    url: str
    base: str
    clinician: str
    materials: str
    facility_id: int
    part_id: int
    lots: dict[str, int]

    def case(self, reference: str, lot: str = "RACE-LOT") -> tuple[int, dict]:
        """Record a case taking one each of a lot."""
        body = case_body(
            _Facility(self.facility_id),
            reference,
            supplies=[{"part_id": self.part_id, "lot_id": self.lots[lot], "eaches": 1}],
        )
        return call(self.base, self.clinician, "POST", "/api/v1/cases", body)

    def recall(self, lot: str = "RACE-LOT") -> tuple[int, dict]:
        """Place a recall on a lot."""
        return call(
            self.base,
            self.materials,
            "POST",
            "/api/v1/recalls",
            {
                "source": "manufacturer",
                "notice_number": f"NOTICE-{lot}",
                "notice_date": in_days(-1).isoformat(),
                "reason": "Seal may leak",
                "lots": [{"part_id": self.part_id, "lot_number": lot}],
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
        part = get_part_by_number(db.session, "STT2190-5")
        lots = {
            number: service.receive(
                db.session,
                facility=facility,
                part=part,
                lot_number=number,
                expiry_date=in_days(300),
                eaches=STOCK,
                value_cents=STOCK * 25_000,
                actor=None,
                reason="opening_balance",
            ).lot_id
            for number in ("RACE-LOT", "RACE-LOT-2")
        }
        db.session.commit()
        ids = facility.id, part.id
    with serving(app) as base:
        yield Scene(url, base, tokens["clinician"], tokens["materials"], *ids, lots)


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


def queued(engine, lot_id: int, runs: list[tuple[str, Any]]) -> dict[str, tuple[int, dict]]:
    """Hold the lot's balance row, queue each run on it in order, then let them all go."""
    blocker = engine.connect()
    blocker.execute(
        text("SELECT id FROM stock_balance WHERE lot_id = :lot FOR UPDATE"), {"lot": lot_id}
    )
    results: dict[str, tuple[int, dict]] = {}
    waiting = waiting_on_locks(engine)
    threads = []
    for name, run in runs:
        threads.append(start(run, results, name))
        waiting += 1
        until_waiting(engine, waiting)
    blocker.commit()  # the row was locked, never changed: the queue goes in its order
    blocker.close()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.pg
@on_postgresql
def test_cases_queued_behind_the_hold_never_consume(database_factory):
    """A case ahead of the recall in the lock queue consumes; every case behind it is refused."""
    with scene(database_factory("holdrace")) as s:
        engine = create_engine(s.url)
        ahead = queued(
            engine,
            s.lots["RACE-LOT"],
            [("case", lambda: s.case("AHEAD-1")), ("recall", lambda: s.recall())],
        )
        behind = queued(
            engine,
            s.lots["RACE-LOT-2"],
            [("recall", lambda: s.recall("RACE-LOT-2"))]
            + [(f"case-{n}", lambda n=n: s.case(f"BEHIND-{n}", "RACE-LOT-2")) for n in range(4)],
        )
        engine.dispose()
    assert ahead["case"][0] == 201, ahead["case"]  # committed before the hold did
    assert ahead["recall"][0] == 201, ahead["recall"]
    assert behind["recall"][0] == 201, behind["recall"]
    for n in range(4):
        status, body = behind[f"case-{n}"]
        assert status == 409, body
        assert body["type"] == "/problems/lot-on-hold"
        assert body["recall_id"] == behind["recall"][1]["id"]
    for lot, left in (("RACE-LOT", STOCK - 1), ("RACE-LOT-2", STOCK)):
        on_hand, problems = consumed(s.url, s.lots[lot])
        assert problems == []
        assert on_hand == left


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
    on_hand, problems = consumed(s.url, s.lots["RACE-LOT"])
    assert problems == []
    assert on_hand == STOCK - taken
