"""Every "today" is the facility's own: the clock pinned where the calendars disagree.

At 22:30 UTC on 15 June it is already 08:30 on 16 June in Guam (UTC+10) and 00:30 on the
16th in Germany (UTC+2 in summer), while in California (UTC-7) it is 15:30 on the 15th.
Expiry, "date of service not in the future", the filing warning, alerts, burn windows, the
Julian date of a document number and the dates shown in the UI all follow the facility.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.ordering.service import julian_date
from tests.support.factories import make_actor, make_facility, price_part, sync_parts

# 22:30 UTC on 15 June 2026: the 16th in Guam and Berlin, the 15th in California and UTC.
EVENING_UTC = datetime(2026, 6, 15, 22, 30, tzinfo=UTC)
JUNE_15, JUNE_16 = date(2026, 6, 15), date(2026, 6, 16)


@pytest.fixture
def sites(app, clock):
    """A facility in Guam, one in Germany and one in California, each holding stock."""
    clock.at(EVENING_UTC)
    parts = sync_parts(app)
    for part in parts.values():
        price_part(part, 100_000)
    facilities = {
        "guam": make_facility(time_zone="Pacific/Guam", dodaac="GUAM01"),
        "germany": make_facility(time_zone="Europe/Berlin", dodaac="LRMC01"),
        "california": make_facility(time_zone="America/Los_Angeles", dodaac="SDNM01"),
    }
    tip = parts["STT2190-5"]
    for facility in facilities.values():
        # A lot whose last good day is the 15th: expired in Guam and Germany, not California.
        inventory.receive(
            db.session,
            facility=facility,
            part=tip,
            lot_number=f"LAST-{facility.code}",
            expiry_date=JUNE_15,
            eaches=5,
            value_cents=5_000,
            actor=None,
            reason="opening_balance",
            on_date=date(2026, 6, 1),
        )
    db.session.commit()
    clinician = make_actor(app, "clinician", list(facilities.values()))
    purchaser = make_actor(app, "purchaser", list(facilities.values()))
    approver = make_actor(app, "purchaser", list(facilities.values()))
    return {
        "facilities": facilities,
        "tip": tip,
        "clinician": clinician,
        "purchaser": purchaser,
        "approver": approver,
        "clock": clock,
    }


def test_each_facility_has_its_own_today(sites):
    """The same instant is the 16th in Guam and Germany and the 15th in California."""
    f = sites["facilities"]
    assert f["guam"].today() == JUNE_16
    assert f["germany"].today() == JUNE_16
    assert f["california"].today() == JUNE_15


def _case(facility, day: date, tip_lot=None) -> dict:
    body = {
        "facility_id": facility.id,
        "reference": f"TZ-{facility.code}-{day.isoformat()}",
        "date_of_service": day.isoformat(),
        "laterality": "RT",
        "procedures": [{"code": "64640", "nerves": ["afcn"]}],
    }
    if tip_lot is not None:
        body["supplies"] = [{"part_id": tip_lot.part_id, "lot_id": tip_lot.id, "eaches": 1}]
    return body


def test_a_case_dated_today_in_guam_is_not_in_the_future(sites):
    """Guam's 16th is today there though UTC is still on the 15th; California's is not."""
    clinician, f = sites["clinician"], sites["facilities"]
    guam = clinician.post("/api/v1/cases", json=_case(f["guam"], JUNE_16))
    assert guam.status_code == 201, guam.json
    california = clinician.post("/api/v1/cases", json=_case(f["california"], JUNE_16))
    assert california.status_code == 422
    assert "after today at" in california.json["detail"]
    assert "2026-06-15" in california.json["detail"]


def test_a_lot_past_its_last_day_in_guam_cannot_be_used_there_but_can_in_california(sites):
    """Expiry is judged on the facility's date: the 15th is gone in Guam and Germany."""
    clinician, f = sites["clinician"], sites["facilities"]
    for name, expected in (("guam", 409), ("germany", 409), ("california", 201)):
        facility = f[name]
        lot = inventory.find_lot(db.session, part=sites["tip"], lot_number=f"LAST-{facility.code}")
        response = clinician.post(
            "/api/v1/cases", json=_case(facility, facility.today(), tip_lot=lot)
        )
        assert response.status_code == expected, (name, response.json)
        if expected == 409:
            assert response.json["type"] == "/problems/lot-expired"


def test_stock_pages_count_days_to_expiry_from_the_facilitys_date(sites):
    """days_to_expiry and alerts: -1 (expired) in Guam, 0 (last day) in California."""
    clinician, f = sites["clinician"], sites["facilities"]
    guam = clinician.get(f"/api/v1/facilities/{f['guam'].id}/stock").json["items"][0]
    california = clinician.get(f"/api/v1/facilities/{f['california'].id}/stock").json["items"][0]
    assert (guam["days_to_expiry"], guam["expired"]) == (-1, True)
    assert (california["days_to_expiry"], california["expired"]) == (0, False)
    kinds = {
        name: {a["kind"] for a in inventory.alerts(db.session, f[name])}
        for name in ("guam", "california")
    }
    assert kinds == {"guam": {"expired"}, "california": {"expiring"}}


def test_document_numbers_carry_the_facilitys_julian_date(sites):
    """An order submitted at 08:30 in Guam is numbered with Guam's day 167, not UTC's 166."""
    purchaser, f = sites["purchaser"], sites["facilities"]
    numbers = {}
    for name in ("guam", "california"):
        order = purchaser.post(
            "/api/v1/orders",
            json={
                "facility_id": f[name].id,
                "fund_code": "2F",
                "priority": "05",
                "required_delivery_date": (f[name].today() + timedelta(days=20)).isoformat(),
                "lines": [{"part_number": "CRX2111-10", "packs": 1}],
            },
        ).json
        submitted = purchaser.post(f"/api/v1/orders/{order['id']}/submit")
        assert submitted.status_code == 200, submitted.json
        numbers[name] = submitted.json["document_number"]
    assert numbers["guam"] == f"GUAM01{julian_date(JUNE_16)}0001"
    assert numbers["california"] == f"SDNM01{julian_date(JUNE_15)}0001"
    assert julian_date(JUNE_16) == "6167"


def test_a_delivery_date_of_guams_yesterday_is_refused_there(sites):
    """The required delivery date may not be before the facility's today."""
    purchaser, f = sites["purchaser"], sites["facilities"]
    body = {
        "fund_code": "2F",
        "priority": "05",
        "required_delivery_date": JUNE_15.isoformat(),
        "lines": [{"part_number": "CRX2111-10", "packs": 1}],
    }
    guam = purchaser.post("/api/v1/orders", json={**body, "facility_id": f["guam"].id})
    assert guam.status_code == 422, guam.json
    california = purchaser.post("/api/v1/orders", json={**body, "facility_id": f["california"].id})
    assert california.status_code == 201, california.json


def test_early_morning_in_germany_in_winter(app, clock):
    """00:30 on 1 January in Berlin (UTC+1) is still 31 December in UTC."""
    clock.at(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    berlin = make_facility(time_zone="Europe/Berlin")
    assert berlin.today() == date(2027, 1, 1)
    assert julian_date(berlin.today()) == "7001"


def test_burn_rate_windows_begin_at_the_facilitys_midnight(sites):
    """An issue at 08:00 Guam time on the 16th counts for 'since the 16th' there."""
    f = sites["facilities"]
    sites["clock"].at(datetime(2026, 6, 15, 22, 0, tzinfo=UTC))  # 08:00 on the 16th in Guam
    lot = inventory.receive(
        db.session,
        facility=f["guam"],
        part=sites["tip"],
        lot_number="BURN-1",
        expiry_date=date(2027, 1, 1),
        eaches=4,
        value_cents=4_000,
        actor=None,
        reason="opening_balance",
    ).lot
    inventory.issue(db.session, facility=f["guam"], lot=lot, eaches=2, actor=None)
    db.session.commit()
    assert inventory.issued_eaches_by_part(db.session, f["guam"], JUNE_16) == {sites["tip"].id: 2}


def test_the_ui_shows_times_in_the_facilitys_zone(sites, app):
    """The movement history shows Guam's wall clock (ChST), not UTC."""
    from tests.support.web import sign_in

    f = sites["facilities"]
    browser = sign_in(app, "materials", [f["guam"]])
    html = browser.get(f"/stock/movements?facility={f['guam'].id}").get_data(as_text=True)
    assert "ChST" in html
    assert "UTC" not in html.split("<main", 1)[1]
