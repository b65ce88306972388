"""ECAT export: CSV and JSON carry the same lines and totals, and parse back exactly."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from supply_app.ordering.ecat import ECAT_COLUMNS
from supply_app.ordering.service import julian_date
from tests.ordering.conftest import PRICES
from tests.support.factories import make_actor


def parse_csv(text: str) -> list[dict[str, str]]:
    """Rows of an ECAT CSV."""
    assert text.startswith("\ufeff"), "the file starts with a byte-order mark for Excel"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_csv_and_json_hold_every_ecat_field(world):
    """Contract, part, description, UI, quantity, prices, document, DoDAAC, fund, priority, RDD."""
    order = world.approved({"STT2309-5": 3, "CRX2111-10": 12, "IST2221": 1})
    response = world.viewer.get(f"/api/v1/orders/{order['id']}/ecat.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert order["document_number"] in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines()[0].split(",") == ["\ufeff" + ECAT_COLUMNS[0], *ECAT_COLUMNS[1:]]
    rows = parse_csv(text)
    as_json = world.viewer.get(f"/api/v1/orders/{order['id']}/ecat").json
    assert rows == [{k: str(v) for k, v in line.items()} for line in as_json["lines"]]
    by_part = {row["part_number"]: row for row in rows}
    cartridges = by_part["CRX2111-10"]
    assert cartridges == {
        "contract_number": "SPE2DE-21-D-7004",
        "document_number": f"W81XWH{julian_date(date.today())}0001",
        "ship_to_dodaac": "W81XWH",
        "fund_code": "2F",
        "priority": "05",
        "required_delivery_date": order["required_delivery_date"],
        "line_number": cartridges["line_number"],
        "part_number": "CRX2111-10",
        "description": "Gen 2, iovera° Cartridges, 10-pack",
        "unit_of_issue": "PK",
        "units_per_pack": "10",
        "quantity": "12",
        "unit_price": "300.07",
        "extended_price": "3600.84",
    }
    assert by_part["IST2221"]["unit_of_issue"] == "EA"


def test_csv_parses_back_to_the_order(world):
    """Quantities, prices and the total recomputed from the CSV equal the order's."""
    order = world.approved({"STT2190-5": 7, "STT2309-5": 1, "CRX2111-10": 999})
    text = world.viewer.get(f"/api/v1/orders/{order['id']}/ecat.csv").get_data(as_text=True)
    rows = parse_csv(text)
    assert {r["part_number"]: int(r["quantity"]) for r in rows} == {
        line["part_number"]: line["packs"] for line in order["lines"]
    }
    for row in rows:
        assert Decimal(row["unit_price"]) * int(row["quantity"]) == Decimal(row["extended_price"])
        assert int(Decimal(row["unit_price"]) * 100) == PRICES[row["part_number"]]
    total = sum(Decimal(r["extended_price"]) for r in rows)
    assert total == Decimal(order["total"])
    assert Decimal(world.viewer.get(f"/api/v1/orders/{order['id']}/ecat").json["total"]) == total


@pytest.mark.parametrize("stage", ["draft", "cancelled"])
def test_drafts_and_cancelled_orders_are_not_exported(world, stage):
    """No prices or document number yet, or a dead order: 409 naming the state."""
    order = world.draft({"STT2190-5": 1})
    if stage == "cancelled":
        world.purchaser.post(f"/api/v1/orders/{order['id']}/cancel", json={})
    for suffix in ("ecat", "ecat.csv"):
        response = world.viewer.get(f"/api/v1/orders/{order['id']}/{suffix}")
        assert response.status_code == 409
        assert response.mimetype == "application/problem+json"
        assert response.json["current_state"] == stage


def test_export_of_another_facility_is_404(app, world):
    """The CSV is scoped like the order."""
    from tests.support.factories import make_facility

    order = world.approved({"STT2190-5": 1})
    outsider = make_actor(app, "finance", [make_facility()])
    assert outsider.get(f"/api/v1/orders/{order['id']}/ecat.csv").status_code == 404
