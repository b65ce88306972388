"""Fixtures for the ordering tests: a priced catalog, a facility and its people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from supply_app.catalog.models import Part
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from tests.support.factories import Actor, make_actor, make_facility, price_part, sync_parts

#: Pack prices (cents) the tests use; deliberately not multiples of the pack size.
PRICES = {
    "IST2221": 950_001,
    "STT2309-5": 125_003,
    "STT2190-5": 124_999,
    "CRX2111-10": 30_007,
}


@dataclass
class World:
    """A priced catalog, one facility and one actor per role that orders or receives."""

    facility: Facility
    parts: dict[str, Part]
    purchaser: Actor
    purchaser2: Actor
    materials: Actor
    admin: Actor
    viewer: Actor

    def header(self, **overrides) -> dict:
        """A valid order header for the facility."""
        return {
            "facility_id": self.facility.id,
            "fund_code": "2F",
            "priority": "05",
            "required_delivery_date": (date.today() + timedelta(days=30)).isoformat(),
            "notes": "Restock for the pain clinic",
            **overrides,
        }

    def draft(self, lines: dict[str, int], actor: Actor | None = None) -> dict:
        """Create a draft with {part_number: packs} lines and return its JSON."""
        body = self.header(
            lines=[{"part_number": number, "packs": packs} for number, packs in lines.items()]
        )
        response = (actor or self.purchaser).post("/api/v1/orders", json=body)
        assert response.status_code == 201, response.json
        return response.json

    def approved(self, lines: dict[str, int]) -> dict:
        """A draft submitted by purchaser and approved by purchaser2."""
        order = self.draft(lines)
        submitted = self.purchaser.post(f"/api/v1/orders/{order['id']}/submit")
        assert submitted.status_code == 200, submitted.json
        approved = self.purchaser2.post(f"/api/v1/orders/{order['id']}/approve")
        assert approved.status_code == 200, approved.json
        return approved.json


@pytest.fixture
def world(app) -> World:
    """The standard ordering world."""
    parts = sync_parts(app)
    for number, cents in PRICES.items():
        price_part(parts[number], cents)
    facility = make_facility("HOPD", dodaac="W81XWH")
    return World(
        facility=facility,
        parts=parts,
        purchaser=make_actor(app, "purchaser", [facility]),
        purchaser2=make_actor(app, "purchaser", [facility]),
        materials=make_actor(app, "materials", [facility]),
        admin=make_actor(app, "admin", all_facilities=True),
        viewer=make_actor(app, "viewer", [facility]),
    )


def fresh() -> None:
    """End the test's own transaction so the next read sees what requests committed.

    On SQLite a read transaction keeps its snapshot; without this a "nothing written"
    check would compare two reads of the same stale snapshot and could never fail.
    """
    db.session.commit()


def count(model) -> int:
    """Rows in a model's table, as committed."""
    fresh()
    return db.session.scalar(select(func.count()).select_from(model))
