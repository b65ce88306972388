"""Exports through real gunicorn: a download cut off mid-stream is told apart from a whole one,
and the shipped gunicorn.conf.py does not cut a slow download at its worker timeout.

The client reads through a small receive window and slowly, so the server is still writing
when the worker is killed or its timeout passes (the file is larger than the socket buffers
on both sides can hold). Runs on whichever database the suite runs on.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import insert, select

from supply_app.auth.service import create_user, issue_token
from supply_app.cases.models import ProcedureCase
from supply_app.catalog.models import Part
from supply_app.catalog.service import load_catalog_file, sync_catalog
from supply_app.extensions import db
from supply_app.facilities.service import create_facility
from supply_app.inventory.models import Lot, StockMovement
from supply_app.reporting.columns import columns_for
from supply_app.reporting.export import check_csv
from tests.conftest import make_test_app
from tests.support.load import Gunicorn, running

ROOT = Path(__file__).resolve().parents[2]
CASES = 60_000  # about 9 MB of CSV: more than both ends' socket buffers hold
PRODUCTION = ["--config", str(ROOT / "gunicorn.conf.py"), "--workers", "1", "--threads", "2"]


@pytest.fixture(scope="module")
def big_database(database_factory) -> tuple[str, str]:
    """A database with CASES recorded cases (each with one tip issued); (url, admin token)."""
    url = database_factory("exports")
    app = make_test_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        sync_catalog(db.session, load_catalog_file(app.config["CATALOG_PATH"]))
        facility = create_facility(
            db.session,
            data={
                "code": "BULK-1",
                "name": "Bulk facility",
                "site_of_service": "HOPD",
                "dodaac": "BULK01",
                "ship_to_address": "1 Bulk Road",
                "time_zone": "UTC",
            },
            actor=None,
        )
        part = db.session.scalars(select(Part).where(Part.part_number == "STT2190-5")).one()
        lot = Lot(part_id=part.id, lot_number="BULK-LOT", expiry_date=date(2030, 1, 1))
        db.session.add(lot)
        db.session.flush()
        now = datetime.now(UTC)
        db.session.execute(
            insert(ProcedureCase),
            [_case(n, facility.id, facility.default_payer_id, now) for n in range(CASES)],
        )
        ids = db.session.scalars(select(ProcedureCase.id)).all()
        movements = [
            {
                "facility_id": facility.id,
                "lot_id": lot.id,
                "kind": "issue",
                "eaches": -1,
                "value_cents": -25_000,
                "reference_type": "case",
                "reference_id": case_id,
                "created_at": now,
            }
            for case_id in ids
        ]
        db.session.execute(insert(StockMovement), movements)
        admin = create_user(
            db.session,
            username="bulk-admin",
            display_name="Bulk admin",
            role="admin",
            password="bulk-admin-password",
            facility_ids=[],
            all_facilities=True,
        )
        token = issue_token(db.session, user=admin, name="bulk", days=1)[1]
        db.session.commit()
        db.engine.dispose()
    return url, token


def _case(n: int, facility_id: int, payer_id: int, now: datetime) -> dict:
    return {
        "facility_id": facility_id,
        # Billed to Medicare national (revision 1): the collection is the benchmark.
        "payer_id": payer_id,
        "payer_revision": 1,
        "billed": True,
        "collection_cents": 227_986,
        "collection_complete": True,
        "collection": {},
        "equipment_cents": 0,
        "reference": f"BULK-{n:06d}",
        "date_of_service": date(2026, 1, 1) + timedelta(days=n % 300),
        "laterality": "RT",
        "site_of_service": "HOPD",
        "cf_track": "non_qualifying",
        "code_mix": "64640x2+C9809x1",
        "status": "recorded",
        "schedule_year": 2026,
        "schedule_version": "CY2026.bulk",
        "facility_cents": 180_726,
        "professional_cents": 22_260,
        "device_cents": 25_000,
        "device_priced": True,
        "reimbursement_complete": True,
        "reimbursement_cents": 227_986,
        "warnings": [],
        "pricing": {},
        "priced_at": now,
        "created_at": now,
    }


class _SmallWindow(http.client.HTTPConnection):
    """An HTTP connection with a small receive buffer, so the server cannot run far ahead."""

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        self.sock.settimeout(60)
        self.sock.connect((self.host, self.port))


def _download(server: Gunicorn, token: str, *, bytes_per_second: int, on_first=None):
    """GET the per-case CSV export slowly; (expected rows, body received, whole?)."""
    connection = _SmallWindow("127.0.0.1", server.port, timeout=60)
    connection.request(
        "GET",
        "/api/v1/reports/case-margin/export?format=csv",
        headers={"Authorization": f"Bearer {token}"},
    )
    response = connection.getresponse()
    assert response.status == 200
    expected = int(response.headers["X-Export-Rows"])
    body, whole, block = bytearray(), True, 16 * 1024
    try:
        while data := response.read(block):
            body += data
            if on_first is not None:
                on_first()
                on_first = None
            time.sleep(block / bytes_per_second)
    except http.client.IncompleteRead as cut:  # the chunked body never reached its end
        body += cut.partial
        whole = False
    finally:
        connection.close()
    return expected, body.decode(errors="replace"), whole


def test_a_killed_export_is_cut_off_visibly(big_database, tmp_path):
    """kill -9 of the worker mid-download: the transfer reports itself incomplete, and the
    file it left has no TOTAL row, so it can never pass for the whole export."""
    url, token = big_database
    server = Gunicorn(url, log=tmp_path / "gunicorn.log", options=PRODUCTION)
    with running(server):

        def kill_the_worker() -> None:
            for pid in server.worker_pids():
                os.kill(pid, signal.SIGKILL)

        expected, text, whole = _download(
            server, token, bytes_per_second=4_000_000, on_first=kill_the_worker
        )
    rows = text.count("\n") - 1
    assert expected == CASES
    assert 0 < rows < CASES, "the kill should land mid-stream"
    assert not whole, "the client must see the chunked body end early"
    assert "no TOTAL row" in check_csv(text) or "part-way" in check_csv(text)


def test_the_shipped_config_outlasts_its_worker_timeout(big_database, tmp_path):
    """With gunicorn.conf.py (gthread) and a short worker timeout, a download taking more
    than twice that long arrives whole: every row, then a TOTAL row that adds up."""
    url, token = big_database
    # A gthread worker's main loop reports to the master after waiting up to 1 s for
    # events, so a 1 s timeout races that heartbeat even for an idle worker; 3 s does not.
    timeout = 3
    options = [*PRODUCTION, "--timeout", str(timeout)]
    server = Gunicorn(url, log=tmp_path / "gunicorn.log", options=options)
    with running(server):
        started = time.monotonic()
        expected, text, whole = _download(server, token, bytes_per_second=1_000_000)
        took = time.monotonic() - started
    assert whole, (tmp_path / "gunicorn.log").read_text()[-2000:]
    assert took > 2 * timeout, f"the download should outlast the timeout ({took:.1f} s)"
    assert check_csv(text) is None
    assert text.count("\n") == expected + 2
    cases_at = [column.name for column in columns_for(["case"])].index("cases")
    assert text.splitlines()[-1].split(",")[cases_at] == str(CASES)


def test_a_sync_worker_timeout_cuts_visibly(big_database, tmp_path):
    """The old command's sync worker killed at its timeout mid-download (the cut this issue
    found): the client is told the transfer is incomplete and the file fails the check."""
    url, token = big_database
    # --threads 1 too: gunicorn turns a sync worker with threads into gthread, and the
    # checkout's gunicorn.conf.py (read from the working directory) sets threads.
    options = ["--workers", "1", "--worker-class", "sync", "--threads", "1", "--timeout", "1"]
    server = Gunicorn(url, log=tmp_path / "gunicorn.log", options=options)
    with running(server):
        expected, text, whole = _download(server, token, bytes_per_second=1_000_000)
    assert not whole
    assert text.count("\n") - 1 < expected
    assert check_csv(text) is not None
