"""axe-core over every main page, for every role, at a laptop's 1366 px and a phone's 390 px.

The demo world is loaded once; each demo user signs in at each size and opens every page of
their menu plus the pages behind it (an order, a case, a lot, the stock forms, their
account). Every page must have no serious or critical axe violation, must not scroll
sideways (a wide table scrolls inside its own box), and its tap targets must be at least
24×24 px. A full-page screenshot of each is kept in test-artifacts/screenshots/pages/.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from supply_app.auth.models import User
from supply_app.cases.models import ProcedureCase
from supply_app.demo import DEMO_USERS, demo_password, load_demo
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.inventory import service as inventory
from supply_app.inventory.models import Lot, StockBalance
from supply_app.ordering.models import PurchaseOrder
from tests.e2e.conftest import SCREENSHOTS
from tests.support.inventory import hold
from tests.support.journeys import sign_in

SIZES = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}
SERIOUS = ("serious", "critical")
PAGES_DIR = SCREENSHOTS / "pages"
axe = Axe()

# Pages behind the menu, per role that may open them ({order}, {case}, {lot}: demo rows).
EXTRA_PAGES = {
    "/orders/{order}": ("admin", "purchaser", "materials", "viewer"),
    "/orders/new": ("admin", "purchaser"),
    "/cases/{case}": ("admin", "clinician", "finance", "viewer"),
    "/lots/{lot}": ("admin", "purchaser", "materials", "clinician", "finance", "viewer"),
    "/stock/movements": ("admin", "materials", "viewer"),
    "/stock/par-levels": ("admin", "materials"),
    "/stock/receive": ("admin", "materials"),
    "/stock/count": ("admin", "materials"),
    "/stock/transfer": ("admin", "materials"),
    "/stock/waste": ("admin", "materials"),
    "/stock/adjust": ("admin", "materials"),
    "/catalog/barcodes": ("admin", "materials", "purchaser"),
    "/account": ("admin", "purchaser", "materials", "clinician", "finance", "viewer"),
    "/reports/margin?group_by=month": ("finance",),
    "/recalls/{recall}": ("admin", "purchaser", "materials", "clinician", "finance", "viewer"),
    "/recalls/new": ("admin", "materials"),
    "/stock/returns": ("admin", "purchaser", "materials", "clinician", "finance", "viewer"),
    "/stock/return": ("admin", "materials"),
}

OVERFLOW = """() => {
  const wide = document.scrollingElement.scrollWidth - window.innerWidth;
  const small = [];
  for (const el of document.querySelectorAll('a, button, input, select, summary, textarea')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || el.type === 'hidden') continue;
    if (el.closest('.skip') || (el.tagName === 'A' && el.closest('p, li, td, dd'))) continue;
    if (box.width < 24 || box.height < 24) small.push(el.outerHTML.slice(0, 90));
  }
  return {wide, small};
}"""


def _rows() -> dict[str, int]:
    """Ids of demo rows the detail pages open, after adding a recall held at every demo
    facility and a return to the vendor (the demo has neither), so their tables have rows."""
    lot = db.session.get(
        Lot, db.session.scalar(select(StockBalance.lot_id).order_by(StockBalance.id))
    )
    recall = hold([(lot.part, lot.lot_number)], notice="AXE-PCR-2026-0001")
    balance = db.session.scalar(
        select(StockBalance).where(StockBalance.on_hand > 0).order_by(StockBalance.id.desc())
    )
    inventory.return_to_vendor(
        db.session,
        facility=db.session.get(Facility, balance.facility_id),
        lot=db.session.get(Lot, balance.lot_id),
        eaches=1,
        rga_number="RGA-AXE-0001",
        rga_date=date.today(),
        actor=None,
    )
    db.session.commit()
    return {
        "order": db.session.scalar(select(PurchaseOrder.id).order_by(PurchaseOrder.id)),
        "case": db.session.scalar(select(ProcedureCase.id).order_by(ProcedureCase.id)),
        "lot": lot.id,
        "recall": recall.id,
    }


def _serious(page: Page) -> list[str]:
    """Serious and critical axe violations of the page, one line each."""
    found = axe.run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in found
        if v["impact"] in SERIOUS
    ]


def refusals(problems: list[str]):
    """A console listener that notes the content policy's refusals."""

    def note(message) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    return note


def _name(path: str) -> str:
    return path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "home"


@pytest.mark.parametrize("size", sorted(SIZES))
def test_every_page_for_every_role_passes_axe_and_fits(
    browser: Browser, base_url: str, fresh_db, size: str
):
    """No serious or critical axe violation, no sideways scroll, tap targets of 24 px."""
    load_demo(db.session)
    db.session.commit()
    rows = _rows()
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for username, role, _everywhere in DEMO_USERS:
        if username == "purchaser2":
            continue  # the same pages as purchaser
        context = browser.new_context(base_url=base_url, viewport=SIZES[size])
        page = context.new_page()
        page.on("console", refusals(problems))
        user = db.session.scalar(select(User).where(User.username == username))
        sign_in(page, user, demo_password(username))
        nav = page.get_by_role("navigation", name="Main").get_by_role("link")
        paths = [nav.nth(i).get_attribute("href") for i in range(nav.count())]
        paths += [p.format(**rows) for p, roles in EXTRA_PAGES.items() if role in roles]
        for path in dict.fromkeys(paths):
            response = page.goto(path)
            assert response is not None, (username, path)
            assert response.status == 200, (username, path)
            where = f"{username} at {size} px {path}"
            problems += [f"{where}: {v}" for v in _serious(page)]
            fit = page.evaluate(OVERFLOW)
            if fit["wide"] > 1:
                problems.append(f"{where}: scrolls sideways by {fit['wide']} px")
            problems += [f"{where}: tap target under 24 px: {el}" for el in fit["small"][:3]]
            page.screenshot(
                path=str(Path(PAGES_DIR) / f"{size}-{username}-{_name(path)}.png"), full_page=True
            )
        context.close()
    (SCREENSHOTS.parent / f"axe-{size}.txt").write_text("\n".join(problems) or "none\n")
    assert problems == [], "\n".join(problems)
