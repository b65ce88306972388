"""Building blocks for the browser journeys: seed a world, sign in, check the database."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page, expect

from supply_app.auth.models import User
from supply_app.catalog.models import Part
from supply_app.facilities.models import Facility
from tests.support.factories import TEST_PASSWORD, make_actor, make_facility, price_part, sync_parts

PACK_PRICES = {
    "IST2221": 950_000,
    "STT2309-5": 125_000,
    "STT2190-5": 125_000,
    "STT2190STIM-5": 140_000,
    "STT21180STIM-5": 140_000,
    "CRX2111-10": 30_000,
}


@dataclass
class World:
    """Two facilities, priced parts and one user per role (all in facility `home`)."""

    home: Facility
    other: Facility
    parts: dict[str, Part]
    users: dict[str, User]


def seed_world(app) -> World:
    """Seed the database through the services and commit."""
    home = make_facility("HOPD", name="Browser Test Army Medical Center")
    other = make_facility("ASC", name="Browser Test Surgery Center")
    parts = sync_parts(app)
    for number, cents in PACK_PRICES.items():
        price_part(parts[number], cents)
    users = {}
    for role in ("admin", "purchaser", "purchaser2", "materials", "clinician", "finance", "viewer"):
        real_role = role.rstrip("2")
        everywhere = real_role in ("admin", "finance")
        actor = make_actor(app, real_role, [home, other], all_facilities=everywhere)
        users[role] = actor.user
    return World(home=home, other=other, parts=parts, users=users)


def sign_in(page: Page, user: User, password: str = TEST_PASSWORD) -> None:
    """Sign in through the login form using only the keyboard."""
    page.goto("/login")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    """Sign out with the header button."""
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def add_gtin(part: Part, gtin: str, units: int) -> None:
    """Print a test GTIN on a part's package; commit (the real catalog lists none yet)."""
    from supply_app.catalog.models import PartGtin
    from supply_app.extensions import db

    part.gtins.append(PartGtin(gtin=gtin, units=units))
    db.session.commit()


def hri(gtin: str, lot: str, expiry) -> str:
    """A GS1 label as a keyboard-wedge scanner sends it in human-readable form."""
    return f"(01){gtin}(17){expiry:%y%m%d}(10){lot}"


def scan_into(page: Page, label: str, field: str, code: str) -> None:
    """Type a barcode into a scan field and press Enter, as a wedge scanner does."""
    box = page.get_by_label(label)
    box.fill(code)
    box.press("Enter")
    expect(page.locator(f"#{field}-status")).to_contain_text("Read:")
