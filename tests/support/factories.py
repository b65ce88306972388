"""Helpers that build test data through the services, the way the app itself does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from supply_app.auth.models import User
from supply_app.auth.service import create_user, issue_token
from supply_app.catalog.models import Part
from supply_app.catalog.service import load_catalog_file, set_contract_price, sync_catalog
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.facilities.service import create_facility

_counter = itertools.count(1)
TEST_PASSWORD = "correct-horse-battery"


def make_facility(site_of_service: str = "HOPD", **overrides: Any) -> Facility:
    """Create and commit a facility with a unique code."""
    n = next(_counter)
    data = {
        "code": f"FAC-{n}",
        "name": f"Test facility {n}",
        "site_of_service": site_of_service,
        "dodaac": f"W{n:05d}",
        "ship_to_address": f"{n} Test Road",
        "cf_track": "non_qualifying",
        "expiry_window_days": 60,
        "lead_time_days": 14,
        "time_zone": "UTC",
        **overrides,
    }
    facility = create_facility(db.session, data=data, actor=None)
    db.session.commit()
    return facility


@dataclass
class Actor:
    """A user with a live token and a client that sends it."""

    user: User
    token: str
    client: FlaskClient

    def headers(self, key: str | None = None) -> dict[str, str]:
        """Authorization (and Idempotency-Key) headers."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, **kwargs: Any):
        """GET with the token."""
        return self.client.get(path, headers=self.headers(), **kwargs)

    def post(self, path: str, json: Any = None, key: str | None = None, **kwargs: Any):
        """POST JSON with the token (and an optional Idempotency-Key)."""
        return self.client.post(path, json=json, headers=self.headers(key), **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any):
        """PATCH JSON with the token."""
        return self.client.patch(path, json=json, headers=self.headers(), **kwargs)


def make_actor(
    app: Flask, role: str, facilities: list[Facility] | tuple = (), all_facilities: bool = False
) -> Actor:
    """Create a user with a role, memberships and a token; commit."""
    n = next(_counter)
    user = create_user(
        db.session,
        username=f"{role}{n}",
        display_name=f"{role.title()} {n}",
        role=role,
        password=TEST_PASSWORD,
        facility_ids=[f.id for f in facilities],
        all_facilities=all_facilities,
    )
    # A year, so a test may pin the clock months ahead and still be signed in.
    _, secret = issue_token(db.session, user=user, name="test", days=366)
    db.session.commit()
    return Actor(user=user, token=secret, client=app.test_client())


def sync_parts(app: Flask) -> dict[str, Part]:
    """Load the real catalog file; returns parts by part number."""
    sync_catalog(db.session, load_catalog_file(app.config["CATALOG_PATH"]))
    db.session.commit()
    return {p.part_number: p for p in db.session.scalars(db.select(Part))}


def price_part(part: Part, cents: int, start: date = date(2026, 1, 1)) -> None:
    """Give a part a contract price per pack from start; commit."""
    set_contract_price(
        db.session,
        part=part,
        unit_price_cents=cents,
        effective_from=start,
        effective_to=None,
        note="test",
        actor=None,
    )
    db.session.commit()


def make_order(
    facility: Facility,
    builder: User,
    lines: list[tuple[Part, int]],
    *,
    submit: bool = False,
    approver: User | None = None,
) -> Any:
    """A draft order of (part, packs) lines, submitted by its builder and approved by
    another purchaser when asked; commit."""
    from datetime import timedelta

    from supply_app.ordering import service as ordering

    order = ordering.create_order(
        db.session,
        facility=facility,
        actor=builder,
        header={
            "fund_code": "AA",
            "priority": 13,
            "required_delivery_date": facility.today() + timedelta(days=30),
        },
        lines=lines,
    )
    if submit or approver is not None:
        ordering.submit_order(db.session, order=order, actor=builder)
    if approver is not None:
        ordering.approve_order(db.session, order=order, actor=approver)
    db.session.commit()
    return order
