"""GS1 read strictly: no AI twice, batch and serial both kept, no value changed on the way.

A label is what a recall is checked against, so a reading that drops or rewrites part of it
is worse than no reading: every such label is refused with the reason, and the user types
the fields or rescans.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from supply_app.extensions import db
from supply_app.inventory import service
from supply_app.inventory.models import Lot
from tests.support.cases import case_body, gtin14
from tests.support.factories import make_actor, make_facility, sync_parts
from tests.support.inventory import GTIN_TIP, in_days, register_gtin, stock

HANDPIECE_GTIN = gtin14("0950110153101")


@pytest.fixture
def parts(app):
    """The catalog with a GTIN on the tip 5-pack and on the (serialised) handpiece."""
    parts = sync_parts(app)
    register_gtin(parts["STT2309-5"])
    register_gtin(parts["IST2221"], HANDPIECE_GTIN, units=1)
    return parts


@pytest.mark.parametrize(
    ("raw", "ai"),
    [
        (f"]d201{GTIN_TIP}10AAA\x1d10BBB", "10"),
        (f"]C101{GTIN_TIP}10SAME\x1d10SAME", "10"),
        (f"(01){GTIN_TIP}(17)271231(10)A(17)280101", "17"),
        (f"(01){GTIN_TIP}(01){GTIN_TIP}(10)A", "01"),
        (f"01{GTIN_TIP}21S1\x1d21S2", "21"),
    ],
)
def test_an_ai_given_twice_is_refused(app, parts, raw, ai):
    """Which of two values would be the real one is not for the reader to guess."""
    viewer = make_actor(app, "viewer")
    response = viewer.post("/api/v1/scan", json={"scan": raw})
    assert response.status_code == 422, response.json
    assert f"({ai})" in response.json["detail"]
    assert "more than once" in response.json["detail"]


def test_batch_and_serial_are_both_kept_and_a_recall_by_batch_finds_the_unit(app, parts):
    """A serialised handpiece keeps its serial as its lot and its batch beside it."""
    facility = make_facility()
    materials = make_actor(app, "materials", [facility])
    raw = f"(01){HANDPIECE_GTIN}(17){in_days(900):%y%m%d}(10)BATCH-7(21)SN-0042"
    read = materials.post("/api/v1/scan", json={"scan": raw}).json
    assert (read["lot_number"], read["serial"], read["batch"]) == ("SN-0042", "SN-0042", "BATCH-7")
    received = materials.post(
        f"/api/v1/facilities/{facility.id}/receipts",
        json={"scan": raw, "eaches": 1, "unit_cost": "9500.00", "reason": "donation"},
    )
    assert received.status_code == 201, received.json
    lot_id = received.json["lot_id"]
    lot = materials.get(f"/api/v1/lots/{lot_id}").json
    assert (lot["lot_number"], lot["serial"], lot["batch"]) == ("SN-0042", "SN-0042", "BATCH-7")
    for number in ("BATCH-7", "SN-0042"):
        found = materials.get(f"/api/v1/lots/recall?lot_number={number}").json
        assert [t["lot"]["id"] for t in found["items"]] == [lot_id], number
        (trace,) = found["items"]
        assert trace["lot"]["batch"] == "BATCH-7"
        assert trace["holdings"] == [
            {
                "facility_id": facility.id,
                "facility_code": facility.code,
                "facility_name": facility.name,
                "on_hand": 1,
            }
        ]
    assert materials.get("/api/v1/lots/recall?lot_number=BATCH-8").json["items"] == []
    outsider = make_actor(app, "viewer", [make_facility()])
    assert outsider.get("/api/v1/lots/recall?lot_number=BATCH-7").json["items"] == []


def test_a_serial_on_file_with_another_batch_is_refused(app, parts):
    """The label and the record disagree about the batch: nothing is rewritten."""
    facility = make_facility()
    materials = make_actor(app, "materials", [facility])
    expiry = f"{in_days(900):%y%m%d}"
    first = f"(01){HANDPIECE_GTIN}(17){expiry}(10)B-1(21)SN-9"
    other = f"(01){HANDPIECE_GTIN}(17){expiry}(10)B-2(21)SN-9"
    receipt = {"eaches": 1, "unit_cost": "9500.00", "reason": "donation"}
    path = f"/api/v1/facilities/{facility.id}/receipts"
    assert materials.post(path, json={"scan": first, **receipt}).status_code == 201
    issued = materials.post(
        f"/api/v1/facilities/{facility.id}/issues", json={"scan": other, "eaches": 1}
    )
    assert issued.status_code == 422, issued.json
    assert "batch B-1; the label says B-2" in issued.json["detail"]
    lot = service.find_lot(db.session, part=parts["IST2221"], lot_number="SN-9")
    assert lot.batch == "B-1"


@pytest.mark.parametrize(
    "raw",
    [
        f"(01){GTIN_TIP}(10)AB 12(17)271231",  # a space inside the batch
        f"(01){GTIN_TIP}(10)AB\t12(17)271231",
        f"(01){GTIN_TIP}(10)(17)271231",  # an AI with no value
        f"(01){GTIN_TIP}99(10)AB",  # more digits than a GTIN has
        f"(01){GTIN_TIP}(10)A(B)1",  # a bracket inside a value: where does it end?
        f"(01){GTIN_TIP}(10)AB12 (17)271231 trailing",
        f"]d201{GTIN_TIP}10AB\x1d\x1d21S1",  # an empty element between two separators
    ],
)
def test_a_label_text_that_would_be_changed_to_read_is_refused(app, parts, raw):
    """Spaces inside a value, empty or overlong values are refused, never dropped or joined."""
    viewer = make_actor(app, "viewer")
    response = viewer.post("/api/v1/scan", json={"scan": raw})
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"


def test_spaces_between_elements_of_label_text_are_layout(app, parts):
    """Printed label text puts spaces between elements; those are not part of any value."""
    viewer = make_actor(app, "viewer")
    body = viewer.post("/api/v1/scan", json={"scan": f"(01) {GTIN_TIP} (17) 271231 (10) AB12"}).json
    assert (body["gtin"], body["lot_number"], body["batch"]) == (GTIN_TIP, "AB12", "AB12")


def test_the_database_keeps_a_batch_on_serialised_units_only(app, parts):
    """A lot that is not a serial is its own batch: the schema refuses a second one."""
    lot = stock(make_facility(), parts["STT2309-5"], 5, 500, lot_number="PLAIN-1")
    with pytest.raises(IntegrityError):
        db.session.execute(update(Lot).where(Lot.id == lot.id).values(batch="OTHER"))
    db.session.rollback()


def test_a_case_scan_of_a_serial_with_another_batch_is_refused(app, parts):
    """The case form's scan is the same door: the batch on the label must be the one on file."""
    facility = make_facility()
    materials = make_actor(app, "materials", [facility])
    clinician = make_actor(app, "clinician", [facility])
    expiry = f"{in_days(300):%y%m%d}"
    received = materials.post(
        f"/api/v1/facilities/{facility.id}/receipts",
        json={
            "scan": f"(01){GTIN_TIP}(17){expiry}(10)TB-1(21)TS-1",
            "eaches": 1,
            "unit_cost": "250.00",
            "reason": "donation",
        },
    )
    assert received.status_code == 201, received.json
    body = case_body(facility, "BATCH-CASE")
    body["supplies"] = [{"scan": f"(01){GTIN_TIP}(17){expiry}(10)TB-2(21)TS-1"}]
    refused = clinician.post("/api/v1/cases", json=body)
    assert refused.status_code == 422, refused.json
    assert "supplies[0].scan" in refused.json["errors"]["json"]
    body["supplies"] = [{"scan": f"(01){GTIN_TIP}(17){expiry}(10)TB-1(21)TS-1"}]
    assert clinician.post("/api/v1/cases", json=body).status_code == 201
