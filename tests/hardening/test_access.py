"""Access control, generated from the OpenAPI spec: role × operation × own/other facility.

Every /api/v1 operation must carry `x-roles` (written by supply_app.auth.guard.roles), so a
new endpoint is in this matrix the moment it exists. For each operation and role:
- no token, a bad token → 401;
- a role outside x-roles → 403 (the role refusal, before anything else is looked at);
- a role inside x-roles is not refused, and no 2xx answer mentions the other facility;
- the same call aimed at another facility's resource (schema-valid input) → 404, never 403.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import select, text

from supply_app.auth.permissions import ALL_ROLES
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from tests.hardening.conftest import member_actor
from tests.support.spec import PUBLIC_OPERATIONS, operations, path_parameters

OWN_CODE, OTHER_CODE = "DEMO-HOPD", "DEMO-ASC"

# Path parameters naming a row that belongs to one facility: SQL giving such a row's id at
# :facility. Nested ids pick a row of the parent chosen by the parent's query.
_ORDER_WITH_LINES = (
    "SELECT min(o.id) FROM purchase_order o WHERE o.facility_id = :facility"
    " AND EXISTS (SELECT 1 FROM purchase_order_line l WHERE l.order_id = o.id)"
)
FACILITY_OWNED = {
    "facility_id": "SELECT id FROM facility WHERE id = :facility",
    "order_id": _ORDER_WITH_LINES,
    "line_id": f"SELECT min(id) FROM purchase_order_line WHERE order_id = ({_ORDER_WITH_LINES})",
    "receipt_line_id": "SELECT min(rl.id) FROM order_receipt_line rl"
    " JOIN order_receipt r ON r.id = rl.receipt_id"
    " JOIN purchase_order o ON o.id = r.order_id WHERE o.facility_id = :facility",
    "case_id": "SELECT min(id) FROM procedure_case WHERE facility_id = :facility",
    "movement_id": "SELECT min(id) FROM stock_movement WHERE facility_id = :facility",
    "return_id": "SELECT min(v.id) FROM vendor_return v JOIN stock_movement m"
    " ON m.id = v.movement_id WHERE m.facility_id = :facility",
    # A user who belongs to this facility alone: admins elsewhere must not see them.
    "user_id": "SELECT min(u.id) FROM app_user u WHERE NOT u.all_facilities"
    " AND EXISTS (SELECT 1 FROM facility_membership m WHERE m.user_id = u.id)"
    " AND NOT EXISTS (SELECT 1 FROM facility_membership m"
    " WHERE m.user_id = u.id AND m.facility_id <> :facility)",
}
# Path parameters naming something every facility shares: SQL for an id, or a literal.
SHARED: dict[str, str | int] = {
    "part_id": "SELECT min(id) FROM part",
    # Another user's token: revoking it must be a 404 for everyone but its owner.
    "token_id": "SELECT min(id) FROM api_token",
    # A lot held both here and at the other facility: what the caller sees of it must not
    # name the other facility.
    "lot_id": "SELECT min(b.lot_id) FROM stock_balance b"
    " JOIN stock_balance c ON c.lot_id = b.lot_id AND c.facility_id = :facility"
    f" JOIN facility f ON f.id = b.facility_id WHERE f.code = '{OTHER_CODE}'"
    " AND b.on_hand > 0 AND c.on_hand > 0",
    # A recall is one notice for every facility; what a caller sees of its holders and
    # cases must not name the other facility.
    "recall_id": "SELECT min(id) FROM recall",
    # A payer is one category for every facility's cases (its fee table with it): reading
    # one names no facility; changing one is a global change (below).
    "payer_id": "SELECT min(id) FROM payer",
    "year": 2026,
    "code": "C9809",
    "site": "HOPD",
}
FACILITY_FIELDS = ("facility_id",)
FACILITY_LIST_FIELDS = ("facility_ids",)  # aimed by naming only that facility
# Schema-valid examples tried per operation: some violate a cross-field rule (a 422 from
# request validation, which says nothing about the facility); at least one must reach it.
CANDIDATES = 8

OPERATIONS = [op for op in operations() if op[:2] not in PUBLIC_OPERATIONS]


def _ids(ops) -> list[str]:
    return [f"{m.upper()} {p}" for m, p, _ in ops]


@pytest.fixture(scope="module")
def world(seeded_app) -> dict[str, Any]:
    """One actor per role, each a member of OWN only; the facility ids; the live schema."""
    with seeded_app.app_context():
        ids = dict(db.session.execute(select(Facility.code, Facility.id)).all())
        own = db.session.get(Facility, ids[OWN_CODE])
        actors = {
            role: member_actor(seeded_app, f"matrix-{role}", role, [own]) for role in ALL_ROLES
        }
    return {
        "app": seeded_app,
        "own": ids[OWN_CODE],
        "other": ids[OTHER_CODE],
        "actors": actors,
        "schema": schemathesis.openapi.from_wsgi("/api/openapi.json", seeded_app),
        "cases": {},
    }


def resolve_path(world: dict[str, Any], path: str, facility_id: int) -> dict[str, Any]:
    """Concrete path parameters for a path, aimed at rows of facility_id."""
    values: dict[str, Any] = {}
    with world["app"].app_context():
        for name in path_parameters(path):
            source = FACILITY_OWNED.get(name, SHARED.get(name))
            if not isinstance(source, str) or not source.startswith("SELECT"):
                values[name] = source
                continue
            found = db.session.scalar(text(source), {"facility": facility_id})
            assert found is not None, f"seed data has no row for {name} at {facility_id}"
            values[name] = found
        db.session.remove()
    return values


def schema_valid_cases(world: dict[str, Any], method: str, path: str, facility_id: int):
    """Derandomized schema-valid cases (body, query), each aimed at facility_id (memoized)."""
    key = (method, path, facility_id)
    if key not in world["cases"]:
        world["cases"][key] = _generate_cases(world, method, path, facility_id)
    return world["cases"][key]


def _generate_cases(world: dict[str, Any], method: str, path: str, facility_id: int):
    operation = world["schema"][path][method.upper()]
    strategy = operation.as_strategy(path_parameters=resolve_path(world, path, facility_id))
    found: list[Any] = []

    @given(case=strategy)
    @settings(
        max_examples=CANDIDATES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(case):
        found.append(case)

    collect()
    for case in found:
        for container in (case.query, case.body):
            if isinstance(container, dict):
                for field in FACILITY_FIELDS:
                    if field in container:
                        container[field] = facility_id
                for field in FACILITY_LIST_FIELDS:
                    if field in container:
                        container[field] = [facility_id]
    return found


def present(value: Any) -> Any:
    """None for schemathesis' NOT_SET marker (no body or no query)."""
    return value if isinstance(value, dict | list | str | int | float) else None


def send(world: dict[str, Any], token: str | None, method: str, path: str, params: dict, **kw):
    """Call an operation with a bearer token (None: no Authorization header at all)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return (
        world["app"]
        .test_client()
        .open(
            path.format(**params),
            method=method.upper(),
            headers=headers,
            query_string=kw.get("query") or {},
            json=kw.get("body"),
        )
    )


def is_role_refusal(response) -> bool:
    """The 403 that supply_app.auth.service.require_role gives."""
    return response.status_code == 403 and response.json["detail"].startswith("Your role")


def mentions_facility(value: Any, facility_id: int) -> bool:
    """True when a JSON value names facility_id in any *facility_id member or facility object."""
    if isinstance(value, list):
        return any(mentions_facility(item, facility_id) for item in value)
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if key.endswith("facility_id") and item == facility_id:
            return True
        if key == "facility" and isinstance(item, dict) and item.get("id") == facility_id:
            return True
        if mentions_facility(item, facility_id):
            return True
    return False


def test_every_api_operation_declares_its_roles():
    """A /api/v1 operation without x-roles would escape this matrix."""
    missing = [f"{m.upper()} {p}" for m, p, op in OPERATIONS if not op.get("x-roles")]
    assert not missing, f"operations without @roles: {missing}"
    unknown = {r for _, _, op in OPERATIONS for r in op["x-roles"]} - set(ALL_ROLES)
    assert not unknown


# Changes that apply beyond any one facility, decided in supply_app.auth.permissions: only
# a user who holds every facility makes them.
#
# Payers and their fee tables are global changes: one payer prices every facility's cases,
# so creating one, changing its terms or replacing its fee table needs every facility
# (PAYERS_ARE_GLOBAL). Equipment costs are NOT: a facility's figure and its handpieces'
# figures cost only that facility's cases, so finance or an admin holding that facility
# sets them (they are facility-scoped: another facility's figures answer 404).
EVERY_FACILITY_OPERATIONS = {
    ("post", "/api/v1/contract-prices"),
    ("put", "/api/v1/fee-schedules/{year}/overrides/{code}/{site}"),
    ("delete", "/api/v1/fee-schedules/{year}/overrides/{code}/{site}"),
    ("post", "/api/v1/facilities"),
    ("post", "/api/v1/payers"),
    ("patch", "/api/v1/payers/{payer_id}"),
    ("put", "/api/v1/payers/{payer_id}/fees"),
    ("post", "/api/v1/recalls/{recall_id}/release"),
}
FACILITY_SCOPED_COSTS = {
    ("get", "/api/v1/facilities/{facility_id}/equipment-costs"),
    ("put", "/api/v1/facilities/{facility_id}/equipment-costs"),
    ("post", "/api/v1/facilities/{facility_id}/equipment-costs/remove"),
}


def test_the_global_changes_are_the_decided_ones():
    """x-every-facility marks exactly the changes that reach every facility."""
    marked = {(m, p) for m, p, op in OPERATIONS if op.get("x-every-facility")}
    assert marked == EVERY_FACILITY_OPERATIONS


def test_equipment_costs_are_per_facility_not_global():
    """Equipment figures are a facility's own: scoped by the path, never x-every-facility."""
    found = {(m, p): op for m, p, op in OPERATIONS if (m, p) in FACILITY_SCOPED_COSTS}
    assert set(found) == FACILITY_SCOPED_COSTS
    assert not any(op.get("x-every-facility") for op in found.values())
    assert all(path in {p for _, p, _ in SCOPED} for _, path in FACILITY_SCOPED_COSTS)


GLOBAL_BY_ROLE = [
    (m, p, op, role)
    for m, p, op in OPERATIONS
    if (m, p) in EVERY_FACILITY_OPERATIONS
    for role in op["x-roles"]
]


@pytest.mark.parametrize(
    ("method", "path", "operation", "role"),
    GLOBAL_BY_ROLE,
    ids=[f"{m.upper()} {p}-{r}" for m, p, _, r in GLOBAL_BY_ROLE],
)
def test_a_global_change_needs_every_facility(world, method, path, operation, role):
    """A role allowed the change but holding one facility is refused before anything runs."""
    params = resolve_path(world, path, world["own"])
    body = {} if "requestBody" in operation else None
    response = send(world, world["actors"][role].token, method, path, params, body=body)
    assert response.status_code == 403, response.get_data()[:300]
    assert response.json["detail"].startswith(operation["x-every-facility"])


def test_every_path_parameter_is_classified():
    """Each path parameter is known to belong to a facility or to be shared."""
    names = {name for _, path, _ in OPERATIONS for name in path_parameters(path)}
    assert names <= set(FACILITY_OWNED) | set(SHARED), names - set(FACILITY_OWNED) - set(SHARED)


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=_ids(OPERATIONS))
def test_no_or_bad_token_is_401(world, method, path, operation):
    """Without a valid bearer token nothing but health answers."""
    params = resolve_path(world, path, world["own"])
    assert send(world, None, method, path, params).status_code == 401
    assert send(world, "sat_forged", method, path, params).status_code == 401


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=_ids(OPERATIONS))
def test_role_matrix_own_facility(world, method, path, operation, role):
    """Roles in x-roles get past the guard at their own facility; others get 403."""
    params = resolve_path(world, path, world["own"])
    body = {} if "requestBody" in operation else None
    response = send(world, world["actors"][role].token, method, path, params, body=body)
    if role in operation["x-roles"]:
        assert response.status_code != 401
        assert not is_role_refusal(response), response.json
        if response.status_code < 300 and response.is_json:
            assert not mentions_facility(response.json, world["other"])
    else:
        assert is_role_refusal(response), (response.status_code, response.get_data()[:300])


SCOPED = [
    op
    for op in OPERATIONS
    if set(path_parameters(op[1])) & set(FACILITY_OWNED)
    or any(p["name"] in FACILITY_FIELDS for p in op[2].get("parameters", []))
    or "facility_id"
    in str(op[2].get("requestBody", {}).get("content", {}).get("application/json", {}))
]


SCOPED_BY_ROLE = [(*op, role) for op in SCOPED for role in op[2]["x-roles"]]


@pytest.mark.parametrize(
    ("method", "path", "operation", "role"),
    SCOPED_BY_ROLE,
    ids=[f"{m.upper()} {p}-{r}" for m, p, _, r in SCOPED_BY_ROLE],
)
def test_other_facility_is_404(world, method, path, operation, role):
    """Valid input aimed at a facility the caller does not belong to answers 404.

    Only roles the operation admits are tried; the others are refused before any lookup.
    """
    token = world["actors"][role].token
    statuses = []
    for case in schema_valid_cases(world, method, path, world["other"]):
        response = send(
            world,
            token,
            method,
            path,
            case.path_parameters,
            query=present(case.query),
            body=present(case.body),
        )
        statuses.append(response.status_code)
        if response.status_code == 422 and response.json["type"] == "about:blank":
            continue  # refused by request validation before anything was looked up
        if response.status_code == 200 and method == "get" and lists_by_filter(path):
            # A list filtered to another facility may come back without its rows.
            assert not mentions_facility(response.json, world["other"])
            return
        assert response.status_code == 404, (response.status_code, response.get_data()[:400])
        return
    pytest.fail(f"no example got past request validation: {statuses}")


def lists_by_filter(path: str) -> bool:
    """A list whose facility is a filter, not part of the path."""
    return not set(path_parameters(path)) & set(FACILITY_OWNED)
