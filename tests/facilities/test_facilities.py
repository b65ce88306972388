"""Facilities API: validation, scoping and edits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from supply_app.extensions import db
from supply_app.facilities.models import Facility
from tests.support.factories import make_actor, make_facility

VALID = {
    "code": "wrnmmc-1",
    "name": "Walter Reed test",
    "site_of_service": "HOPD",
    "dodaac": "w81xwh",
    "ship_to_address": "8901 Wisconsin Ave, Bethesda MD",
    "cf_track": "qualifying_apm",
}


def facility_count() -> int:
    """Rows in facility."""
    return db.session.scalar(select(func.count()).select_from(Facility))


def test_admin_creates_facility_normalised(app):
    """Codes and DoDAACs are upper-cased; defaults are filled."""
    admin = make_actor(app, "admin", all_facilities=True)
    response = admin.post("/api/v1/facilities", json=VALID)
    assert response.status_code == 201, response.json
    assert response.json["code"] == "WRNMMC-1"
    assert response.json["dodaac"] == "W81XWH"
    assert response.json["expiry_window_days"] == 60
    assert response.json["lead_time_days"] == 14


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dodaac": "W81XW"}, "dodaac"),
        ({"dodaac": "W81XWH1"}, "dodaac"),
        ({"dodaac": "W81-WH"}, "dodaac"),
        ({"site_of_service": "hospital"}, "site_of_service"),
        ({"name": "x" * 201}, "name"),
        ({"name": 5}, "name"),
        ({"expiry_window_days": 10**12}, "expiry_window_days"),
        ({"lead_time_days": -1}, "lead_time_days"),
        ({"unknown": "x"}, "unknown"),
        ({"cf_track": "maybe"}, "cf_track"),
    ],
)
def test_bad_facility_input_names_field_and_writes_nothing(app, change, field):
    """Every bad field is a 422 problem naming the field; the table is unchanged."""
    admin = make_actor(app, "admin", all_facilities=True)
    before = facility_count()
    response = admin.post("/api/v1/facilities", json={**VALID, **change})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]["json"]
    assert facility_count() == before


def test_duplicate_code_is_409(app):
    """A second facility with the same code is refused."""
    admin = make_actor(app, "admin", all_facilities=True)
    assert admin.post("/api/v1/facilities", json=VALID).status_code == 201
    again = admin.post("/api/v1/facilities", json={**VALID, "code": "WRNMMC-1"})
    assert again.status_code == 409
    assert "code" in again.json["errors"]["json"]
    assert facility_count() == 1


def test_malformed_json_is_400(app):
    """A body that is not JSON is a 400 problem."""
    admin = make_actor(app, "admin", all_facilities=True)
    response = admin.client.post(
        "/api/v1/facilities", data="{oops", content_type="application/json", headers=admin.headers()
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_only_admins_create_facilities(app):
    """Purchasers may not create facilities."""
    purchaser = make_actor(app, "purchaser")
    assert purchaser.post("/api/v1/facilities", json=VALID).status_code == 403
    assert facility_count() == 0


def test_members_see_only_their_facilities(app):
    """A purchaser lists and reads their facility; another answers 404, as if absent."""
    mine, theirs = make_facility(), make_facility()
    purchaser = make_actor(app, "purchaser", [mine])
    listed = purchaser.get("/api/v1/facilities").json
    assert [f["id"] for f in listed["items"]] == [mine.id]
    assert purchaser.get(f"/api/v1/facilities/{mine.id}").status_code == 200
    hidden = purchaser.get(f"/api/v1/facilities/{theirs.id}")
    missing = purchaser.get("/api/v1/facilities/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json["detail"].replace(str(theirs.id), "N") == missing.json["detail"].replace(
        "999999", "N"
    )


def test_finance_with_all_facilities_sees_all(app):
    """Admin and finance may hold every facility."""
    make_facility(), make_facility("ASC")
    finance = make_actor(app, "finance", all_facilities=True)
    assert finance.get("/api/v1/facilities").json["meta"]["total"] == 2


def test_edit_and_deactivate(app):
    """An admin edits and deactivates; inactive facilities leave the default list."""
    facility = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    edited = admin.patch(
        f"/api/v1/facilities/{facility.id}", json={"name": "Renamed", "expiry_window_days": 90}
    )
    assert edited.status_code == 200
    assert edited.json["name"] == "Renamed"
    assert admin.patch(f"/api/v1/facilities/{facility.id}", json={}).status_code == 422
    assert (
        admin.patch(f"/api/v1/facilities/{facility.id}", json={"active": False}).json["active"]
        is False
    )
    assert admin.get("/api/v1/facilities").json["meta"]["total"] == 0
    assert admin.get("/api/v1/facilities?include_inactive=true").json["meta"]["total"] == 1


def test_out_of_range_path_and_page_are_4xx(app):
    """Huge ids and pages are rejected, never a 500."""
    admin = make_actor(app, "admin", all_facilities=True)
    assert admin.get("/api/v1/facilities/99999999999999999999").status_code == 404
    assert admin.get("/api/v1/facilities?page=922337203685477582").status_code == 422
    assert admin.get("/api/v1/facilities?per_page=0").status_code == 422


def test_only_an_admin_holding_every_facility_creates_facilities(app):
    """A facility-limited admin would create a facility outside their own: refused (403),
    alike for a new code and one in use elsewhere, so codes elsewhere stay unknown."""
    elsewhere = make_facility(code="ELSEWHERE-1")
    limited = make_actor(app, "admin", [make_facility()])
    before = facility_count()
    taken = limited.post("/api/v1/facilities", json={**VALID, "code": elsewhere.code})
    fresh = limited.post("/api/v1/facilities", json={**VALID, "code": "BRAND-NEW"})
    for response in (taken, fresh):
        assert response.status_code == 403, response.json
        assert "holds every facility" in response.json["detail"]
    assert taken.json["detail"] == fresh.json["detail"]
    assert "ELSEWHERE" not in taken.get_data(as_text=True)
    assert facility_count() == before
    everywhere = make_actor(app, "admin", all_facilities=True)
    assert (
        everywhere.post("/api/v1/facilities", json={**VALID, "code": "BRAND-NEW"}).status_code
        == 201
    )
