"""Fixtures for the hardening checks: a seeded app on its own database, and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import flask_migrate
import pytest
from flask import Flask

from supply_app.auth.service import create_user, issue_token
from supply_app.demo import demo_token_secret, load_demo
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from tests.conftest import make_test_app
from tests.support.factories import TEST_PASSWORD, Actor


@pytest.fixture(scope="module")
def seeded_app(database_factory) -> Iterator[Flask]:
    """An app on a fresh migrated database holding every domain's demo data.

    Module-scoped and separate from the suite's `app` database, so fuzzing can write freely
    without the per-test wipe and other tests never see what it wrote.
    """
    app = make_test_app(database_factory("seeded"))
    with app.app_context():
        flask_migrate.upgrade()
        load_demo(db.session)
        db.session.commit()
        db.session.remove()
        seed_every_facility_scoped_kind(app, demo_token_secret("admin"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def admin_token(seeded_app) -> str:
    """The demo admin's bearer token (all facilities, every admin right)."""
    with seeded_app.app_context():
        return demo_token_secret("admin")


def member_actor(app: Flask, username: str, role: str, facilities: list[Facility]) -> Actor:
    """A user of role holding only `facilities`, with a live token (inside an app context)."""
    user = create_user(
        db.session,
        username=username,
        display_name=username,
        role=role,
        password=TEST_PASSWORD,
        facility_ids=[f.id for f in facilities],
    )
    _, secret = issue_token(db.session, user=user, name="hardening", days=30)
    db.session.commit()
    return Actor(user=user, token=secret, client=app.test_client())


SCOPED_SEED_FACILITIES = ("DEMO-HOPD", "DEMO-ASC")


def seed_every_facility_scoped_kind(app: Flask, admin_token: str) -> None:
    """Through the API, give two demo facilities stock, an order, a case and a user of its own.

    The demo loader may or may not create these; the access matrix needs one of each at
    both facilities, plus a lot that both of them hold.
    """
    client = app.test_client()
    headers = {"Authorization": f"Bearer {admin_token}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, (path, response.status_code, response.json)
        return response.json

    parts = {
        p["part_number"]: p["id"]
        for p in client.get("/api/v1/parts?per_page=100", headers=headers).json["items"]
    }
    facilities = {
        f["code"]: f["id"]
        for f in client.get("/api/v1/facilities?per_page=100", headers=headers).json["items"]
    }
    # Two days back is a past day in every zone on Earth (the demo sites are in US zones).
    today = date.today() - timedelta(days=2)
    lots = {}
    for code in SCOPED_SEED_FACILITIES:
        facility_id = facilities[code]
        lots[code] = post(
            f"/api/v1/facilities/{facility_id}/receipts",
            {
                "part_id": parts["STT2190-5"],
                "lot_number": f"HARD-{code}",
                "expiry_date": (today + timedelta(days=300)).isoformat(),
                "eaches": 50,
                "unit_cost": "20.00",
                "reason": "opening_balance",
            },
        )["lot_id"]
        post(
            "/api/v1/orders",
            {
                "facility_id": facility_id,
                "fund_code": "2F",
                "priority": "05",
                "required_delivery_date": (today + timedelta(days=30)).isoformat(),
                "lines": [{"part_number": "CRX2111-10", "packs": 2}],
            },
        )
        post(
            "/api/v1/cases",
            {
                "facility_id": facility_id,
                "reference": f"HARD-{code}",
                "date_of_service": today.isoformat(),
                "laterality": "RT",
                "procedures": [{"code": "64640", "nerves": ["afcn", "lfcn"]}],
                "supplies": [{"part_id": parts["STT2190-5"], "lot_id": lots[code], "eaches": 1}],
            },
        )
        post(
            "/api/v1/users",
            {
                "username": f"hard-{code.lower()}",
                "role": "viewer",
                "password": "hardening-password",
                "facility_ids": [facility_id],
            },
        )
    hopd, asc = (facilities[code] for code in SCOPED_SEED_FACILITIES)
    post(
        f"/api/v1/facilities/{hopd}/transfers",
        {"lot_id": lots["DEMO-HOPD"], "to_facility_id": asc, "eaches": 5},
    )
    for code in SCOPED_SEED_FACILITIES:
        post(
            f"/api/v1/facilities/{facilities[code]}/vendor-returns",
            {
                "lot_id": lots[code],
                "eaches": 1,
                "rga_number": f"RGA-{code}",
                "rga_date": today.isoformat(),
            },
        )
    # A recall holding a lot both facilities hold (its own lot, so the lots above stay usable).
    for facility_id in (hopd, asc):
        post(
            f"/api/v1/facilities/{facility_id}/receipts",
            {
                "part_id": parts["STT2190-5"],
                "lot_number": "HARD-RECALLED",
                "expiry_date": (today + timedelta(days=300)).isoformat(),
                "eaches": 5,
                "unit_cost": "20.00",
                "reason": "opening_balance",
            },
        )
    post(
        "/api/v1/recalls",
        {
            "source": "manufacturer",
            "notice_number": "HARD-1",
            "notice_date": today.isoformat(),
            "reason": "Hardening seed",
            "lots": [{"part_id": parts["STT2190-5"], "lot_number": "HARD-RECALLED"}],
        },
    )
    _receive_an_order_at_each(app, today)


def _receive_an_order_at_each(app: Flask, today: date) -> None:
    """An order received against at both facilities, so receipt lines exist at each."""
    from sqlalchemy import select

    from supply_app.auth.models import User
    from supply_app.catalog.models import Part
    from supply_app.ordering import receiving
    from tests.support.factories import make_order

    with app.app_context():
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        facilities = [
            db.session.scalars(select(Facility).where(Facility.code == code)).one()
            for code in SCOPED_SEED_FACILITIES
        ]
        approver = create_user(
            db.session,
            username="hard-approver",
            display_name="Hardening approver",
            role="purchaser",
            password=TEST_PASSWORD,
            facility_ids=[f.id for f in facilities],
        )
        part = db.session.scalars(select(Part).where(Part.part_number == "STT2190-5")).one()
        for facility in facilities:
            order = make_order(facility, admin, [(part, 1)], approver=approver)
            receiving.receive_order(
                db.session,
                order=order,
                actor=admin,
                items=[
                    {
                        "line_id": order.lines[0].id,
                        "packs": 1,
                        "lot_number": f"HARD-ORD-{facility.code}",
                        "expiry_date": today + timedelta(days=300),
                    }
                ],
            )
            db.session.commit()
        db.session.remove()
