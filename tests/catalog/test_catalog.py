"""Catalog file validation, idempotent sync, search and contract prices."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from supply_app.auth.models import AuditEvent
from supply_app.catalog.models import ContractPrice, Part
from supply_app.catalog.service import price_in_effect
from supply_app.extensions import db
from tests.support.factories import make_actor, make_facility, price_part, sync_parts

EXPECTED = {
    "IST2221": ("handpiece_system", 1, "EA", False),
    "STT2309-5": ("smart_tip", 5, "PK", False),
    "STT2190-5": ("smart_tip", 5, "PK", False),
    "CRX2111-10": ("cartridge", 10, "PK", False),
    "STT2190STIM-5": ("smart_tip", 5, "PK", True),
    "STT21180STIM-5": ("smart_tip", 5, "PK", True),
}


def test_catalog_file_holds_the_six_ecat_parts(app):
    """The shipped file matches the source page: six parts on SPE2DE-21-D-7004."""
    with open(app.config["CATALOG_PATH"], encoding="utf-8") as handle:
        document = json.load(handle)
    parts = {p["part_number"]: p for p in document["parts"]}
    assert set(parts) == set(EXPECTED)
    for number, (category, units, uoi, stim) in EXPECTED.items():
        assert (
            parts[number]["category"],
            parts[number]["units_per_pack"],
            parts[number]["unit_of_issue"],
            parts[number]["nerve_stimulation"],
        ) == (category, units, uoi, stim)
        assert parts[number]["contract_number"] == "SPE2DE-21-D-7004"
        assert parts[number]["contract_vehicle"] == "ECAT"
        assert parts[number]["gtins"] == []
    assert parts["STT2309-5"]["tip_spec"] == "3 x 8.5 mm per Smart Tip"
    assert parts["STT2190-5"]["tip_spec"] == "1 x .90 mm per Smart Tip"


def test_sync_twice_reports_no_change(app):
    """The CLI sync creates six parts, and a second run says nothing changed."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["catalog", "sync"])
    assert first.exit_code == 0, first.output
    assert "6 created" in first.output
    second = runner.invoke(args=["catalog", "sync"])
    assert second.exit_code == 0
    assert "catalog unchanged" in second.output
    assert db.session.scalar(select(func.count()).select_from(Part)) == 6


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["parts"][2].__setitem__("units_per_pack", 0),
            "parts[2] (STT2190-5): units_per_pack",
        ),
        (lambda d: d["parts"][1].pop("category"), "parts[1] (STT2309-5): category"),
        (
            lambda d: d["parts"][3].__setitem__("category", "widget"),
            "parts[3] (CRX2111-10): category",
        ),
        (lambda d: d["parts"][4].__setitem__("extra", 1), "parts[4] (STT2190STIM-5): extra"),
        (
            lambda d: d["parts"][0].__setitem__("contract_number", "X"),
            "parts[0] (IST2221): contract_number",
        ),
        (
            lambda d: d["parts"][5].__setitem__("part_number", "IST2221"),
            "parts[5] (IST2221): part_number",
        ),
        (
            lambda d: d["parts"][1].__setitem__("gtins", [{"gtin": "12ab", "units": 5}]),
            "parts[1] (STT2309-5): gtins",
        ),
    ],
)
def test_corrupted_file_is_refused_and_nothing_changes(app, tmp_path, mutate, expected):
    """A bad record stops the sync, naming record and field; the database is untouched."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["catalog", "sync"]).exit_code == 0
    with open(app.config["CATALOG_PATH"], encoding="utf-8") as handle:
        document = json.load(handle)
    document["parts"][0]["description"] = "changed, and must not be written"
    mutate(document)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(args=["catalog", "sync", "--file", str(bad)])
    assert result.exit_code != 0
    assert expected in result.output
    db.session.expire_all()
    descriptions = set(db.session.scalars(select(Part.description)))
    assert "changed, and must not be written" not in descriptions


def test_unreadable_json_is_refused(app, tmp_path):
    """Broken JSON exits non-zero with a message."""
    bad = tmp_path / "broken.json"
    bad.write_text("{not json", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["catalog", "sync", "--file", str(bad)])
    assert result.exit_code == 1
    assert "cannot read catalog JSON" in result.output


def test_sync_updates_and_deactivates(app, tmp_path):
    """A changed description updates; a part dropped from the file is deactivated."""
    runner = app.test_cli_runner()
    runner.invoke(args=["catalog", "sync"])
    with open(app.config["CATALOG_PATH"], encoding="utf-8") as handle:
        document = json.load(handle)
    document["parts"][1]["description"] = "Gen 2, iovera° 309 Smart Tips, 5-pack (rev)"
    document["parts"].pop()
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(args=["catalog", "sync", "--file", str(changed)])
    assert "1 updated, 1 deactivated" in result.output
    assert (
        db.session.scalar(select(Part.active).where(Part.part_number == "STT21180STIM-5")) is False
    )


def test_parts_api_lists_six_with_pack_sizes(app):
    """GET /parts returns the six parts with pack sizes, in a stable order."""
    sync_parts(app)
    viewer = make_actor(app, "viewer")
    body = viewer.get("/api/v1/parts").json
    assert body["meta"]["total"] == 6
    assert {p["part_number"]: p["units_per_pack"] for p in body["items"]} == {
        k: v[1] for k, v in EXPECTED.items()
    }
    search = viewer.get("/api/v1/parts?q=cartridge").json
    assert [p["part_number"] for p in search["items"]] == ["CRX2111-10"]
    tips = viewer.get("/api/v1/parts?category=smart_tip&per_page=2&page=2").json
    assert tips["meta"] == {"page": 2, "per_page": 2, "total": 4, "pages": 2}


def test_price_in_effect_follows_dates(app):
    """A later open-ended price ends the earlier one the day before it starts."""
    part = sync_parts(app)["STT2309-5"]
    price_part(part, 100_000, date(2026, 1, 1))
    price_part(part, 110_000, date(2026, 7, 1))
    assert price_in_effect(db.session, part.id, date(2026, 6, 30)).unit_price_cents == 100_000
    assert price_in_effect(db.session, part.id, date(2026, 7, 1)).unit_price_cents == 110_000
    assert price_in_effect(db.session, part.id, date(2025, 12, 31)) is None


def test_price_api_roles_validation_and_audit(app):
    """Finance and admins holding every facility set prices; others get 403 (a purchaser, and
    finance holding one facility: a contract price applies to every facility); overlaps 409;
    all audited."""
    part = sync_parts(app)["CRX2111-10"]
    setter = make_actor(app, "finance", all_facilities=True)
    body = {
        "part_id": part.id,
        "unit_price": "312.40",
        "effective_from": "2026-02-01",
        "effective_to": "2026-12-31",
    }
    created = setter.post("/api/v1/contract-prices", json=body)
    assert created.status_code == 201, created.json
    assert created.json["unit_price"] == "312.40"
    assert created.json["unit_price_per_each"] == "31.2400"
    overlap = setter.post("/api/v1/contract-prices", json={**body, "effective_from": "2026-03-01"})
    assert overlap.status_code == 409
    facility = make_facility()
    for role in ("clinician", "purchaser", "finance", "admin"):
        refused = make_actor(app, role, [facility]).post("/api/v1/contract-prices", json=body)
        assert refused.status_code == 403, (role, refused.json)
    bad = setter.post(
        "/api/v1/contract-prices", json={**body, "unit_price": "-1", "effective_to": "2025-01-01"}
    )
    assert bad.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(ContractPrice)) == 1
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "price.set")).all()
    assert len(audit) == 1
    assert audit[0].actor_id == setter.user.id
    assert audit[0].after["unit_price_cents"] == 31240
    on_date = setter.get(f"/api/v1/contract-prices?part_id={part.id}&on=2026-06-01").json
    assert [p["unit_price"] for p in on_date["items"]] == ["312.40"]


def test_prices_cli(app):
    """`supply-app prices set` stores a price and refuses a bad one."""
    sync_parts(app)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["prices", "set", "IST2221", "9999.99", "--from", "2026-01-01"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(args=["prices", "set", "IST2221", "12.345"])
    assert bad.exit_code == 2  # a usage error: the amount rule refuses it before any work
    assert "digits 0-9 and at most 2 decimals" in bad.output
    assert '"1250.00" (no $, %, commas or spaces)' in bad.output
    unknown = runner.invoke(args=["prices", "set", "NOPE", "1.00"])
    assert unknown.exit_code == 1
    assert make_facility() is not None
