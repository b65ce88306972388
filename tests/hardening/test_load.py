"""A short concurrency + crash run under gunicorn on PostgreSQL (bench/stress.py is the long one).

Skipped only when the suite runs on SQLite: gunicorn workers in separate processes against
one SQLite file would test SQLite's file lock, not our row locks.
"""

from __future__ import annotations

import os

import pytest

from tests.support import load

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(
        not os.environ.get("SUPPLY_TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="needs PostgreSQL (set SUPPLY_TEST_DATABASE_URL)",
    ),
]


def test_concurrent_writes_survive_kill_9_and_hold_every_invariant(database_factory, tmp_path):
    """16 clients, one SIGKILL mid-load: ledger verifies, balances match, keys apply once."""
    url = database_factory("load")
    world = load.seed(url)
    server = load.Gunicorn(url, workers=2, threads=8, log=tmp_path / "gunicorn.log")
    with load.running(server):
        result = load.run_load(world, server, clients=16, ops_per_client=6, kills=1)
        assert result.kills == 1
        assert any(op.attempts > 1 for op in result.operations), "the kill hit no request"
        assert not load.problems_after(world, url, result)
        assert not load.replay_problems(server, url, result, sample=10)
        assert not load.same_key_burst(world, server, clients=16)
        before, succeeded, refused = load.drain(world, server, clients=16)
    assert before > 0
    assert succeeded == before
    assert refused == 16
    assert load.verify_cli(url).returncode == 0
