"""Throwaway PostgreSQL databases for one test run or benchmark, created and dropped here.

The one place the suite and bench/ make databases: each name carries its purpose, this
checkout's tag (engineers share one server), the process id and a random suffix, so
concurrent runs never collide, and drop_database removes exactly what this made.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def checkout_tag() -> str:
    """BENCH_DB_TAG, else this checkout's folder name, as a database-name fragment."""
    raw = os.environ.get("BENCH_DB_TAG") or Path(__file__).resolve().parents[2].name
    return re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")[:20] or "supply"


def _on_server(url: str, statement: str) -> None:
    """Run one statement in the server's maintenance database (outside a transaction)."""
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def create_database(base_url: str, purpose: str) -> str:
    """Create an empty database beside base_url's and return its URL."""
    name = f"supply_{purpose}_{checkout_tag()}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _on_server(base_url, f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database made by create_database (a SQLite URL is left to its temp folder)."""
    if url.startswith("postgresql"):
        _on_server(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
