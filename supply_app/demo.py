"""Demo data for trying the app: three facilities, one user per role, demo prices.

Everything is idempotent: running it again finds what exists and changes nothing. Demo
tokens are derived from the app's secret key, so a rerun prints the same tokens without
storing their secrets anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from supply_app.auth.models import ApiToken, User
from supply_app.auth.service import TOKEN_PREFIX, create_user, issue_token, token_digest
from supply_app.cases.demo import load_demo_cases
from supply_app.catalog.models import ContractPrice, Part
from supply_app.catalog.service import load_catalog_file, set_contract_price, sync_catalog
from supply_app.facilities.models import Facility
from supply_app.facilities.service import create_facility
from supply_app.inventory.demo import load_demo_stock
from supply_app.ordering.demo import load_demo_orders
from supply_app.payers.demo import load_demo_payers

DEMO_FACILITIES = (
    {
        "code": "DEMO-HOPD",
        "name": "Demo Army Medical Center (hospital outpatient)",
        "site_of_service": "HOPD",
        "dodaac": "DEMO01",
        "cf_track": "non_qualifying",
        "ship_to_address": "Demo AMC, Bldg 1, Receiving Dock A, Demo City, VA 22000",
        "time_zone": "America/New_York",
    },
    {
        "code": "DEMO-ASC",
        "name": "Demo Naval Ambulatory Surgery Center",
        "site_of_service": "ASC",
        "dodaac": "DEMO02",
        "cf_track": "qualifying_apm",
        "ship_to_address": "Demo NASC, 200 Harbor Rd, Demo Bay, CA 92000",
        "time_zone": "America/Los_Angeles",
    },
    {
        "code": "DEMO-CLINIC",
        "name": "Demo Air Force Pain Clinic (office)",
        "site_of_service": "office",
        "dodaac": "DEMO03",
        "cf_track": "non_qualifying",
        "ship_to_address": "Demo AFB Clinic, 30 Runway Ave, Demo Springs, CO 80900",
        "time_zone": "America/Denver",
    },
)
DEMO_USERS = (
    ("admin", "admin", True),
    ("purchaser", "purchaser", False),
    ("purchaser2", "purchaser", False),
    ("materials", "materials", False),
    ("clinician", "clinician", False),
    ("finance", "finance", True),
    ("viewer", "viewer", False),
)
DEMO_PRICE_NOTE = "DEMO VALUE for trying the app; not an ECAT contract price"
DEMO_PRICES_CENTS = {
    "IST2221": 950_000,
    "STT2309-5": 125_000,
    "STT2190-5": 125_000,
    "STT2190STIM-5": 140_000,
    "STT21180STIM-5": 140_000,
    "CRX2111-10": 30_000,
}
DEMO_PRICE_START = date(2026, 1, 1)


def demo_password(username: str) -> str:
    """The documented demo password of a demo user."""
    return f"demo-{username}-pass"


def demo_token_secret(username: str) -> str:
    """A demo user's token, derived from the secret key so reruns print the same one."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"demo-token:{username}".encode(), hashlib.sha256).hexdigest()
    return f"{TOKEN_PREFIX}demo_{username}_{digest[:24]}"


def load_demo(session: Session) -> list[str]:
    """Load the demo data and return lines describing how to sign in."""
    sync_catalog(session, load_catalog_file(current_app.config["CATALOG_PATH"]))
    facility_ids = [_demo_facility(session, spec).id for spec in DEMO_FACILITIES]
    lines = ["Demo users (password / API token):"]
    for username, role, everywhere in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(
                session,
                username=username,
                display_name=f"Demo {username}",
                role=role,
                password=demo_password(username),
                facility_ids=() if everywhere else facility_ids,
                all_facilities=everywhere,
            )
        secret = demo_token_secret(username)
        if (
            session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(secret)))
            is None
        ):
            issue_token(session, user=user, name="demo", days=366, secret=secret)
        lines.append(f"  {username:<11} {role:<10} {demo_password(username):<24} {secret}")
    _demo_prices(session)
    lines.append(f"Contract prices are demo values ({DEMO_PRICE_NOTE}).")
    lines.extend(load_demo_stock(session, [spec["code"] for spec in DEMO_FACILITIES]))
    lines.extend(load_demo_orders(session))
    lines.extend(load_demo_payers(session, [spec["code"] for spec in DEMO_FACILITIES]))
    lines.extend(load_demo_cases(session))  # last: it consumes the demo stock loaded above
    return lines


def _demo_facility(session: Session, spec: dict) -> Facility:
    facility = session.scalar(select(Facility).where(Facility.code == spec["code"]))
    return facility or create_facility(session, data=dict(spec), actor=None)


def _demo_prices(session: Session) -> None:
    for number, cents in DEMO_PRICES_CENTS.items():
        part = session.scalar(select(Part).where(Part.part_number == number))
        has_price = session.scalar(
            select(ContractPrice.id).where(ContractPrice.part_id == part.id).limit(1)
        )
        if has_price is None:
            set_contract_price(
                session,
                part=part,
                unit_price_cents=cents,
                effective_from=DEMO_PRICE_START,
                effective_to=None,
                note=DEMO_PRICE_NOTE,
                actor=None,
            )
