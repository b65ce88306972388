"""The code mix names the modifiers that change what a case pays; a bilateral case may name
each knee's nerves."""

from __future__ import annotations

from datetime import date

from supply_app.cases import service as cases
from supply_app.extensions import db
from tests.support.factories import make_actor, make_facility, sync_parts


def _record(app, procedures, laterality="RT", reference="MIX-1"):
    facility = make_facility("HOPD")
    sync_parts(app)
    user = make_actor(app, "clinician", [facility]).user
    case = cases.record_case(
        db.session,
        user=user,
        data={
            "facility_id": facility.id,
            "date_of_service": date.today(),
            "reference": reference,
            "laterality": laterality,
            "procedures": procedures,
            "supplies": [],
        },
    )
    db.session.commit()
    return case


def test_fewer_than_three_genicular_nerves_show_modifier_52(app):
    """Two nerves of 64624 pay less: the mix says 64624-52, never plain 64624."""
    case = _record(app, [{"code": "64624", "nerves": ["superolateral", "superomedial"]}])
    assert case.code_mix == "64624-52x1"


def test_bilateral_knees_named_apart_bill_a_line_per_knee(app):
    """RT and LT lines with their own nerves (no modifier 50); the same nerves on both is 50."""
    split = _record(
        app,
        [
            {"code": "64640", "nerves": ["lfcn", "afcn"], "laterality": "RT"},
            {"code": "64640", "nerves": ["lfcn"], "laterality": "LT"},
        ],
        laterality="bilateral",
    )
    assert split.code_mix == "64640x3"
    assert sorted(p.laterality for p in split.procedures) == ["LT", "RT"]
    same = _record(app, [{"code": "64640", "nerves": ["lfcn"]}], "bilateral", "MIX-2")
    assert same.code_mix.startswith("64640-50")
