"""Returns to the vendor: the RGA's 30 days in the facility's calendar, moving-average value,
the order line it credits, credit expected until recorded, the ledger and verify."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from supply_app.inventory import service
from tests.support.factories import make_actor, make_facility
from tests.support.inventory import balance, stock


def rga(**overrides):
    """A return body: 4 eaches under RGA-1 dated today."""
    return {"eaches": 4, "rga_number": "RGA-1", "rga_date": date.today().isoformat(), **overrides}


def test_return_leaves_at_average_cost_and_is_credit_expected(world):
    """Value at moving average; listed with credit expected; in the ledger; verify is clean."""
    tips = world.parts["STT2309-5"]
    lot = stock(world.facility, tips, 3, 1_000, "AVG-1")  # 333.33.. cents an each
    url = f"/api/v1/facilities/{world.facility.id}/vendor-returns"
    response = world.materials.post(url, json=rga(lot_id=lot.id, eaches=2, note="cracked seal"))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["credit"] == "6.67"  # half-up share of 10.00 for 2 of 3
    assert body["credit_status"] == "expected"
    assert body["movement"]["kind"] == "return_to_vendor"
    assert body["movement"]["rga_number"] == "RGA-1"
    assert body["order_line_id"] is None
    assert balance(world.facility, lot) == (1, 333)
    listed = world.viewer.get(url + "?credit=expected").json
    assert listed["credit_expected"] == "6.67"
    assert [r["id"] for r in listed["items"]] == [body["id"]]
    ledger = world.viewer.get(
        f"/api/v1/facilities/{world.facility.id}/movements?kind=return_to_vendor"
    ).json
    assert [m["rga_date"] for m in ledger["items"]] == [date.today().isoformat()]
    assert service.verify(db.session) == []
    result = world.admin.client.application.test_cli_runner().invoke(args=["inventory", "verify"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("age", "ok"), [(30, True), (31, False)])
def test_rga_is_good_for_30_days(world, age, ok):
    """30 days old is fine; 31 is a 422 rga-expired on rga_date, and nothing moves."""
    lot = stock(world.facility, world.parts["STT2309-5"], 10, 2_500, "AGE-1")
    old = (date.today() - timedelta(days=age)).isoformat()
    response = world.materials.post(
        f"/api/v1/facilities/{world.facility.id}/vendor-returns",
        json=rga(lot_id=lot.id, rga_date=old),
    )
    if ok:
        assert response.status_code == 201, response.json
        return
    assert response.status_code == 422
    assert response.json["type"] == "/problems/rga-expired"
    assert "rga_date" in response.json["errors"]["json"]
    assert response.json["rga_age_days"] == 31
    assert balance(world.facility, lot) == (10, 2_500)


def test_rga_age_counts_in_the_facility_calendar(world, clock):
    """At 23:30 UTC it is already the next day in Guam: the same RGA is then 31 days old."""
    world.facility.time_zone = "Pacific/Guam"
    db.session.commit()
    clock.at(datetime(2026, 7, 1, 12, tzinfo=UTC))
    lot = stock(world.facility, world.parts["STT2309-5"], 10, 2_500, "GUAM-1")
    url = f"/api/v1/facilities/{world.facility.id}/vendor-returns"
    body = rga(lot_id=lot.id, eaches=1, rga_date="2026-06-01")
    clock.at(datetime(2026, 7, 1, 13, 30, tzinfo=UTC))  # 23:30 on 1 July in Guam
    assert world.materials.post(url, json=body).status_code == 201
    clock.at(datetime(2026, 7, 1, 14, 30, tzinfo=UTC))  # 00:30 on 2 July in Guam
    late = world.materials.post(url, json=body)
    assert late.status_code == 422
    assert late.json["type"] == "/problems/rga-expired"
    future = world.materials.post(url, json=rga(lot_id=lot.id, rga_date="2026-07-03"))
    assert future.status_code == 422
    assert "after today" in future.json["detail"]


def test_return_links_the_order_line_that_received_the_lot(world):
    """The latest line whose receipt brought the lot in is credited; another line is refused."""
    order = world.approved({"CRX2111-10": 2, "STT2309-5": 1})
    line = {ln["part_number"]: ln["id"] for ln in order["lines"]}
    expiry = (date.today() + timedelta(days=400)).isoformat()
    received = world.materials.post(
        f"/api/v1/orders/{order['id']}/receipts",
        json={
            "lines": [
                {
                    "line_id": line["CRX2111-10"],
                    "packs": 2,
                    "lot_number": "C-9",
                    "expiry_date": expiry,
                }
            ]
        },
    )
    assert received.status_code == 201, received.json
    lot = service.find_lot(db.session, part=world.parts["CRX2111-10"], lot_number="C-9")
    url = f"/api/v1/facilities/{world.facility.id}/vendor-returns"
    wrong = world.materials.post(url, json=rga(lot_id=lot.id, order_line_id=line["STT2309-5"]))
    assert wrong.status_code == 422
    assert "did not bring" in wrong.json["detail"]
    done = world.materials.post(url, json=rga(lot_id=lot.id, eaches=10))
    assert done.status_code == 201, done.json
    assert done.json["order_line_id"] == line["CRX2111-10"]
    assert done.json["movement"]["reference_type"] == "order_line"
    assert done.json["credit"] == "300.07"  # one pack at the line's price


def test_credit_is_recorded_once_and_a_credited_return_stands(world):
    """Credit: audited, once, within dates; a credited return cannot be reversed."""
    lot = stock(world.facility, world.parts["STT2309-5"], 10, 2_500, "CR-1")
    made = world.materials.post(
        f"/api/v1/facilities/{world.facility.id}/vendor-returns", json=rga(lot_id=lot.id)
    ).json
    credit = f"/api/v1/vendor-returns/{made['id']}/credit"
    assert world.materials.post(credit, json={}).status_code == 403  # not a credit recorder
    early = world.admin.post(
        credit,
        json={"credit_memo": "CM-1", "credited_on": (date.today() - timedelta(days=1)).isoformat()},
    )
    assert early.status_code == 422
    ok = world.purchaser.post(
        credit, json={"credit_memo": "CM-1", "credited_on": date.today().isoformat()}
    )
    assert ok.status_code == 200, ok.json
    assert ok.json["credit_status"] == "credited"
    again = world.admin.post(
        credit, json={"credit_memo": "CM-2", "credited_on": date.today().isoformat()}
    )
    assert again.status_code == 409
    reverse = world.materials.post(
        f"/api/v1/movements/{made['movement']['id']}/reverse", json={"reason": "mistake"}
    )
    assert reverse.status_code == 409
    assert "credited" in reverse.json["detail"]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "vendor_return.credit"))
    assert audit.after["credit_cents"] == 1_000


def test_returns_are_scoped_and_short_stock_refused(app, world):
    """Another facility's return is a 404; more than on hand is a 409 and nothing moves."""
    lot = stock(world.facility, world.parts["STT2309-5"], 2, 500, "SC-1")
    url = f"/api/v1/facilities/{world.facility.id}/vendor-returns"
    short = world.materials.post(url, json=rga(lot_id=lot.id, eaches=3))
    assert short.status_code == 409
    assert short.json["type"] == "/problems/insufficient-stock"
    made = world.materials.post(url, json=rga(lot_id=lot.id, eaches=1)).json

    stranger = make_actor(app, "finance", [make_facility()])
    assert stranger.get(url).status_code == 404
    denied = stranger.post(
        f"/api/v1/vendor-returns/{made['id']}/credit",
        json={"credit_memo": "X", "credited_on": date.today().isoformat()},
    )
    assert denied.status_code == 404
