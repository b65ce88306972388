"""Concurrent submits, approvals and receipts through the HTTP layer, with real commits.

Each thread sends its request through its own test client, so every request runs in its
own app context, session and database connection, exactly as under a threaded server.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func, select

from supply_app.extensions import db
from supply_app.inventory.models import StockBalance
from supply_app.ordering.service import julian_date
from tests.ordering.conftest import fresh
from tests.support.factories import make_actor


def race(calls: list[Callable[[], object]]) -> list:
    """Run the calls at the same moment in threads; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_submissions_get_distinct_serials(world):
    """12 drafts submitted at once take serials 0001..0012 of the day, each once."""
    ids = [world.draft({"STT2190-5": 1})["id"] for _ in range(12)]
    responses = race(
        [lambda oid=oid: world.purchaser.post(f"/api/v1/orders/{oid}/submit") for oid in ids]
    )
    assert [r.status_code for r in responses] == [200] * 12
    prefix = f"W81XWH{julian_date(date.today())}"
    assert sorted(r.json["document_number"] for r in responses) == [
        f"{prefix}{n:04d}" for n in range(1, 13)
    ]


def test_concurrent_approvals_approve_once(app, world):
    """Six approvers at once: one succeeds, the others see 409 approved."""
    order = world.draft({"STT2190-5": 1})
    world.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
    approvers = [make_actor(app, "purchaser", [world.facility]) for _ in range(6)]
    responses = race(
        [lambda a=a: a.post(f"/api/v1/orders/{order['id']}/approve") for a in approvers]
    )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 5}
    assert {r.json["current_state"] for r in responses if r.status_code == 409} == {"approved"}


def test_concurrent_receipts_never_over_receive(world):
    """Eight receipts of 2 packs against 10 ordered: five land, three are over-receipts."""
    order = world.approved({"STT2190-5": 10})
    line_id = order["lines"][0]["id"]
    expiry = (date.today() + timedelta(days=200)).isoformat()
    url = f"/api/v1/orders/{order['id']}/receipts"
    responses = race(
        [
            lambda n=n: world.materials.post(
                url,
                json={
                    "lines": [
                        {
                            "line_id": line_id,
                            "packs": 2,
                            "lot_number": f"LOT{n}",
                            "expiry_date": expiry,
                        }
                    ]
                },
            )
            for n in range(8)
        ]
    )
    assert Counter(r.status_code for r in responses) == {201: 5, 409: 3}
    fresh()
    assert db.session.scalar(select(func.sum(StockBalance.on_hand))) == 50
    final = world.viewer.get(f"/api/v1/orders/{order['id']}").json
    assert (final["status"], final["lines"][0]["received_packs"]) == ("received", 10)
