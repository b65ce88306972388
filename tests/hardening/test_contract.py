"""Hostile input: every API operation fuzzed against the OpenAPI spec it publishes.

Each operation gets positive (schema-valid) and negative (schema-violating) examples, some
aimed at ids that exist in the demo data, and every response must be a non-5xx that matches
the documented status codes, media type, headers and body schema. SUPPLY_FUZZ_EXAMPLES sets
the examples per operation (bench/fuzz.py runs the long version).
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.spec import (
    operation_ids,
    operations,
    path_parameters,
    published_spec,
    throwaway_app,
)

EXAMPLES = int(os.environ.get("SUPPLY_FUZZ_EXAMPLES", "12"))
# Stateful scenarios follow the links schemathesis infers between operations (an id from
# one response used as a path parameter of the next): create, then read, change, act on it.
SCENARIOS = int(os.environ.get("SUPPLY_FUZZ_SCENARIOS", "15"))
# The suite replays the same per-operation examples every run so CI cannot fail by chance;
# the long run (bench/fuzz.py, which sets SUPPLY_FUZZ_EXAMPLES) explores fresh random ones.
# Stateful runs stay random and run only in the long run: their rules depend on what
# earlier steps created, which hypothesis cannot replay exactly (FlakyStrategyDefinition).
FIXED_EXAMPLES = "SUPPLY_FUZZ_EXAMPLES" not in os.environ
# Small ids exist in the demo data (facilities 1-3, the six parts, demo orders and cases),
# so some examples reach real rows instead of only 404s.
KNOWN_IDS = (1, 2, 3)


@pytest.fixture(scope="module")
def api_schema(seeded_app):
    """The live spec of the seeded app, called in-process."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", seeded_app)


def case_strategy(operation, path: str):
    """Positive and negative cases, plus positive ones aimed at existing ids."""
    names = path_parameters(path)
    choices = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    choices += [
        operation.as_strategy(path_parameters=dict.fromkeys(names, known))
        for known in (KNOWN_IDS if names else ())
    ]
    return st.one_of(choices)


# marshmallow's own per-field messages: input the published JSON Schema allows should never
# earn one. Cross-field rules (an end date before a start date) carry our own wording and
# are legitimate refusals that JSON Schema cannot express.
SCHEMA_LAYER_MESSAGE = re.compile(
    r"^(Not a valid|Missing data for required|Unknown field|Field may not be null|"
    r"Length must|Shorter than|Longer than|Must be (greater|less|between|one of)|"
    r"String does not match|Number too large|Invalid (input type|value))"
)


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in _messages(value)]
    return []


def schema_valid_input_passes_schema_layer(ctx: CheckContext, response, case) -> None:
    """Schema-valid input may break a business rule, never a per-field rule of our schemas.

    Replaces schemathesis' positive_data_acceptance, which would also fail documented
    domain refusals (a 422 /problems/... or a cross-field rule).
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code != 422:
        return
    body = response.json()
    offending = [m for m in _messages(body.get("errors")) if SCHEMA_LAYER_MESSAGE.match(m)]
    if offending and not body.get("type", "").startswith("/problems/"):
        raise RejectedPositiveData(
            operation=case.operation.label,
            message="Input valid under the published schema failed request validation: "
            f"{body.get('errors')}",
            status_code=422,
            allowed_statuses=["2xx", "4xx domain problems"],
        )


@pytest.mark.parametrize(("method", "path"), [op[:2] for op in operations()], ids=operation_ids())
def test_operation_conforms(api_schema, admin_token, method, path):
    """No 5xx, and every response matches its documented status, media type and schema."""
    operation = api_schema[path][method.upper()]
    headers = {"Authorization": f"Bearer {admin_token}"}

    @given(case=case_strategy(operation, path))
    @settings(
        max_examples=EXAMPLES,
        derandomize=FIXED_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.call_and_validate(
            headers=headers,
            excluded_checks=[positive_data_acceptance],
            additional_checks=[schema_valid_input_passes_schema_layer],
        )

    if method == "get":
        # Plain reads of rows that exist (no filters), so real data meets the response
        # schema every time, not only when the fuzzer happens to pick a small id.
        names = path_parameters(path)
        for known in KNOWN_IDS if names else (None,):
            plain = operation.Case(path_parameters=dict.fromkeys(names, known))
            plain.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
    fuzz()


@pytest.mark.skipif(
    FIXED_EXAMPLES,
    reason="stateful chains depend on what earlier steps created, so hypothesis cannot replay "
    "them exactly; they run in the long fuzz (bench/fuzz.py), not in CI",
)
def test_stateful_workflows_conform(api_schema, admin_token):
    """Chains of calls that feed each response's ids into the next request hold the contract."""
    headers = {"Authorization": f"Bearer {admin_token}"}

    class Workflow(api_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                headers=headers,
                excluded_checks=[positive_data_acceptance],
                additional_checks=[schema_valid_input_passes_schema_layer],
                transport_kwargs=kwargs,
            )

    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


TYPED_KEYWORDS = ("type", "$ref", "enum", "const", "allOf", "anyOf", "oneOf")


def untyped_inputs() -> list[str]:
    """Request fields and parameters the spec leaves untyped (so any JSON value is 'valid')."""
    schemas = published_spec()["components"]["schemas"]
    found: list[str] = []

    def walk(schema: dict[str, Any], where: str, seen: set[str]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(schemas[name], name, {*seen, name})
            return
        for key, prop in schema.get("properties", {}).items():
            if not any(k in prop for k in TYPED_KEYWORDS):
                found.append(f"{where}.{key}")
            walk(prop, f"{where}.{key}", seen)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{where}[]", seen)

    for method, path, operation in operations():
        content = operation.get("requestBody", {}).get("content", {})
        for media in content.values():
            walk(media.get("schema", {}), f"{method.upper()} {path}", set())
        for parameter in operation.get("parameters", []):
            if not any(k in parameter.get("schema", {}) for k in TYPED_KEYWORDS):
                found.append(f"{method.upper()} {path} ?{parameter['name']}")
    return found


def test_every_input_field_declares_its_type():
    """An untyped input field lets clients (and fuzzers) send anything the spec calls valid."""
    assert not untyped_inputs()


def test_no_two_views_share_a_route():
    """One view per (path, method): with two, one serves and the other may be documented."""
    duplicates = []
    with throwaway_app() as app:
        seen: dict[tuple[str, str], str] = {}
        for rule in app.url_map.iter_rules():
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                key = (rule.rule, method)
                if key in seen:
                    duplicates.append(f"{method} {rule.rule}: {seen[key]} and {rule.endpoint}")
                seen[key] = rule.endpoint
    assert not duplicates
