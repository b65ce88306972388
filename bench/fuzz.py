#!/usr/bin/env python3
"""The long hostile-input run: the suite's schemathesis checks with many more examples.

    .venv/bin/python bench/fuzz.py [--examples 500] [--scenarios 200] [--postgres URL] [-k EXPR]

Runs tests/hardening/test_contract.py (every operation: positive, negative and known-id
examples; plus stateful workflows that chain ids between calls) against a freshly seeded
database, SQLite by default or a new database on the given PostgreSQL server. Every
response must be a non-5xx that matches the published spec. Exit status is pytest's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the contract tests with the requested budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="examples per operation")
    parser.add_argument("--scenarios", type=int, default=200, help="stateful scenarios")
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL (else SQLite)")
    parser.add_argument("-k", dest="select", help="pytest -k expression, e.g. 'cases'")
    args = parser.parse_args()
    env = {
        **os.environ,
        "SUPPLY_FUZZ_EXAMPLES": str(args.examples),
        "SUPPLY_FUZZ_SCENARIOS": str(args.scenarios),
    }
    if args.postgres:
        env["SUPPLY_TEST_DATABASE_URL"] = args.postgres
    command = [sys.executable, "-m", "pytest", "tests/hardening/test_contract.py", "-q"]
    if args.select:
        command += ["-k", args.select]
    return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
