"""Issue 14, items 6 and 7: pages that fit, readable charts, and files finance opens in Excel."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from supply_app.cases import service as cases
from supply_app.extensions import db
from supply_app.reporting.columns import LABELS
from tests.e2e.test_journeys import opening_stock
from tests.support.factories import make_order
from tests.support.journeys import seed_world, sign_in, sign_out

MEASURE = """() => {
  const wrap = document.querySelector('.margin-table').closest('.table-wrap');
  const last = [...document.querySelectorAll('.margin-table thead th')].pop();
  return {overflow: wrap.scrollWidth - wrap.clientWidth,
          lastRight: last.getBoundingClientRect().right,
          wrapRight: wrap.getBoundingClientRect().right, lastText: last.textContent};
}"""
FOCUS = """() => {
  const s = getComputedStyle(document.activeElement);
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor};
}"""


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _finance_world(app):
    """Cases at both facilities: one with two genicular nerves (64624-52), one losing money."""
    world = seed_world(app)
    opening_stock(world, world.home, "STT2190-5", "TIPS-F", 30)
    opening_stock(world, world.other, "STT2190-5", "TIPS-G", 30)
    recorded = (
        (world.home, "F-1", [{"code": "64624", "nerves": ["superolateral", "superomedial"]}], 1),
        (
            world.home,
            "F-2",
            [{"code": "64624", "nerves": ["superolateral", "superomedial", "inferomedial"]}],
            1,
        ),
        (
            world.other,
            "F-3",
            [{"code": "64640", "nerves": ["lfcn"]}],
            12,
        ),  # costs more than it pays
    )
    for facility, reference, procedures, eaches in recorded:
        stock = world.parts["STT2190-5"]
        cases.record_case(
            db.session,
            user=world.users["admin"],
            data={
                "facility_id": facility.id,
                "date_of_service": date.today(),
                "reference": reference,
                "laterality": "RT",
                "procedures": procedures,
                "supplies": [{"part_id": stock.id, "eaches": eaches}],
            },
        )
    db.session.commit()
    return world


def test_the_margin_page_fits_its_charts_read_and_its_files_open_in_excel(
    page: Page, fresh_db, shoot
):
    """At 1366 px every margin column shows; chart ticks are round and values written on;
    a losing site's bar shows; the XLSX has formats, words, a frozen header and a filter;
    the CSV starts with a byte-order mark; the code mix tells 64624-52 from 64624."""
    world = _finance_world(fresh_db)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, world.users["finance"])
    fit = page.evaluate(MEASURE)
    assert fit["overflow"] <= 0, fit
    assert fit["lastRight"] <= fit["wrapRight"] + 0.5, fit
    assert fit["lastText"] == "Flags"
    expect(page.get_by_role("cell", name="64624-52x1", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="64624x1", exact=True)).to_be_visible()

    page.get_by_label("Group by", exact=True).select_option("site_of_service")
    page.get_by_role("button", name="Apply filters").click()
    site_chart = page.locator("figure.chart").filter(
        has_text="Margin after equipment by site of service"
    )
    ticks = site_chart.locator("svg > text[text-anchor=end]").all_text_contents()
    steps = {int(t.replace("−", "-").replace("$", "").replace(",", "")) for t in ticks}
    step = sorted(steps)[1] - sorted(steps)[0]
    assert all(v % step == 0 for v in steps)
    assert str(step).rstrip("0") in ("1", "2", "25", "5")
    written = site_chart.locator("svg > text[font-size='10']").all_text_contents()
    assert any(t.startswith("−$") for t in written), written  # the loss is written on its bar
    heights = site_chart.locator("svg > rect[fill='#b3261e']").evaluate_all(
        "rects => rects.map(r => r.getBBox().height)"
    )
    assert heights
    assert min(heights) >= 3
    shoot(page, "margin-fit-1366")

    page.goto("/reports/margin?group_by=code_mix")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == [
        LABELS["code_mix"],
        LABELS["cases"],
        LABELS["billed_cases"],
        LABELS["supply_cost"],
    ]
    assert sheet.freeze_panes == "A2"
    assert re.fullmatch(r"A1:[A-Z]+\d+", sheet.auto_filter.ref)
    assert sheet.auto_filter.ref.endswith(str(sheet.max_row - 1))  # the TOTAL row is outside
    money = header.index(LABELS["margin"]) + 1
    percent = header.index(LABELS["margin_pct"]) + 1
    assert sheet.cell(row=2, column=money).number_format == '"$"#,##0.00'
    assert sheet.cell(row=2, column=percent).number_format == "0.00%"
    assert {sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row)} >= {
        "64624-52x1",
        "64624x1",
    }
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    raw = download.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")


def test_the_ecat_file_opens_in_excel_with_its_degree_sign(page: Page, fresh_db):
    """The ECAT CSV starts with a UTF-8 byte-order mark, so Excel reads 'iovera°' right."""
    world = seed_world(fresh_db)
    order = make_order(
        world.home,
        world.users["purchaser"],
        [(world.parts["CRX2111-10"], 1)],
        approver=world.users["purchaser2"],
    )
    sign_in(page, world.users["purchaser"])
    page.goto(f"/orders/{order.id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download ECAT CSV").click()
    raw = download.value.path().read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "iovera° Cartridges" in raw.decode("utf-8-sig")
    sign_out(page)


def test_focus_is_seen_and_phones_do_not_scroll_sideways(browser, base_url, fresh_db):
    """The focus ring is a solid 3 px with 3:1 contrast on the page; at 390 px the stock page
    and its wide table fit (the table scrolls inside its own, focusable, box)."""
    world = seed_world(fresh_db)
    opening_stock(world, world.home, "STT2190-5", "PHONE-1", 5)
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, world.users["materials"])
    page.goto("/stock")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    ring = page.evaluate(FOCUS)
    assert ring["style"] == "solid", ring
    assert ring["width"] >= 2, ring
    colour = tuple(int(c) for c in re.findall(r"\d+", ring["color"])[:3])
    assert contrast(colour, (255, 255, 255)) >= 3
    assert contrast(colour, (246, 247, 249)) >= 3
    assert page.evaluate("() => document.scrollingElement.scrollWidth - innerWidth") <= 0
    wide = page.locator(".table-wrap[role=region]")
    expect(wide.first).to_have_attribute("tabindex", "0")
    context.close()
