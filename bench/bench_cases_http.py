"""Benchmark: recording cases over HTTP under gunicorn, 8 clients, against a raw-SQL floor.

    .venv/bin/python bench/bench_cases_http.py [--postgres URL] [--clients 8] [--per-client 40]
        [--rounds 5]

On a fresh PostgreSQL database (dropped afterwards unless --keep), one gunicorn server (the
same workers for both) serves the real app plus a floor endpoint, /bench/floor-case, that
writes the same rows as POST /api/v1/cases (case, two procedure lines, two conditional
stock decrements with their ledger rows and two case-supply rows) with plain SQL and no
validation, pricing, auth or idempotency. Each case: 64640 on two nerves + C9809, one
Smart Tip and one cartridge, every client on the same two lots. App and floor phases
alternate for --rounds rounds, so load from anything else on the machine hits both alike;
the ratio quoted is the median of the rounds' ratios. Then a short oversell phase: the
clients race for fewer tips than they ask for. Checked afterwards: exactly the expected
number of successes, every balance equal to its ledger, none negative.
Prints a table and JSON (throughput, p50/p99 latency, ratio to the floor); never asserts time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
from flask import Flask, jsonify, request
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_cases import DEFAULT_URL, log, on_database  # noqa: E402

from supply_app import create_app  # noqa: E402
from supply_app.extensions import csrf, db  # noqa: E402

DOS = date(2026, 3, 2)
FLOOR_CASE = """
INSERT INTO procedure_case (facility_id, reference, date_of_service, laterality,
    site_of_service, cf_track, code_mix, status, schedule_year, schedule_version,
    facility_cents, professional_cents, device_cents, device_priced, reimbursement_complete,
    reimbursement_cents, warnings, pricing, priced_at, created_at, payer_id, payer_revision,
    billed, collection_cents, collection_complete, collection, equipment_cents)
SELECT :facility, :reference, :dos, 'RT', 'HOPD', 'non_qualifying', '64640x2+C9809x1',
    'recorded', 2026, :version, 135545, 16734, 25000, true, true, 177279,
    CAST('[]' AS json), CAST(:pricing AS json), now(), now(), f.default_payer_id, 1, true,
    177279, true, CAST(:pricing AS json), 0
FROM facility f WHERE f.id = :facility
RETURNING id
"""
FLOOR_PROCEDURES = """
INSERT INTO case_procedure (case_id, position, code, laterality, units, nerves, modifiers)
VALUES (:case, 0, '64640', 'RT', 2, CAST('["lfcn", "afcn"]' AS json), CAST('["RT"]' AS json)),
       (:case, 1, 'C9809', NULL, 1, CAST('[]' AS json), CAST('[]' AS json))
"""
FLOOR_TAKE = """
WITH cur AS (
    SELECT id, on_hand, value_cents FROM stock_balance
    WHERE facility_id = :facility AND lot_id = :lot AND on_hand >= 1 FOR UPDATE
), taken AS (
    UPDATE stock_balance b
    SET on_hand = b.on_hand - 1,
        value_cents = b.value_cents - CASE WHEN cur.on_hand = 1 THEN cur.value_cents
            ELSE (2 * cur.value_cents + cur.on_hand) / (2 * cur.on_hand) END
    FROM cur WHERE b.id = cur.id
    RETURNING cur.value_cents - b.value_cents AS share
)
SELECT share FROM taken
"""
FLOOR_MOVEMENT = """
INSERT INTO stock_movement (facility_id, lot_id, kind, eaches, value_cents,
    reference_type, reference_id, created_at)
VALUES (:facility, :lot, 'issue', -1, -:share, 'case', :case, now())
RETURNING id
"""
FLOOR_SUPPLY = """
INSERT INTO case_supply (case_id, part_id, lot_id, movement_id, eaches, source)
VALUES (:case, :part, :lot, :movement, 1, 'lot')
"""


def wsgi_app() -> Flask:
    """The real app plus the floor endpoint (gunicorn loads this factory)."""
    app = create_app()

    @csrf.exempt
    def floor_case():
        body = request.get_json()
        session = db.session
        case_id = session.execute(
            text(FLOOR_CASE),
            {
                "facility": body["facility_id"],
                "reference": body["reference"],
                "dos": DOS,
                "version": body["version"],
                "pricing": "{}",
            },
        ).scalar_one()
        session.execute(text(FLOOR_PROCEDURES), {"case": case_id})
        for part_id, lot_id in body["lots"]:
            keys = {"facility": body["facility_id"], "lot": lot_id}
            share = session.execute(text(FLOOR_TAKE), keys).scalar()
            if share is None:
                session.rollback()
                return jsonify({"status": 409, "title": "Insufficient stock"}), 409
            movement = session.execute(
                text(FLOOR_MOVEMENT), {**keys, "share": share, "case": case_id}
            ).scalar_one()
            session.execute(
                text(FLOOR_SUPPLY),
                {"case": case_id, "part": part_id, "lot": lot_id, "movement": movement},
            )
        session.commit()
        return jsonify({"id": case_id}), 201

    app.add_url_rule("/bench/floor-case", view_func=floor_case, methods=["POST"])
    return app


class Server:
    """gunicorn on a free loopback port with the bench factory."""

    def __init__(self, url: str, workers: int, sync: bool = False) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {
            **os.environ,
            "SUPPLY_DATABASE_URL": url,
            "SUPPLY_SECRET_KEY": secrets.token_hex(32),
            "SUPPLY_LOG_LEVEL": "WARNING",
        }
        self.proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                # The production settings (gthread workers, for streaming exports), or
                # plain sync workers to compare with.
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                *(["--worker-class", "sync", "--threads", "1"] if sync else []),
                "--pythonpath",
                str(ROOT / "bench"),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "bench_cases_http:wsgi_app()",
            ],
            env=env,
            cwd=ROOT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.request("GET", "/api/v1/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def request(self, method: str, path: str, body: Any = None, token: str | None = None):
        """One request on a fresh connection (sync workers close after each)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        """Stop gunicorn and wait for it."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def seed(clients: int, per_client: int, scarce: int) -> dict[str, Any]:
    """Facilities with stock for the app phase, the floor phase and the oversell phase."""
    from flask import current_app

    from supply_app.auth.service import create_user, issue_token
    from supply_app.cases.fees import current_schedule, set_override
    from supply_app.catalog.models import Part
    from supply_app.catalog.service import load_catalog_file, sync_catalog
    from supply_app.facilities.service import create_facility
    from supply_app.inventory import service as inventory

    session = db.session
    sync_catalog(session, load_catalog_file(current_app.config["CATALOG_PATH"]))
    parts = {p.part_number: p for p in session.scalars(db.select(Part))}
    set_override(
        session, year=2026, code="C9809", site="HOPD", amount_cents=25_000, note=None, actor=None
    )
    attempts = clients * per_client
    world: dict[str, Any] = {"attempts": attempts, "scarce": scarce}
    facilities = []
    for name, tips in (("APP", attempts), ("FLOOR", attempts), ("RACE", scarce)):
        facility = create_facility(
            session,
            data={
                "code": f"BENCH-{name}",
                "name": f"Bench {name}",
                "site_of_service": "HOPD",
                "dodaac": f"BN{name[:4]:0<4}",
                "ship_to_address": "Bench",
                "time_zone": "UTC",
            },
            actor=None,
        )
        lots = {}
        for number, eaches in (("STT2190-5", tips), ("CRX2111-10", attempts)):
            movement = inventory.receive(
                session,
                facility=facility,
                part=parts[number],
                lot_number=f"{name}-{number.split('-')[0]}",
                expiry_date=DOS + timedelta(days=365),
                eaches=eaches,
                value_cents=eaches * (25_000 if number == "STT2190-5" else 3_000),
                actor=None,
                reason="opening_balance",
                on_date=DOS - timedelta(days=30),
            )
            lots[number] = (parts[number].id, movement.lot_id)
        facilities.append(facility)
        world[name] = {"facility_id": facility.id, "lots": lots}
    user = create_user(
        session,
        username="bench-clinician",
        display_name="Bench",
        role="clinician",
        password="bench-password-1",
        facility_ids=[f.id for f in facilities],
    )
    _, world["token"] = issue_token(session, user=user, name="bench", days=1)
    world["version"] = current_schedule(session, 2026).version
    world["parts"] = {n: p.id for n, p in parts.items()}
    session.commit()
    return world


def app_body(world: dict[str, Any], site: str, reference: str) -> dict[str, Any]:
    """A case body: 64640 on two nerves + C9809, one tip and one cartridge by lot."""
    lots = world[site]["lots"]
    return {
        "facility_id": world[site]["facility_id"],
        "reference": reference,
        "date_of_service": DOS.isoformat(),
        "laterality": "RT",
        "procedures": [{"code": "64640", "nerves": ["afcn", "lfcn"]}, {"code": "C9809"}],
        "supplies": [{"part_id": part, "lot_id": lot, "eaches": 1} for part, lot in lots.values()],
    }


def floor_body(world: dict[str, Any], reference: str) -> dict[str, Any]:
    """The floor endpoint's body for the same rows."""
    site = world["FLOOR"]
    return {
        "facility_id": site["facility_id"],
        "reference": reference,
        "version": world["version"],
        "lots": list(site["lots"].values()),
    }


def hammer(server: Server, clients: int, per_client: int, make: Any, path: str, token: str | None):
    """clients threads × per_client POSTs; returns wall seconds, latencies (ms) and statuses."""
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients)

    def client(n: int) -> None:
        start_gate.wait()
        for i in range(per_client):
            body = make(f"C{n}-{i}")
            began = time.perf_counter()
            status, _ = server.request("POST", path, body, token)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, latencies, statuses


def p(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def checks(world: dict[str, Any], results: dict[str, Any]) -> list[str]:
    """Exact successes, balances equal to ledgers, nothing negative, nothing oversold."""
    from supply_app.inventory.service import verify

    problems = []
    db.session.rollback()
    for name in ("app", "floor"):
        if results[name]["ok"] != world["attempts"]:
            problems.append(f"{name}: {results[name]['ok']} of {world['attempts']} succeeded")
    if results["race"]["ok"] != world["scarce"]:
        problems.append(
            f"oversell race: {results['race']['ok']} succeeded for {world['scarce']} tips"
        )
    negative = db.session.execute(
        text("SELECT count(*) FROM stock_balance WHERE on_hand < 0")
    ).scalar()
    if negative:
        problems.append(f"{negative} negative balances")
    if verify(db.session):
        problems.append("a balance differs from its ledger")
    for name in ("APP", "FLOOR", "RACE"):
        left = db.session.execute(
            text("SELECT on_hand FROM stock_balance WHERE facility_id = :f AND lot_id = :l"),
            {"f": world[name]["facility_id"], "l": world[name]["lots"]["STT2190-5"][1]},
        ).scalar()
        if left != 0:
            problems.append(f"{name}: {left} tips left, expected 0")
    return problems


def main() -> int:
    """Seed, serve, hammer, check, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--sync",
        action="store_true",
        help="sync workers instead of gunicorn.conf.py's gthread (one request per worker)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="app/floor phase pairs")
    parser.add_argument("--scarce", type=int, default=20, help="tips in the oversell race")
    parser.add_argument("--json", dest="json_path", default=None)
    parser.add_argument("--keep", action="store_true")
    return on_database(parser.parse_args(), "bench_http", run)


def run(url: str, args: argparse.Namespace) -> int:
    """The benchmark against a fresh database."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
    )
    with app.app_context():
        log("migrating and seeding ...")
        flask_migrate.upgrade()
        world = seed(args.clients, args.per_client * args.rounds, args.scarce)
        server = Server(url, args.workers, args.sync)
        results: dict[str, Any] = {}
        phases: dict[str, list[tuple[float, list[float], list[int]]]] = {"app": [], "floor": []}
        try:
            for n in range(args.rounds):
                log(
                    f"round {n + 1}/{args.rounds}: app, then floor, "
                    f"{args.clients} clients x {args.per_client} cases each ..."
                )
                phases["app"].append(
                    hammer(
                        server,
                        args.clients,
                        args.per_client,
                        lambda ref, n=n: app_body(world, "APP", f"R{n}-{ref}"),
                        "/api/v1/cases",
                        world["token"],
                    )
                )
                phases["floor"].append(
                    hammer(
                        server,
                        args.clients,
                        args.per_client,
                        lambda ref, n=n: floor_body(world, f"R{n}-{ref}"),
                        "/bench/floor-case",
                        None,
                    )
                )
            results["app"] = summarise_rounds(phases["app"])
            results["floor"] = summarise_rounds(phases["floor"])
            per = -(-2 * args.scarce // args.clients)
            log(f"oversell race: {args.clients} clients x {per} cases for {args.scarce} tips ...")
            wall, lat, st = hammer(
                server,
                args.clients,
                per,
                lambda ref: app_body(world, "RACE", ref),
                "/api/v1/cases",
                world["token"],
            )
            results["race"] = summarise(wall, lat, st)
        finally:
            server.stop()
        problems = checks(world, results)
    report = {
        "benchmark": "record_cases_http",
        "clients": args.clients,
        "workers": args.workers,
        "worker_class": "sync" if args.sync else "gthread (gunicorn.conf.py)",
        "rounds": args.rounds,
        "cases_per_endpoint": world["attempts"],
        "app": results["app"],
        "floor": results["floor"],
        "throughput_ratio": round(statistics.median(round_ratios(phases)), 3),
        "round_ratios": [round(r, 3) for r in round_ratios(phases)],
        "target_ratio": 0.6,
        "oversell_race": results["race"],
        "scarce_tips": args.scarce,
        "oversold_units": max(0, results["race"]["ok"] - args.scarce),
        "problems": problems,
    }
    print_table(report)
    print(json.dumps(report, indent=2))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if problems else 0


def round_ratios(phases: dict[str, list[tuple[float, list[float], list[int]]]]) -> list[float]:
    """App ÷ floor throughput of each round (each pair ran back to back)."""
    return [
        summarise(*app)["per_second"] / summarise(*floor)["per_second"]
        for app, floor in zip(phases["app"], phases["floor"], strict=True)
    ]


def summarise_rounds(rounds: list[tuple[float, list[float], list[int]]]) -> dict[str, Any]:
    """One endpoint's phases taken together: total cases over total wall time, latencies."""
    wall = sum(r[0] for r in rounds)
    latencies = [ms for r in rounds for ms in r[1]]
    statuses = [status for r in rounds for status in r[2]]
    return summarise(wall, latencies, statuses)


def summarise(wall: float, latencies: list[float], statuses: list[int]) -> dict[str, Any]:
    """Throughput and latency of one phase."""
    ok = sum(1 for s in statuses if s == 201)
    return {
        "requests": len(statuses),
        "ok": ok,
        "conflicts": sum(1 for s in statuses if s == 409),
        "other": sorted({s for s in statuses if s not in (201, 409)}),
        "wall_s": round(wall, 2),
        "per_second": round(ok / wall, 1) if wall else 0.0,
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(p(latencies, 0.99), 1),
    }


def print_table(r: dict[str, Any]) -> None:
    """The human-readable summary."""
    print(
        f"\nRecording cases over HTTP: {r['clients']} clients, gunicorn {r['workers']} "
        f"{r['worker_class']} workers"
    )
    print(f"{'endpoint':<34}{'cases/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'ratio':>8}")
    for name, label in (("floor", "floor (plain SQL, same rows)"), ("app", "POST /api/v1/cases")):
        row = r[name]
        ratio = row["per_second"] / r["floor"]["per_second"]
        print(
            f"{label:<34}{row['per_second']:>10.1f}{row['p50_ms']:>10.1f}{row['p99_ms']:>10.1f}{ratio:>8.2f}"
        )
    rounds = ", ".join(f"{x:.2f}" for x in r["round_ratios"])
    print(
        f"throughput ratio, median of {r['rounds']} rounds: {r['throughput_ratio']:.2f} ({rounds})"
    )
    race = r["oversell_race"]
    print(
        f"oversell race: {race['ok']} succeeded, {race['conflicts']} refused (409) for "
        f"{r['scarce_tips']} tips; oversold units: {r['oversold_units']}"
    )
    print("problems: " + ("; ".join(r["problems"]) or "none") + "\n")


if __name__ == "__main__":
    sys.exit(main())
