"""Barcodes taught by users: linked once (audited), known at every door, kept by the sync."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.catalog import gtins
from supply_app.catalog.models import PartGtin
from supply_app.catalog.service import load_catalog_file, part_for_gtin, sync_catalog
from supply_app.errors import Conflict, Forbidden, InvalidInput
from supply_app.extensions import db
from supply_app.inventory import service as inventory
from tests.support.factories import make_actor, make_facility, sync_parts

GTIN = "00812345000016"


def test_a_taught_gtin_is_known_at_every_door_and_audited(app):
    """Linked by a materials manager, the label names its part when scanned; audited."""
    parts = sync_parts(app)
    materials = make_actor(app, "materials", [make_facility()]).user
    label = f"(01){GTIN}(17){date.today() + timedelta(days=300):%y%m%d}(10)LOT-T1"
    assert inventory.parse_scan(db.session, label).part is None
    link = gtins.teach_gtin(
        db.session, gtin=GTIN, part=parts["STT2190-5"], level="pack", actor=materials
    )
    db.session.commit()
    assert (link.units, link.source, link.taught_by_id) == (5, "taught", materials.id)
    scan = inventory.parse_scan(db.session, label)
    assert (scan.part.part_number, scan.units_per_package) == ("STT2190-5", 5)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "gtin.link"))
    assert event.after == {"gtin": GTIN, "part_number": "STT2190-5", "units": 5}
    assert event.actor_id == materials.id


def test_teaching_refuses_a_taken_gtin_a_bad_check_digit_and_other_roles(app):
    """One part per GTIN; a misread label is refused; clinicians cannot link."""
    parts = sync_parts(app)
    facility = make_facility()
    admin = make_actor(app, "admin", [facility]).user
    gtins.teach_gtin(db.session, gtin=GTIN, part=parts["STT2190-5"], level="each", actor=admin)
    with pytest.raises(Conflict, match="already linked to STT2190-5"):
        gtins.teach_gtin(db.session, gtin=GTIN, part=parts["CRX2111-10"], level="each", actor=admin)
    with pytest.raises(InvalidInput, match="wrong check digit"):
        gtins.teach_gtin(
            db.session, gtin="00812345000017", part=parts["CRX2111-10"], level="each", actor=admin
        )
    clinician = make_actor(app, "clinician", [facility]).user
    with pytest.raises(Forbidden):
        gtins.teach_gtin(
            db.session,
            gtin="00812345000023",
            part=parts["CRX2111-10"],
            level="each",
            actor=clinician,
        )


def test_admins_change_and_remove_taught_links_only(app):
    """A taught link is pointed elsewhere or removed (audited); a catalog link is not."""
    parts = sync_parts(app)
    facility = make_facility()
    admin = make_actor(app, "admin", all_facilities=True).user
    local_admin = make_actor(app, "admin", [facility]).user
    materials = make_actor(app, "materials", [facility]).user
    link = gtins.teach_gtin(
        db.session, gtin=GTIN, part=parts["STT2190-5"], level="each", actor=materials
    )
    for who in (materials, local_admin):  # a re-pointed link is read at every facility
        with pytest.raises(Forbidden):
            gtins.change_gtin(
                db.session, link=link, part=parts["STT2309-5"], level="each", actor=who
            )
        with pytest.raises(Forbidden):
            gtins.remove_gtin(db.session, link=link, actor=who)
    gtins.change_gtin(db.session, link=link, part=parts["STT2309-5"], level="pack", actor=admin)
    assert part_for_gtin(db.session, GTIN).part.part_number == "STT2309-5"
    gtins.remove_gtin(db.session, link=link, actor=admin)
    db.session.commit()
    assert part_for_gtin(db.session, GTIN) is None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith("gtin.")] == [
        "gtin.link",
        "gtin.change",
        "gtin.unlink",
    ]
    catalog = PartGtin(gtin="00812345000023", units=1, source="catalog")
    parts["CRX2111-10"].gtins.append(catalog)
    db.session.flush()
    with pytest.raises(InvalidInput, match="catalog file"):
        gtins.remove_gtin(db.session, link=catalog, actor=admin)


def test_the_catalog_sync_keeps_what_users_taught(app):
    """A sync of the file (which lists no GTINs) leaves taught links in place."""
    parts = sync_parts(app)
    admin = make_actor(app, "admin", [make_facility()]).user
    gtins.teach_gtin(db.session, gtin=GTIN, part=parts["STT2190-5"], level="each", actor=admin)
    db.session.commit()
    parts["STT2190-5"].description = "changed so the sync rewrites the part"
    db.session.commit()
    report = sync_catalog(db.session, load_catalog_file(app.config["CATALOG_PATH"]))
    db.session.commit()
    assert "STT2190-5" in report.updated
    assert part_for_gtin(db.session, GTIN).source == "taught"
