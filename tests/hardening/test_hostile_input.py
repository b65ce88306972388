"""Hostile text at every API door: every string field of every operation in the spec.

Each operation with a JSON body has a valid body below, aimed at rows made for it. Every
string field of that body (found by walking the published schema, nested lists included)
is replaced in turn by hostile strings: NUL and other control characters, a lone
surrogate, zero-width and bidirectional marks, a trailing newline, fullwidth and
Arabic-Indic digits, 10,000 characters. The answer must be a 4xx problem whose message
says what to fix, and no table may gain or lose a row. Identifiers, choices and dates
(fields with a pattern, an enum or a date format) refuse every hostile string; free text
refuses those no field may hold (control characters, lone surrogates, over-long text).
After the hostile variants, the valid body itself is sent once and must succeed, which
proves each refusal was the hostile field's and not something else's.

Query parameters of every read take the same strings (a 422 each), and path ids written
in look-alike digits find nothing. Runs on SQLite and on PostgreSQL (which refuses NUL in
text, so a rule that let one through would show as a 500 there).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, inspect, select, text

from supply_app.clock import utcnow
from supply_app.demo import demo_token_secret
from supply_app.extensions import db
from tests.support.spec import operations, published_spec

# Everything no field may hold, whatever its kind.
NEVER = {
    "nul": "LOT\x00A",
    "bell": "LOT\x07A",
    "escape": "\x1b[31mLOT",
    "c1 control": "LOT\x85A",
    "lone surrogate": "LOT\ud800A",
    "ten thousand": "L" * 10_000,
}
# Legitimate in free text (a name in Arabic, a pasted note), never in an identifier.
ODD = {
    "zero-width space": "LOT\u200b1",
    "bidi override": "\u202eLOT1",
    "trailing newline": "LOT-1\n",
    "leading space": " LOT-1",
    "fullwidth digits": "\uff11\uff12\uff13",
    "arabic-indic digits": "\u0663\u0664",
}
HOSTILE = {**NEVER, **ODD}
_unique = itertools.count(1)


def _scalar(sql: str, **params: Any) -> Any:
    return db.session.scalar(text(sql), params)


@pytest.fixture(scope="module")
def world(seeded_app) -> dict[str, Any]:
    """The seeded app, the admin's headers and the rows the valid bodies aim at."""
    with seeded_app.app_context():
        hopd = _scalar("SELECT id FROM facility WHERE code = 'DEMO-HOPD'")
        asc = _scalar("SELECT id FROM facility WHERE code = 'DEMO-ASC'")
        ids = {
            "hopd": hopd,
            "asc": asc,
            "tip": _scalar("SELECT id FROM part WHERE part_number = 'STT2190-5'"),
            "cartridge": _scalar("SELECT id FROM part WHERE part_number = 'CRX2111-10'"),
            "lot": _scalar(
                "SELECT min(b.lot_id) FROM stock_balance b JOIN lot l ON l.id = b.lot_id "
                "JOIN part p ON p.id = l.part_id WHERE b.facility_id = :f AND b.on_hand > 5 "
                "AND p.part_number = 'STT2190-5'",
                f=hopd,
            ),
            "movement": _scalar(
                "SELECT min(id) FROM stock_movement WHERE facility_id = :f AND kind = 'receipt'",
                f=hopd,
            ),
            "case": _scalar("SELECT min(id) FROM procedure_case WHERE status = 'recorded'"),
            # Another recorded case for the payer change (the void above takes the first).
            "payer_case": _scalar(
                "SELECT max(id) FROM procedure_case WHERE status = 'recorded' AND facility_id = :f",
                f=hopd,
            ),
            "user": _scalar("SELECT id FROM app_user WHERE username = 'viewer'"),
        }
        db.session.remove()
        world = {
            "app": seeded_app,
            "headers": {"Authorization": f"Bearer {demo_token_secret('admin')}"},
            "approver": {"Authorization": f"Bearer {demo_token_secret('purchaser2')}"},
            "ids": ids,
        }
    ids["draft"], ids["draft_line"] = _draft_order(world)
    for name in ("recall_lots", "recall_close", "recall_release"):
        ids[name] = _recall(world, f"NEVER-{name[7:].upper()}")
    ids["return"] = _post(
        world,
        f"/api/v1/facilities/{ids['hopd']}/vendor-returns",
        {"lot_id": ids["lot"], "eaches": 1, "rga_number": "RGA-HOSTILE", "rga_date": _today(-2)},
    )["id"]
    world["app"].test_client().put(
        f"/api/v1/facilities/{ids['asc']}/par-levels",
        json={"levels": [{"part_id": ids["cartridge"], "min_eaches": 5000, "max_eaches": 6000}]},
        headers=world["headers"],
    )
    ids["approved"], ids["approved_line"] = _approved_order(world)
    ids["received"], ids["received_line"] = _approved_order(world)
    ids["receipt_line"] = _post(
        world,
        f"/api/v1/orders/{ids['received']}/receipts",
        {"lines": [{"line_id": ids["received_line"], "packs": 1, "lot_number": "HOSTILE-RCV",
                    "expiry_date": _today(300)}]},
    )["lines"][0]["id"]  # fmt: skip
    # A payer of its own for the payer operations and the cases naming one, and a
    # handpiece figure for the removal to remove.
    ids["payer"] = _post(
        world,
        "/api/v1/payers",
        {"name": "Hostile Commercial", "basis": "percent_of_medicare", "percent": "120.00"},
    )["id"]
    response = (
        world["app"]
        .test_client()
        .put(
            f"/api/v1/facilities/{ids['hopd']}/equipment-costs",
            json={"serial": "HP-REMOVE", "acquisition": "100.00", "life_years": 1,
                  "cases_per_year": 10},
            headers=world["headers"],
        )
    )  # fmt: skip
    assert response.status_code == 200, response.json
    return world


def _post(world: dict[str, Any], path: str, body: dict[str, Any], headers=None) -> Any:
    response = world["app"].test_client().post(path, json=body, headers=headers or world["headers"])
    assert response.status_code in (200, 201), (path, response.status_code, response.json)
    return response.json


def _order_body(world: dict[str, Any]) -> dict[str, Any]:
    return {
        "facility_id": world["ids"]["hopd"],
        "fund_code": "2F",
        "priority": "05",
        "required_delivery_date": (utcnow().date() + timedelta(days=30)).isoformat(),
        "notes": "hostile-input test",
        "lines": [{"part_number": "CRX2111-10", "packs": 2}],
    }


def _draft_order(world: dict[str, Any]) -> tuple[int, int]:
    order = _post(world, "/api/v1/orders", _order_body(world))
    return order["id"], order["lines"][0]["id"]


def _approved_order(world: dict[str, Any]) -> tuple[int, int]:
    """An approved order (submitted by the admin, approved by the demo's second purchaser)."""
    order_id, line_id = _draft_order(world)
    _post(world, f"/api/v1/orders/{order_id}/submit", {})
    _post(world, f"/api/v1/orders/{order_id}/approve", {}, headers=world["approver"])
    return order_id, line_id


def _recall(world: dict[str, Any], lot_number: str) -> int:
    """A recall of a lot nobody holds (so it can be closed), for the recall operations."""
    body = {
        "source": "manufacturer",
        "notice_number": lot_number,
        "notice_date": _today(-2),
        "reason": "hostile-input test",
        "lots": [{"part_id": world["ids"]["tip"], "lot_number": lot_number}],
    }
    return _post(world, "/api/v1/recalls", body)["id"]


def _today(days: int = 0) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


# The valid body of every operation that takes one, aimed at rows of the world.
VALID: dict[tuple[str, str], Callable[[dict[str, int]], dict[str, Any]]] = {
    ("post", "/api/v1/me/tokens"): lambda i: {"name": "hostile", "days": 5},
    ("post", "/api/v1/users"): lambda i: {
        "username": f"hostile{next(_unique)}",
        "display_name": "Hostile Test",
        "role": "viewer",
        "password": "long-enough-password",
        "facility_ids": [i["hopd"]],
    },
    ("patch", "/api/v1/users/{user_id}"): lambda i: {"display_name": "Renamed viewer"},
    ("post", "/api/v1/contract-prices"): lambda i: {
        "part_id": i["tip"],
        "unit_price": "1300.00",
        "effective_from": "2030-01-01",
        "note": "hostile test price",
    },
    ("post", "/api/v1/facilities"): lambda i: {
        "code": f"HOST-{next(_unique)}",
        "name": "Hostile Test Clinic",
        "site_of_service": "office",
        "dodaac": "HOST01",
        "ship_to_address": "1 Test Road\nSuite 2",
        "time_zone": "Pacific/Guam",
        "default_payer_id": i["payer"],
        "wage_index": "0.9500",
    },
    ("patch", "/api/v1/facilities/{facility_id}"): lambda i: {
        "name": "Demo Army Medical Center",
        "ship_to_address": "Demo AMC, Receiving Dock A",
        "default_payer_id": i["payer"],
        "wage_index": "1.0842",
    },
    ("put", "/api/v1/facilities/{facility_id}/par-levels"): lambda i: {
        "levels": [{"part_id": i["tip"], "min_eaches": 5, "max_eaches": 40}]
    },
    ("post", "/api/v1/scan"): lambda i: {"scan": "(01)00812345000016(10)L-1(17)271231"},
    ("post", "/api/v1/facilities/{facility_id}/receipts"): lambda i: {
        "part_id": i["tip"],
        "lot_number": f"HOST-{next(_unique)}",
        "expiry_date": _today(300),
        "eaches": 5,
        "unit_cost": "250.00",
        "reason": "donation",
        "note": "hostile test",
    },
    ("post", "/api/v1/facilities/{facility_id}/issues"): lambda i: {
        "lot_id": i["lot"],
        "eaches": 1,
        "note": "hostile test",
    },
    ("post", "/api/v1/facilities/{facility_id}/adjustments"): lambda i: {
        "lot_id": i["lot"],
        "eaches": 1,
        "reason": "found",
        "note": "hostile test",
    },
    ("post", "/api/v1/facilities/{facility_id}/waste"): lambda i: {
        "lot_id": i["lot"],
        "eaches": 1,
        "reason": "damaged",
        "note": "hostile test",
    },
    ("post", "/api/v1/facilities/{facility_id}/transfers"): lambda i: {
        "lot_id": i["lot"],
        "to_facility_id": i["asc"],
        "eaches": 1,
        "note": "hostile test",
    },
    ("post", "/api/v1/facilities/{facility_id}/counts"): lambda i: {
        "lot_id": i["lot"],
        "counted": 3,
        "note": "hostile test",
    },
    ("post", "/api/v1/movements/{movement_id}/reverse"): lambda i: {"reason": "typed twice"},
    ("post", "/api/v1/orders/{order_id}/receipt-lines/{receipt_line_id}/undo"): lambda i: {
        "reason": "scanned the wrong lot"
    },
    ("post", "/api/v1/orders"): lambda i: {
        "facility_id": i["hopd"],
        "fund_code": "2F",
        "priority": "05",
        "required_delivery_date": _today(30),
        "notes": "hostile",
        "lines": [{"part_number": "CRX2111-10", "packs": 1}],
    },
    ("patch", "/api/v1/orders/{order_id}"): lambda i: {"fund_code": "3A", "notes": "changed"},
    ("post", "/api/v1/orders/{order_id}/lines"): lambda i: {"part_number": "STT2190-5", "packs": 1},
    ("patch", "/api/v1/orders/{order_id}/lines/{line_id}"): lambda i: {"packs": 3},
    ("post", "/api/v1/orders/{order_id}/cancel"): lambda i: {"reason": "no longer needed"},
    ("post", "/api/v1/orders/{order_id}/receipts"): lambda i: {
        "lines": [
            {
                "line_id": i["approved_line"],
                "packs": 1,
                "lot_number": f"RCV-{next(_unique)}",
                "expiry_date": _today(400),
            }
        ],
        "note": "hostile test delivery",
    },
    ("post", "/api/v1/facilities/{facility_id}/reorder-suggestions/order"): lambda i: {
        "fund_code": "2F",
        "priority": "05",
        "required_delivery_date": _today(30),
        "notes": "hostile",
    },
    ("post", "/api/v1/cases"): lambda i: {
        "facility_id": i["hopd"],
        "reference": f"HOST-{next(_unique)}",
        "date_of_service": _today(-2),
        "laterality": "RT",
        "procedures": [{"code": "64640", "nerves": ["afcn"], "laterality": "RT"}],
        "supplies": [{"part_id": i["tip"], "lot_id": i["lot"], "eaches": 1}],
        "payer_id": i["payer"],
        "handpiece_serial": "DEMO-SN-DEMO-HOPD",  # the demo handpiece on its shelf
    },
    ("post", "/api/v1/cases/{case_id}/payer"): lambda i: {"payer_id": i["payer"]},
    ("put", "/api/v1/facilities/{facility_id}/equipment-costs"): lambda i: {
        "serial": "HP-HOSTILE-1",
        "acquisition": "7200.00",
        "salvage": "0.00",
        "life_years": 5,
        "cases_per_year": 200,
        "note": "hostile test handpiece",
    },
    ("post", "/api/v1/facilities/{facility_id}/equipment-costs/remove"): lambda i: {
        "serial": "HP-REMOVE"
    },
    ("post", "/api/v1/payers"): lambda i: {
        "name": f"Hostile payer {next(_unique)}",
        "basis": "percent_of_medicare",
        "percent": "110.00",
        "medicare_rules": True,
        "note": "hostile test payer",
    },
    ("patch", "/api/v1/payers/{payer_id}"): lambda i: {
        "name": "Hostile Commercial (renamed)",
        "basis": "percent_of_medicare",
        "percent": "115.50",
        "medicare_rules": True,
        "note": "renamed in the hostile test",
        "active": True,
    },
    ("put", "/api/v1/payers/{payer_id}/fees"): lambda i: {
        "csv": "code,site_of_service,component,modifier,amount,effective_from,effective_to\n"
        "64640,HOPD,facility,,850.00,2026-01-01,2026-12-31\n"
        "64640,HOPD,professional,50,101.50,2026-01-01,\n"
    },
    ("post", "/api/v1/cases/{case_id}/void"): lambda i: {"reason": "recorded in error"},
    ("post", "/api/v1/cases/reprice"): lambda i: {"year": 2026},
    ("put", "/api/v1/fee-schedules/{year}/overrides/{code}/{site}"): lambda i: {
        "amount": "250.00",
        "note": "hostile test",
    },
    ("post", "/api/v1/recalls"): lambda i: {
        "source": "dla",
        "notice_number": f"N-{next(_unique)}",
        "notice_date": _today(-2),
        "reason": "Seal may be breached",
        "lots": [{"part_id": i["tip"], "lot_number": f"RC-{next(_unique)}"}],
    },
    ("post", "/api/v1/recalls/{recall_id}/lots"): lambda i: {
        "lots": [{"part_id": i["tip"], "lot_number": f"RC-{next(_unique)}"}]
    },
    ("post", "/api/v1/recalls/{recall_id}/close"): lambda i: {"note": "all returned"},
    ("post", "/api/v1/recalls/{recall_id}/release"): lambda i: {"note": "notice withdrawn"},
    ("post", "/api/v1/facilities/{facility_id}/vendor-returns"): lambda i: {
        "lot_id": i["lot"],
        "eaches": 1,
        "rga_number": f"RGA-{next(_unique)}",
        "rga_date": _today(-2),
        "note": "hostile test",
    },
    ("post", "/api/v1/vendor-returns/{return_id}/credit"): lambda i: {
        "credit_memo": "CM-1",
        "credited_on": _today(-2),
    },
    ("put", "/api/v1/notifications/me"): lambda i: {
        "email": "materials@example.mil",
        "daily_digest": True,
    },
    ("post", "/api/v1/coding/price"): lambda i: {
        "site_of_service": "HOPD",
        "date_of_service": "2026-06-01",
        "laterality": "RT",
        "procedures": [{"code": "64640", "nerves": ["afcn"]}],
    },
}
# Further valid bodies for operations whose fields cannot all appear in one body (a
# facility's setting or a site's, never both): each is fuzzed the same way.
ALSO_VALID: dict[tuple[str, str], list[Callable[[dict[str, int]], dict[str, Any]]]] = {
    ("post", "/api/v1/coding/price"): [
        lambda i: {
            "facility_id": i["hopd"],
            "date_of_service": "2026-06-01",
            "laterality": "bilateral",
            "procedures": [{"code": "64624", "nerves": ["superomedial"], "laterality": "LT"}],
            "use_overrides": False,
            "payer_id": i["payer"],
        },
        lambda i: {
            "site_of_service": "office",
            "cf_track": "qualifying_apm",
            "date_of_service": "2026-06-01",
            "laterality": "LT",
            "procedures": [{"code": "64640", "nerves": ["afcn"]}],
        },
    ],
}
# Operations added with payers: every field of their bodies must be in a valid body, so
# each one is fuzzed (a field left out of every body would never meet hostile text).
EVERY_FIELD = (
    ("post", "/api/v1/cases"),
    ("post", "/api/v1/cases/{case_id}/payer"),
    ("put", "/api/v1/facilities/{facility_id}/equipment-costs"),
    ("post", "/api/v1/facilities/{facility_id}/equipment-costs/remove"),
    ("post", "/api/v1/payers"),
    ("patch", "/api/v1/payers/{payer_id}"),
    ("put", "/api/v1/payers/{payer_id}/fees"),
    ("post", "/api/v1/coding/price"),
)
# Where each operation's path parameters point.
PATH: dict[str, Callable[[dict[str, int]], Any]] = {
    "user_id": lambda i: i["user"],
    "facility_id": lambda i: i["hopd"],
    "movement_id": lambda i: i["movement"],
    "case_id": lambda i: i["case"],
    "lot_id": lambda i: i["lot"],
    "return_id": lambda i: i["return"],
    "payer_id": lambda i: i["payer"],
    "receipt_line_id": lambda i: i["receipt_line"],
    "year": lambda i: 2026,
    "code": lambda i: "C9809",
    "site": lambda i: "HOPD",
}
# The order each order operation acts on: draft ones stay drafts until their valid send.
ORDER_OF = {
    "/api/v1/orders/{order_id}/receipts": ("approved", "approved_line"),
    "/api/v1/orders/{order_id}/receipt-lines/{receipt_line_id}/undo": ("received", "received_line"),
}
# Each recall operation acts on a recall of its own.
RECALL_OF = {
    "/api/v1/recalls/{recall_id}/lots": "recall_lots",
    "/api/v1/recalls/{recall_id}/close": "recall_close",
    "/api/v1/recalls/{recall_id}/release": "recall_release",
}
# Suggestions are asked of the ASC, whose par levels (set below) are above its stock.
FACILITY_OF = {"/api/v1/facilities/{facility_id}/reorder-suggestions/order": "asc"}


def body_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """Every operation in the spec that takes a JSON body."""
    return [op for op in operations() if "requestBody" in op[2]]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    spec = published_spec()
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def string_fields(schema: dict[str, Any], body: Any, path: tuple = ()) -> list[tuple]:
    """(path into body, field schema) of every string or integer field present in body."""
    schema = _resolve(schema)
    found = []
    if isinstance(body, dict):
        for name, value in body.items():
            field = schema.get("properties", {}).get(name)
            if field is not None:
                found += string_fields(field, value, (*path, name))
    elif isinstance(body, list) and body:
        found += string_fields(schema.get("items", {}), body[0], (*path, 0))
    elif {"string", "integer"} & set(_types(schema)) or "enum" in schema:
        found.append((path, schema))
    return found


def _types(schema: dict[str, Any]) -> list[str]:
    """A schema's JSON types (OpenAPI 3.1 writes a nullable one as a list)."""
    kind = schema.get("type", [])
    return kind if isinstance(kind, list) else [kind]


def hostile_for(field: dict[str, Any]) -> dict[str, str]:
    """The hostile strings a field must refuse: all, unless it is free text."""
    strict = (
        "pattern" in field
        or "enum" in field
        or field.get("format") == "date"
        or "integer" in _types(field)
    )
    return HOSTILE if strict else NEVER


def with_value(body: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    """A deep copy of body with the field at path set to value."""
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def row_counts() -> dict[str, int]:
    """Rows in every table: the fingerprint "nothing was written" is checked against."""
    counts = {}
    with db.engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            counts[name] = conn.execute(
                select(func.count()).select_from(text(f'"{name}"'))
            ).scalar()
    return counts


def concrete_path(world: dict[str, Any], path: str) -> str:
    """The operation's URL with its path parameters filled in."""
    ids = world["ids"]
    order, line = ORDER_OF.get(path, ("draft", "draft_line"))
    values = {name: fill(ids) for name, fill in PATH.items()}
    values |= {"order_id": ids[order], "line_id": ids[line]}
    values["facility_id"] = ids[FACILITY_OF.get(path, "hopd")]
    values["recall_id"] = ids[RECALL_OF.get(path, "recall_lots")]
    if path == "/api/v1/cases/{case_id}/payer":
        values["case_id"] = ids["payer_case"]
    return path.format(**values)


def test_every_body_operation_has_a_valid_body():
    """A new operation with a body must join this suite (and so be fuzzed with hostile text)."""
    missing = {(m, p) for m, p, _ in body_operations()} - VALID.keys()
    assert not missing, f"add a valid body for {sorted(missing)}"


def _problem_is_helpful(response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    body = response.json
    assert response.mimetype == "application/problem+json"
    assert body["detail"], body
    if body["status"] == 422 and body.get("type") == "about:blank":
        assert body.get("errors"), body  # field validation names each field and what to fix


def _bodies(method: str, path: str) -> list[Callable[[dict[str, int]], dict[str, Any]]]:
    return [VALID[(method, path)], *ALSO_VALID.get((method, path), [])]


def _schema_of(method: str, path: str) -> dict[str, Any]:
    operation = next(op for m, p, op in body_operations() if (m, p) == (method, path))
    return operation["requestBody"]["content"]["application/json"]["schema"]


def _field_names(schema: dict[str, Any], body: Any, prefix: str = "") -> set[str]:
    """Every property of a body's schema, nested objects and lists included, by dotted name."""
    schema = _resolve(schema)
    names = set()
    if schema.get("type") == "array" or "items" in schema:
        item = body[0] if isinstance(body, list) and body else {}
        return _field_names(schema.get("items", {}), item, prefix)
    for name, field in schema.get("properties", {}).items():
        if field.get("readOnly"):
            continue
        names.add(prefix + name)
        value = body.get(name) if isinstance(body, dict) else None
        if value is not None:
            names |= _field_names(field, value, f"{prefix}{name}.")
    return names


@pytest.mark.parametrize(("method", "path"), EVERY_FIELD, ids=lambda v: str(v))
def test_the_payer_bodies_name_every_field(method, path):
    """Each field of these operations' bodies appears in some valid body, so it is fuzzed."""
    ids = {name: 1 for name in ("hopd", "asc", "tip", "lot", "payer", "case")}
    schema = _schema_of(method, path)
    every, given = set(), set()
    for body in _bodies(method, path):
        sample = body(ids)
        every |= _field_names(schema, sample)
        given |= _given_names(sample)
    # The supplies' other ways of naming a lot (a number, a scan) exclude the lot id used.
    left_out = every - given - {"supplies.lot_number", "supplies.scan"}
    assert not left_out, f"{method} {path}: no valid body gives {sorted(left_out)}"


def _given_names(body: Any, prefix: str = "") -> set[str]:
    if isinstance(body, list):
        return set().union(*(_given_names(item, prefix) for item in body)) if body else set()
    if not isinstance(body, dict):
        return set()
    names = set()
    for name, value in body.items():
        names |= {prefix + name} | _given_names(value, f"{prefix}{name}.")
    return names


BODY_CASES = [
    (m, p, n) for m, p, _ in body_operations() for n in range(len(ALSO_VALID.get((m, p), [])) + 1)
]


@pytest.mark.parametrize(("method", "path", "variant"), BODY_CASES, ids=lambda v: str(v))
def test_hostile_text_in_every_body_field_is_refused_and_writes_nothing(
    world, method, path, variant
):
    """Each hostile string in each string field: a helpful 4xx and not one row changed."""
    schema = _schema_of(method, path)
    url = concrete_path(world, path)
    client = world["app"].test_client()
    with world["app"].app_context():
        before = row_counts()
        valid = _bodies(method, path)[variant](world["ids"])
        fields = string_fields(schema, valid)
        assert fields, f"{method} {path}: no string field found to fuzz"
        for field_path, field in fields:
            for label, value in hostile_for(field).items():
                body = with_value(valid, field_path, value)
                response = client.open(
                    url, method=method.upper(), json=body, headers=world["headers"]
                )
                assert response.status_code < 500, (field_path, label, response.get_data()[:300])
                _problem_is_helpful(response)
                assert row_counts() == before, (method, path, field_path, label)
        # The valid body itself succeeds, so each refusal above was the hostile field's.
        response = client.open(url, method=method.upper(), json=valid, headers=world["headers"])
        assert response.status_code < 300, (method, path, response.status_code, response.json)
        db.session.remove()


def encoded(query: dict[str, Any]) -> str:
    """A query string as an attacker writes it: a lone surrogate goes as its raw bytes."""
    return "&".join(
        f"{name}={quote(str(value), safe='', errors='surrogatepass')}"
        for name, value in query.items()
    )


def query_operations() -> list[tuple[str, str, dict[str, dict[str, Any]]]]:
    """Every read with query parameters, and each parameter's schema by name."""
    return [
        (m, p, {q["name"]: q["schema"] for q in op.get("parameters", []) if q["in"] == "query"})
        for m, p, op in operations()
        if m == "get" and any(q["in"] == "query" for q in op.get("parameters", []))
    ]


@pytest.mark.parametrize(("method", "path", "names"), query_operations(), ids=lambda v: str(v))
def test_hostile_text_in_every_query_parameter_is_a_422(world, method, path, names):
    """Every query parameter refuses the hostile strings its kind refuses, with a 422."""
    url = concrete_path(world, path)
    client = world["app"].test_client()
    required = {"format": "csv", "part_id": world["ids"]["tip"], "eaches": 1}
    with world["app"].app_context():
        for name, schema in names.items():
            strict = schema.get("type") in ("boolean", "array") or schema.get("items")
            hostile = HOSTILE if strict else hostile_for(schema)
            # A URL cannot carry a lone surrogate: werkzeug keeps its undecodable bytes as
            # the literal text %ED%A0%80 (JSON bodies, above, carry the real thing).
            hostile = {k: v for k, v in hostile.items() if k != "lone surrogate"}
            for label, value in hostile.items():
                query = {k: v for k, v in required.items() if k in names and k != name}
                query[name] = value
                response = client.get(f"{url}?{encoded(query)}", headers=world["headers"])
                assert response.status_code == 422, (name, label, response.get_data()[:300])
                assert name in str(response.json["errors"]), (name, response.json)
        db.session.remove()


@pytest.mark.parametrize("digits", ["\u0661", "\uff11", "\u00b9", "1\u200b"])
def test_look_alike_digits_in_a_path_find_nothing(world, digits):
    """/orders/١ is not order 1: a path id is ASCII digits or no route at all."""
    client = world["app"].test_client()
    for path in ("/api/v1/orders/{}", "/api/v1/facilities/{}", "/api/v1/cases/{}"):
        response = client.get(path.format(digits), headers=world["headers"])
        assert response.status_code == 404, (path, digits, response.status_code)


@pytest.mark.parametrize(
    ("label", "body", "why"),
    [
        ("deep nesting", "[" * 5000 + "]" * 5000, "nested deeper"),
        ("5,000-digit integer", '{"scan": ' + "9" * 5000 + "}", "more than 18 digits"),
        ("lone surrogate escape", '{"scan": "a\\udc80b"}', "lone surrogate"),
        ("NaN", '{"scan": NaN}', "NaN"),
        ("not UTF-8", b'{"scan": "\xff\xfe"}', "not UTF-8"),
    ],
)
def test_the_json_reader_refuses_what_no_body_needs(world, label, body, why):
    """Bodies beyond sane bounds are a 400 saying why, before any view runs."""
    response = (
        world["app"]
        .test_client()
        .post("/api/v1/scan", data=body, content_type="application/json", headers=world["headers"])
    )
    assert response.status_code == 400, (label, response.get_data()[:300])
    assert why in str(response.json["errors"]), response.json


def test_a_hostile_idempotency_key_is_refused(world):
    """The Idempotency-Key header is an identifier too: control characters are a 422."""
    headers = {**world["headers"], "Idempotency-Key": "key\x00one"}
    response = (
        world["app"].test_client().post("/api/v1/scan", json={"scan": "L-1"}, headers=headers)
    )
    assert response.status_code == 422, response.get_data()[:300]
    assert "Idempotency-Key" in str(response.json)
