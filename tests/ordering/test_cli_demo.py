"""The `supply-app orders` commands and the idempotent demo order."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.ordering.demo import DEMO_LINES, DEMO_ORDER_NOTE
from supply_app.ordering.models import PurchaseOrder
from tests.ordering.conftest import fresh


def test_demo_order_is_loaded_once(app):
    """`supply-app demo` twice leaves one approved demo order with a document number."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    ours = [
        [ln for ln in run.output.splitlines() if ln.startswith("Demo order")]
        for run in (first, second)
    ]
    assert len(ours[0]) == 1
    assert ours[1] == ours[0]
    fresh()
    orders = db.session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.notes == DEMO_ORDER_NOTE)
    ).all()
    assert len(orders) == 1
    (order,) = orders
    assert order.status == "approved"
    assert order.approved_by_id != order.submitted_by_id
    assert {line.part.part_number: line.packs for line in order.lines} == DEMO_LINES
    assert order.total_cents == sum(line.extended_cents for line in order.lines)


def test_export_command_prints_the_ecat_csv(app, world):
    """The CLI export is the same CSV as the API's; unknown numbers exit 1."""
    order = world.approved({"STT2190-5": 2})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["orders", "export", order["document_number"]])
    assert result.exit_code == 0, result.output
    api_csv = world.viewer.get(f"/api/v1/orders/{order['id']}/ecat.csv").get_data(as_text=True)
    assert list(csv.DictReader(io.StringIO(result.output))) == list(
        csv.DictReader(io.StringIO(api_csv))
    )
    missing = runner.invoke(args=["orders", "export", "W81XWH00000000"])
    assert missing.exit_code == 1
    assert "no order" in missing.output.lower()


def test_suggest_command_explains(app, world):
    """The CLI prints each par-level part with its packs and figures."""
    runner = app.test_cli_runner()
    code = world.facility.code
    assert "no par levels" in runner.invoke(args=["orders", "suggest", code]).output
    inventory.set_par_levels(
        db.session,
        facility=world.facility,
        levels=[{"part_id": world.parts["CRX2111-10"].id, "min_eaches": 5, "max_eaches": 25}],
        actor=None,
    )
    db.session.commit()
    result = runner.invoke(args=["orders", "suggest", code])
    assert result.exit_code == 0, result.output
    assert "CRX2111-10" in result.output
    assert "order    3 pack(s) =    30 eaches (900.21)" in result.output
    assert runner.invoke(args=["orders", "suggest", "NOPE"]).exit_code == 1
