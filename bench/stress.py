#!/usr/bin/env python3
"""Concurrency and crash run: N clients against gunicorn on a fresh PostgreSQL database.

    .venv/bin/python bench/stress.py [--postgres URL] [--clients 32] [--ops 40] [--kills 4]

Clients issue, transfer, receive and record cases on the same lots through HTTP while the
server is killed with SIGKILL --kills times and restarted; each write is retried with its
Idempotency-Key until answered. Then: `supply-app inventory verify` must pass, no balance
may be negative, balances and ledger size must equal exactly what the clients saw succeed,
replayed keys must write nothing, the same request sent by every client at once with one
key must be applied once and answered with its first response, and a drain of one lot
must succeed exactly on-hand times.
Exits non-zero on any violation. The database is created for the run and dropped after.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import load
from tests.support.databases import create_database, drop_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main() -> int:
    """Run the load with kills, check it, drain a lot, print a JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=DEFAULT_PG, help="server URL (a database is made)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--ops", type=int, default=40, help="operations per client")
    parser.add_argument("--kills", type=int, default=4, help="SIGKILLs of the server mid-load")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = create_database(args.postgres, "bench_stress")
    print(f"database {url.rsplit('/', 1)[-1]}: migrating and seeding…", flush=True)
    problems: list[str] = []
    try:
        world = load.seed(url)
        log = Path(tempfile.mkdtemp(prefix="supply-stress-")) / "gunicorn.log"
        server = load.Gunicorn(url, workers=args.workers, log=log)
        with load.running(server):
            print(
                f"{args.clients} clients × {args.ops} writes, {args.kills} kill -9 "
                f"(server log {log})…",
                flush=True,
            )
            result = load.run_load(
                world, server, clients=args.clients, ops_per_client=args.ops, kills=args.kills
            )
            report = load.summary(result)
            print(json.dumps(report, indent=2), flush=True)
            print("checking ledger, balances and replays…", flush=True)
            problems += load.problems_after(world, url, result)
            problems += load.replay_problems(server, url, result)
            print("same request, same key, from every client at once…", flush=True)
            problems += load.same_key_burst(world, server, clients=args.clients)
            before, ok, refused = load.drain(world, server, clients=args.clients)
            report["drain"] = {"on_hand": before, "succeeded": ok, "refused": refused}
            print(f"drain: {before} on hand, {ok} issues succeeded, {refused} refused", flush=True)
            if ok != before or refused != args.clients:
                problems.append(f"drain: {ok} successes for {before} on hand, {refused} refused")
            verified = load.verify_cli(url)
            if verified.returncode != 0:
                problems.append(f"inventory verify after drain: {verified.stdout[-400:]}")
    finally:
        if not args.keep:
            drop_database(url)
    for problem in problems[:20]:
        print("FAIL:", problem)
    print("OK: every check held" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
