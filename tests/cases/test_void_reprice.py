"""Voids reverse supplies and keep the record; overrides, reprice and what-if pricing."""

from __future__ import annotations

from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from tests.support.cases import case_body, counts, on_hand, receive_packs
from tests.support.factories import make_actor, make_facility, price_part, sync_parts

C9809_HOPD = "/api/v1/fee-schedules/2026/overrides/C9809/HOPD"


def _hopd_with_stock(app):
    parts = sync_parts(app)
    price_part(parts["STT2190-5"], 125_000)
    facility = make_facility("HOPD")
    tips = receive_packs(facility, parts["STT2190-5"], "TIP-V", 1)
    return facility, tips


def test_void_reverses_supplies_and_keeps_record(app):
    """Voiding puts the stock back, keeps the case (who/when/why) and cannot repeat."""
    facility, tips = _hopd_with_stock(app)
    clinician = make_actor(app, "clinician", [facility])
    body = case_body(facility, "V-1", supplies=[{"part_id": tips.part_id, "eaches": 2}])
    case = clinician.post("/api/v1/cases", json=body).json
    assert on_hand(facility, tips) == 3
    assert clinician.post(f"/api/v1/cases/{case['id']}/void", json={}).status_code == 422
    voided = clinician.post(f"/api/v1/cases/{case['id']}/void", json={"reason": "wrong knee"})
    assert voided.status_code == 200, voided.json
    assert voided.json["status"] == "voided"
    assert voided.json["void_reason"] == "wrong knee"
    assert voided.json["voided_by_id"] == clinician.user.id
    assert voided.json["voided_at"]
    assert voided.json["supply_cost"] == "0.00"
    assert on_hand(facility, tips) == 5
    rows = counts()
    again = clinician.post(f"/api/v1/cases/{case['id']}/void", json={"reason": "again"})
    assert again.status_code == 409
    assert counts() == rows
    assert clinician.get(f"/api/v1/cases/{case['id']}").json["status"] == "voided"


def test_void_by_other_facility_or_role(app):
    """Another facility's case is 404; finance may not void."""
    facility, _tips = _hopd_with_stock(app)
    clinician = make_actor(app, "clinician", [facility])
    case = clinician.post("/api/v1/cases", json=case_body(facility, "V-2")).json
    stranger = make_actor(app, "clinician", [make_facility("HOPD")])
    finance = make_actor(app, "finance", all_facilities=True)
    reason = {"reason": "test"}
    assert stranger.post(f"/api/v1/cases/{case['id']}/void", json=reason).status_code == 404
    assert finance.post(f"/api/v1/cases/{case['id']}/void", json=reason).status_code == 403


def test_override_audited_and_reprice_counts_changes(app):
    """Setting C9809 makes older cases stale; reprice updates them and says how many."""
    facility = make_facility("HOPD")
    clinician = make_actor(app, "clinician", [facility])
    finance = make_actor(app, "finance", all_facilities=True)
    with_device = case_body(
        facility,
        "P-1",
        procedures=[{"code": "64640", "nerves": ["afcn"]}, {"code": "C9809"}],
    )
    first = clinician.post("/api/v1/cases", json=with_device).json
    plain = clinician.post("/api/v1/cases", json=case_body(facility, "P-2")).json
    assert first["device_unpriced"] is True
    assert first["device_reimbursement"] is None
    assert first["medicare_benchmark"] == "1015.19"  # 903.63 + 111.56, device unpriced
    assert any("unpriced" in w for w in first["warnings"])

    assert (
        clinician.client.put(
            C9809_HOPD, json={"amount": "250.00"}, headers=clinician.headers()
        ).status_code
        == 403
    )
    put = finance.client.put(C9809_HOPD, json={"amount": "250.00"}, headers=finance.headers())
    assert put.status_code == 200, put.json
    assert put.json["amount"] == "250.00"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fee_override.set"))
    assert event.before is None
    assert event.after["amount"] == "250.00"
    assert event.actor_id == finance.user.id

    report = finance.get("/api/v1/reports/case-margin").json
    assert [row["stale_price"] for row in report["items"]] == [True, True]

    result = finance.post("/api/v1/cases/reprice", json={"year": 2026})
    assert result.status_code == 200, result.json
    assert (result.json["repriced"], result.json["changed"]) == (2, 1)
    repriced = finance.get(f"/api/v1/cases/{first['id']}").json
    assert repriced["device_reimbursement"] == "250.00"
    assert repriced["medicare_benchmark"] == "1265.19"
    assert repriced["reimbursement_complete"] is True
    assert (
        finance.get(f"/api/v1/cases/{plain['id']}").json["medicare_benchmark"]
        == (plain["medicare_benchmark"])
    )
    report = finance.get("/api/v1/reports/case-margin").json
    assert report["totals"]["stale_price_cases"] == 0
    again = finance.post("/api/v1/cases/reprice", json={})
    assert (again.json["repriced"], again.json["changed"]) == (0, 0)

    changed = finance.client.put(C9809_HOPD, json={"amount": "260.00"}, headers=finance.headers())
    assert changed.status_code == 200
    latest = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fee_override.set").order_by(AuditEvent.id)
    ).all()[-1]
    assert (latest.before["amount"], latest.after["amount"]) == ("250.00", "260.00")
    assert finance.client.delete(C9809_HOPD, headers=finance.headers()).status_code == 204
    assert finance.client.delete(C9809_HOPD, headers=finance.headers()).status_code == 404


def test_override_validation(app):
    """Only a code with a dollar amount at the site can be overridden; amounts are bounded."""
    finance = make_actor(app, "finance", all_facilities=True)
    put = finance.client.put
    headers = finance.headers()
    assert (
        put(
            "/api/v1/fee-schedules/2026/overrides/C9809/office",
            json={"amount": "10.00"},
            headers=headers,
        ).status_code
        == 422
    )
    assert (
        put(
            "/api/v1/fee-schedules/2031/overrides/C9809/HOPD",
            json={"amount": "10.00"},
            headers=headers,
        ).status_code
        == 404
    )
    assert put(C9809_HOPD, json={"amount": "-1"}, headers=headers).status_code == 422
    assert put(C9809_HOPD, json={"amount": "1.005"}, headers=headers).status_code == 422
    assert put(C9809_HOPD, json={"amount": "1e9"}, headers=headers).status_code == 422
    assert put(C9809_HOPD, json={"amount": "5", "extra": 1}, headers=headers).status_code == 422


def test_fee_schedules_read(app):
    """Schedules list every year with versions; the detail carries every figure and source."""
    viewer = make_actor(app, "viewer")
    listing = viewer.get("/api/v1/fee-schedules")
    assert listing.status_code == 200
    years = [item["year"] for item in listing.json["items"]]
    assert 2026 in years
    detail = viewer.get("/api/v1/fee-schedules/2026").json
    assert detail["schedule"]["codes"]["64640"]["systems"]["OPPS"]["payment"]["value"] == "903.63"
    assert detail["current_version"] == detail["published_version"]
    assert viewer.get("/api/v1/fee-schedules/1999").status_code == 404
    assert viewer.get("/api/v1/fee-schedules/2031").status_code == 404


def test_what_if_pricing_writes_nothing(app):
    """coding/price prices a hypothetical claim; errors name the field; nothing is stored."""
    viewer = make_actor(app, "viewer")
    before = counts()
    claim = {
        "site_of_service": "office",
        "cf_track": "qualifying_apm",
        "date_of_service": "2026-05-01",
        "laterality": "bilateral",
        "procedures": [
            {"code": "64624", "nerves": ["superolateral", "superomedial", "inferomedial"]}
        ],
    }
    priced = viewer.post("/api/v1/coding/price", json=claim)
    assert priced.status_code == 200, priced.json
    # 64624 non-facility 12.32 RVU × $33.5675 = $413.55, modifier 50 at 150% = $620.33.
    assert priced.json["priced"]["professional_total"] == "620.33"
    assert priced.json["priced"]["lines"][0]["modifiers"] == ["50"]
    bad = viewer.post("/api/v1/coding/price", json={**claim, "date_of_service": "2019-05-01"})
    assert bad.status_code == 422
    assert "date_of_service" in bad.json["errors"]["json"]
    two_sides = {**claim, "procedures": [{"code": "64640", "nerves": ["afcn", "lfcn"]}]}
    bad = viewer.post("/api/v1/coding/price", json=two_sides)
    assert bad.status_code == 422
    assert "procedures[0].units" in bad.json["errors"]["json"]
    both = viewer.post("/api/v1/coding/price", json={**claim, "facility_id": 1})
    assert both.status_code == 422
    assert counts() == before


def test_what_if_for_a_facility_uses_its_setting(app):
    """With facility_id the facility's site and CF track are used (404 for a stranger's)."""
    facility = make_facility("ASC", cf_track="qualifying_apm")
    member = make_actor(app, "viewer", [facility])
    stranger = make_actor(app, "viewer", [make_facility("HOPD")])
    claim = {
        "facility_id": facility.id,
        "date_of_service": "2026-05-01",
        "laterality": "LT",
        "procedures": [{"code": "64640", "nerves": ["afcn"]}],
    }
    priced = member.post("/api/v1/coding/price", json=claim).json["priced"]
    assert (priced["site_of_service"], priced["cf_track"]) == ("ASC", "qualifying_apm")
    assert priced["facility_total"] == "197.04"
    assert priced["professional_total"] == "112.12"
    assert stranger.post("/api/v1/coding/price", json=claim).status_code == 404


def test_nerve_list(app):
    """The nerve lists come from the coding module with labels."""
    nerves = make_actor(app, "clinician").get("/api/v1/coding/nerves").json
    assert {n["code"] for n in nerves} == {"64640", "64624"}
    assert len([n for n in nerves if n["code"] == "64640"]) == 8
    assert len([n for n in nerves if n["code"] == "64624"]) == 3
