"""Concurrent load and crash harness: real gunicorn, real PostgreSQL, real HTTP clients.

Used by tests/hardening/test_load.py (a short run in the suite) and bench/stress.py (the
full run). Clients issue, transfer, receive and record cases on the same few lots, every
write with its own Idempotency-Key, retrying with the same key whenever the connection
fails (which is what a crash looks like from outside). Afterwards the checks prove:
the ledger verifies, no balance is negative, the balances equal the opening stock plus the
effect of every operation that clients saw succeed (each counted once), the movement count
matches, replays change nothing, and a drain of one lot succeeds exactly on-hand times.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TIP, CARTRIDGE = "STT2190-5", "CRX2111-10"
OPENING = {("A", TIP): 300, ("B", TIP): 120, ("A", CARTRIDGE): 200}
REQUEST_TIMEOUT = 30
RETRY_FOR_SECONDS = 90


# --------------------------------------------------------------------------- database


# --------------------------------------------------------------------------- seed


@dataclass
class World:
    """What the seed created: facility and lot ids, tokens, opening balances."""

    facilities: dict[str, int]
    lots: dict[str, int]
    parts: dict[str, int]
    materials_token: str
    clinician_token: str
    opening: dict[tuple[int, int], int]
    movements_at_start: int = 0


def seed(url: str) -> World:
    """Migrate url, then create two facilities, two users with tokens and opening stock."""
    from sqlalchemy import select

    from supply_app import create_app
    from supply_app.auth.service import create_user, issue_token
    from supply_app.catalog.models import Part
    from supply_app.catalog.service import load_catalog_file, set_contract_price, sync_catalog
    from supply_app.clock import utcnow
    from supply_app.extensions import db
    from supply_app.facilities.service import create_facility
    from supply_app.inventory import service as inventory

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        flask_migrate.upgrade()
        sync_catalog(db.session, load_catalog_file(app.config["CATALOG_PATH"]))
        facilities = {
            name: create_facility(
                db.session,
                data={
                    "code": f"LOAD-{name}",
                    "name": f"Load facility {name}",
                    "site_of_service": site,
                    "dodaac": f"LOAD0{name}",
                    "ship_to_address": f"{name} Load Road",
                    "time_zone": "UTC",
                    "cf_track": "non_qualifying",
                },
                actor=None,
            )
            for name, site in (("A", "HOPD"), ("B", "ASC"))
        }
        db.session.flush()
        tokens = {}
        for role in ("materials", "clinician"):
            user = create_user(
                db.session,
                username=f"load-{role}",
                display_name=f"Load {role}",
                role=role,
                password="load-test-password",
                facility_ids=[f.id for f in facilities.values()],
            )
            tokens[role] = issue_token(db.session, user=user, name="load", days=2)[1]
        parts = {p.part_number: p for p in db.session.scalars(select(Part))}
        for number in (TIP, CARTRIDGE):
            set_contract_price(
                db.session,
                part=parts[number],
                unit_price_cents=100_000,
                effective_from=utcnow().date() - timedelta(days=30),
                effective_to=None,
                note="load test",
                actor=None,
            )
        lots: dict[str, int] = {}
        opening: dict[tuple[int, int], int] = {}
        for (name, number), eaches in OPENING.items():
            movement = inventory.receive(
                db.session,
                facility=facilities[name],
                part=parts[number],
                lot_number=f"LOAD-{number}",
                expiry_date=utcnow().date() + timedelta(days=400),
                eaches=eaches,
                value_cents=eaches * 1_999,
                actor=None,
                reason="opening_balance",
            )
            lots[number] = movement.lot_id
            opening[(facilities[name].id, movement.lot_id)] = eaches
        db.session.commit()
        world = World(
            facilities={name: f.id for name, f in facilities.items()},
            lots=lots,
            parts={number: parts[number].id for number in (TIP, CARTRIDGE)},
            materials_token=tokens["materials"],
            clinician_token=tokens["clinician"],
            opening=opening,
            movements_at_start=db.session.scalar(text("SELECT count(*) FROM stock_movement")),
        )
        db.session.remove()
        db.engine.dispose()
    return world


# --------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """A gunicorn server in its own process group, so kill -9 takes master and workers."""

    def __init__(
        self,
        url: str,
        *,
        workers: int = 3,
        threads: int = 8,
        log: Path,
        options: list[str] | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        """options replace the worker settings (gthread, workers, threads, 60 s timeout);
        environment adds to the server's environment variables."""
        self.url, self.workers, self.threads, self.log = url, workers, threads, log
        self.options, self.environment = options, environment or {}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.kills = 0
        # One key for every restart, as a deployment keeps its key: retried writes must
        # still match their Idempotency-Key fingerprints (keyed with it) after a crash.
        self.secret_key = "load-" + uuid.uuid4().hex

    def start(self) -> None:
        """Start the server and wait until /api/v1/health answers."""
        env = {
            **os.environ,
            "SUPPLY_DATABASE_URL": self.url,
            "SUPPLY_SECRET_KEY": self.secret_key,
            "SUPPLY_LOG_LEVEL": "WARNING",
            **self.environment,
        }
        options = self.options or [
            "--workers",
            str(self.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(self.threads),
            "--timeout",
            "60",
        ]
        command = [str(BIN / "gunicorn"), *options, "--bind", f"127.0.0.1:{self.port}", "wsgi:app"]
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=sink, stderr=sink, start_new_session=True
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"gunicorn exited with {code}; see {self.log}")
            try:
                if requests.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not become healthy; see {self.log}")

    def worker_pids(self) -> list[int]:
        """The master's children (its workers) right now."""
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]

    def kill9(self) -> None:
        """SIGKILL the whole server process group: master and workers die mid-request."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM to its process group)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def running(server: Gunicorn) -> Iterator[Gunicorn]:
    """Start a server and always stop it."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- operations


@dataclass
class Operation:
    """One logical write: request, and its effect on stock if it succeeds."""

    kind: str
    token: str
    path: str
    body: dict[str, Any]
    key: str
    effects: list[tuple[int, int, int]]  # (facility_id, lot_id, signed eaches)
    movements: int
    status: int | None = None
    response: Any = None
    attempts: int = 0
    replayed: bool = False


def plan_operation(world: World, rng: random.Random, key: str) -> Operation:
    """A random write on the shared lots."""
    a, b = world.facilities["A"], world.facilities["B"]
    tip, cart = world.lots[TIP], world.lots[CARTRIDGE]
    kind = rng.choices(["issue", "transfer", "receipt", "case"], weights=[4, 3, 1, 3])[0]
    if kind == "issue":
        where, eaches = rng.choice((a, b)), rng.randint(1, 3)
        return Operation(
            kind,
            world.clinician_token,
            f"/api/v1/facilities/{where}/issues",
            {"lot_id": tip, "eaches": eaches},
            key,
            [(where, tip, -eaches)],
            1,
        )
    if kind == "transfer":
        source, target = rng.choice(((a, b), (b, a)))
        eaches = rng.randint(1, 5)
        return Operation(
            kind,
            world.materials_token,
            f"/api/v1/facilities/{source}/transfers",
            {"lot_id": tip, "to_facility_id": target, "eaches": eaches},
            key,
            [(source, tip, -eaches), (target, tip, eaches)],
            2,
        )
    if kind == "receipt":
        eaches = rng.choice((5, 10))
        return Operation(
            kind,
            world.materials_token,
            f"/api/v1/facilities/{a}/receipts",
            {
                "part_id": world.parts[TIP],
                "lot_number": f"LOAD-{TIP}",
                "expiry_date": _lot_expiry(),
                "eaches": eaches,
                "unit_cost": "19.99",
                "reason": "donation",
            },
            key,
            [(a, tip, eaches)],
            1,
        )
    tips = rng.randint(1, 2)
    return Operation(
        kind,
        world.clinician_token,
        "/api/v1/cases",
        {
            "facility_id": a,
            "reference": key[-32:],
            "date_of_service": _today(),
            "laterality": "RT",
            "procedures": [{"code": "64640", "nerves": ["afcn", "lfcn"]}],
            "supplies": [
                {"part_id": world.parts[TIP], "lot_id": tip, "eaches": tips},
                {"part_id": world.parts[CARTRIDGE], "lot_id": cart, "eaches": 1},
            ],
        },
        key,
        [(a, tip, -tips), (a, cart, -1)],
        2,
    )


def _today() -> str:
    """The load facilities keep UTC's calendar."""
    from supply_app.clock import utcnow

    return utcnow().date().isoformat()


def _lot_expiry() -> str:
    from supply_app.clock import utcnow

    return (utcnow().date() + timedelta(days=400)).isoformat()


def send(base: Callable[[], str], op: Operation, session: requests.Session) -> Operation:
    """POST op, retrying with the same Idempotency-Key until the server answers."""
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    while True:
        op.attempts += 1
        try:
            response = session.post(
                base() + op.path,
                json=op.body,
                headers={"Authorization": f"Bearer {op.token}", "Idempotency-Key": op.key},
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        op.status = response.status_code
        op.replayed = response.headers.get("Idempotent-Replayed") == "true"
        try:
            op.response = response.json()
        except ValueError:
            op.response = response.text[:500]
        return op


# --------------------------------------------------------------------------- load


@dataclass
class LoadResult:
    """Every operation with its final answer, and how long the load took."""

    operations: list[Operation] = field(default_factory=list)
    seconds: float = 0.0
    kills: int = 0

    def by_outcome(self) -> Counter:
        """How many operations ended in each (kind, status)."""
        return Counter((op.kind, op.status) for op in self.operations)


def run_load(
    world: World,
    server: Gunicorn,
    *,
    clients: int,
    ops_per_client: int,
    kills: int = 0,
    seed_value: int = 8,
) -> LoadResult:
    """Run clients concurrently; if kills > 0, kill -9 and restart the server meanwhile."""
    result = LoadResult()
    lock = threading.Lock()
    stop_killing = threading.Event()
    start = time.monotonic()

    def client(number: int) -> None:
        rng = random.Random(seed_value * 1000 + number)
        with requests.Session() as session:
            for i in range(ops_per_client):
                op = plan_operation(world, rng, f"load-{seed_value}-{number}-{i}")
                send(lambda: server.base, op, session)
                with lock:
                    result.operations.append(op)

    total = clients * ops_per_client

    def killer() -> None:
        # Kill at evenly spread points of progress (not of time, which varies by machine),
        # a few random milliseconds late, so requests are in flight when the server dies.
        rng = random.Random(seed_value)
        for n in range(1, kills + 1):
            while len(result.operations) < total * n // (kills + 1):
                if stop_killing.wait(0.01):
                    return
            time.sleep(rng.uniform(0, 0.05))
            server.kill9()
            time.sleep(0.3)
            server.start()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    murderer = threading.Thread(target=killer)
    murderer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop_killing.set()
    murderer.join()
    result.seconds = time.monotonic() - start
    result.kills = server.kills
    return result


def drain(
    world: World, server: Gunicorn, *, clients: int, refill: int = 40
) -> tuple[int, int, int]:
    """Receive `refill` cartridges at facility A, then all clients issue one at a time until
    told there is none left.

    Returns (on hand before the race, successes, refusals).
    """
    a, cart = world.facilities["A"], world.lots[CARTRIDGE]
    with requests.Session() as session:
        topped = send(
            lambda: server.base,
            Operation(
                "receipt",
                world.materials_token,
                f"/api/v1/facilities/{a}/receipts",
                {
                    "part_id": world.parts[CARTRIDGE],
                    "lot_number": f"LOAD-{CARTRIDGE}",
                    "expiry_date": _lot_expiry(),
                    "eaches": refill,
                    "unit_cost": "30.00",
                    "reason": "donation",
                },
                f"refill-{uuid.uuid4().hex}",
                [],
                1,
            ),
            session,
        )
    assert topped.status == 201, topped.response
    engine = create_engine(server.url)
    with engine.connect() as conn:
        before = conn.scalar(
            text("SELECT on_hand FROM stock_balance WHERE facility_id = :f AND lot_id = :l"),
            {"f": a, "l": cart},
        )
    engine.dispose()
    counts = Counter()
    lock = threading.Lock()

    def client(number: int) -> None:
        with requests.Session() as session:
            for i in range(10_000):
                op = Operation(
                    "drain",
                    world.clinician_token,
                    f"/api/v1/facilities/{a}/issues",
                    {"lot_id": cart, "eaches": 1},
                    f"drain-{number}-{i}",
                    [(a, cart, -1)],
                    1,
                )
                send(lambda: server.base, op, session)
                with lock:
                    counts[op.status] += 1
                if op.status != 201:
                    assert op.status == 409, op.response
                    assert op.response["type"] == "/problems/insufficient-stock", op.response
                    assert op.response["available"] < op.response["requested"], op.response
                    return

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return int(before or 0), counts[201], counts[409]


def same_key_burst(world: World, server: Gunicorn, *, clients: int) -> list[str]:
    """Every client sends the same case with the same Idempotency-Key at the same moment.

    Exactly one case may be recorded and stock taken once; every answer is the 201 (first
    or replayed) or a 409 asking to retry; never a 5xx or a different refusal.
    """
    a, tip = world.facilities["A"], world.lots[TIP]
    key = f"burst-{uuid.uuid4().hex[:12]}"
    body = {
        "facility_id": a,
        "reference": key,
        "date_of_service": _today(),
        "laterality": "LT",
        "procedures": [{"code": "64640", "nerves": ["afcn", "lfcn"]}],
        "supplies": [{"part_id": world.parts[TIP], "lot_id": tip, "eaches": 1}],
    }
    engine = create_engine(server.url)
    count_sql = text("SELECT count(*) FROM stock_movement")
    with engine.connect() as conn:
        before = conn.scalar(count_sql)
    gate = threading.Barrier(clients)
    answers: list[Operation] = []
    lock = threading.Lock()

    def client() -> None:
        op = Operation("burst", world.clinician_token, "/api/v1/cases", body, key, [], 1)
        with requests.Session() as session:
            gate.wait()
            send(lambda: server.base, op, session)
        with lock:
            answers.append(op)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        written = conn.scalar(count_sql) - before
        cases = conn.scalar(
            text("SELECT count(*) FROM procedure_case WHERE reference = :r"), {"r": key}
        )
    engine.dispose()
    found = [
        f"burst: answer {op.status} {str(op.response)[:200]}"
        for op in answers
        if op.status not in (201, 409)
    ]
    created = {op.response["id"] for op in answers if op.status == 201}
    if cases != 1 or written != 1 or len(created) != 1:
        found.append(f"burst: {cases} cases, {written} movements, ids {sorted(created)}")
    return found


# --------------------------------------------------------------------------- checks


def verify_cli(url: str) -> subprocess.CompletedProcess:
    """Run `supply-app inventory verify` against url."""
    return subprocess.run(
        [str(BIN / "supply-app"), "inventory", "verify"],
        cwd=ROOT,
        env={**os.environ, "SUPPLY_DATABASE_URL": url, "SUPPLY_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def expected_balances(world: World, operations: list[Operation]) -> dict[tuple[int, int], int]:
    """Opening stock plus the effect of every operation that succeeded, each once."""
    balances: dict[tuple[int, int], int] = defaultdict(int, world.opening)
    for op in operations:
        if op.status == 201:
            for facility_id, lot_id, eaches in op.effects:
                balances[(facility_id, lot_id)] += eaches
    return dict(balances)


def problems_after(world: World, url: str, result: LoadResult) -> list[str]:
    """Everything wrong with the database after a load; empty when it all holds."""
    found: list[str] = []
    for op in result.operations:
        if op.status == 201:
            continue
        if op.status == 409 and op.response.get("type") == "/problems/insufficient-stock":
            if not op.response["available"] < op.response["requested"]:
                found.append(f"{op.key}: 409 but available >= requested: {op.response}")
            continue
        found.append(f"{op.key} {op.kind}: unexpected {op.status}: {str(op.response)[:300]}")
    engine = create_engine(url)
    with engine.connect() as conn:
        actual = {
            (f, lot): n
            for f, lot, n in conn.execute(
                text("SELECT facility_id, lot_id, on_hand FROM stock_balance")
            )
        }
        negative = conn.scalar(
            text("SELECT count(*) FROM stock_balance WHERE on_hand < 0 OR value_cents < 0")
        )
        movements = conn.scalar(text("SELECT count(*) FROM stock_movement"))
    engine.dispose()
    expected = expected_balances(world, result.operations)
    for key in sorted(set(expected) | set(actual)):
        if expected.get(key, 0) != actual.get(key, 0):
            found.append(
                f"balance {key}: database {actual.get(key, 0)}, clients saw {expected.get(key, 0)}"
            )
    if negative:
        found.append(f"{negative} negative balances")
    wanted = world.movements_at_start + sum(
        op.movements for op in result.operations if op.status == 201
    )
    if movements != wanted:
        found.append(f"{movements} ledger rows, but successful operations account for {wanted}")
    verified = verify_cli(url)
    if verified.returncode != 0:
        found.append(f"inventory verify failed: {verified.stdout[-500:]} {verified.stderr[-500:]}")
    return found


def replay_problems(server: Gunicorn, url: str, result: LoadResult, sample: int = 20) -> list[str]:
    """Resending succeeded operations with their keys replays them and writes nothing."""
    done = [op for op in result.operations if op.status == 201][:sample]
    engine = create_engine(url)

    def rows() -> int:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM stock_movement"))

    found: list[str] = []
    before = rows()
    with requests.Session() as session:
        for op in done:
            again = send(
                lambda: server.base,
                Operation(op.kind, op.token, op.path, op.body, op.key, [], 0),
                session,
            )
            if again.status != 201 or not again.replayed or again.response != op.response:
                found.append(f"{op.key}: retry gave {again.status}, replayed={again.replayed}")
    if rows() != before:
        found.append(f"replays wrote {rows() - before} ledger rows")
    engine.dispose()
    return found


def summary(result: LoadResult) -> dict[str, Any]:
    """Counts worth printing: outcomes per kind, retries, replays, kills."""
    return {
        "operations": len(result.operations),
        "seconds": round(result.seconds, 2),
        "kills": result.kills,
        "outcomes": {f"{k} {s}": n for (k, s), n in sorted(result.by_outcome().items())},
        "retried_after_connection_loss": sum(1 for op in result.operations if op.attempts > 1),
        "answered_by_replay": sum(1 for op in result.operations if op.replayed),
    }
