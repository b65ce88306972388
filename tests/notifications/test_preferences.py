"""Opting in and out (API, CLI), the digest as data, and the landing pages that show it."""

from __future__ import annotations

from datetime import date, timedelta

from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.notifications.service import preference
from tests.notifications.conftest import run_cli
from tests.support.inventory import stock
from tests.support.web import sign_in_as


def test_preferences_through_the_api(world):
    """Opt in with an address, opt out, forget the address; bad input changes nothing."""
    me = "/api/v1/notifications/me"
    assert world.viewer.get(me).json == {"email": None, "daily_digest": False}
    refused = world.viewer.client.put(
        me, json={"email": None, "daily_digest": True}, headers=world.viewer.headers()
    )
    assert refused.status_code == 422
    assert "Give an email address" in refused.json["detail"]
    for bad in ("x@y", "a b@example.mil", "v@example.mil\r\nBcc: e@evil.example", "é@example.mil"):
        response = world.viewer.client.put(
            me, json={"email": bad, "daily_digest": True}, headers=world.viewer.headers()
        )
        assert response.status_code == 422, bad
    ok = world.viewer.client.put(
        me, json={"email": "v@example.mil", "daily_digest": True}, headers=world.viewer.headers()
    )
    assert ok.json == {"email": "v@example.mil", "daily_digest": True}
    off = world.viewer.client.put(
        me, json={"email": "v@example.mil", "daily_digest": False}, headers=world.viewer.headers()
    )
    assert off.json["daily_digest"] is False


def test_digest_as_data_and_on_the_landing_pages(app, world):
    """GET /notifications/digest and each role's landing page show the same items."""
    tips = world.parts["STT2309-5"]
    stock(world.facility, tips, 4, 1_000, "SOON-9", expiry=date.today() + timedelta(days=5))
    held = stock(world.facility, tips, 2, 500, "HOLD-9")
    inventory.place_recall(
        db.session,
        source="fda",
        notice_number="Z-9",
        notice_date=date.today(),
        reason="r",
        lots=[{"part_id": tips.id, "lot_number": held.lot_number}],
        actor=None,
    )
    db.session.commit()
    digest = world.materials.get("/api/v1/notifications/digest").json
    keys = [section["key"] for section in digest["sections"]]
    assert keys[:2] == ["on_hold", "expiring"]
    assert digest["count"] == sum(len(s["items"]) for s in digest["sections"])
    assert digest["sections"][0]["items"][0]["path"].startswith("/recalls/")
    for actor, landing in (
        (world.materials, "/stock/alerts"),
        (world.purchaser, "/orders"),
        (world.admin, "/overview"),
        (world.viewer, "/overview"),
    ):
        browser = sign_in_as(app, actor.user)
        html = browser.get(landing).get_data(as_text=True)
        assert "Needs your attention today" in html, landing
        assert "HOLD-9: 2 eaches on hold under recall" in html, landing


def test_cli_set_and_preview(app, world):
    """`notify set` stores the choice (rules applied); `notify preview` prints the digest."""
    name = world.materials.user.username
    result = run_cli(app, "notify", "set", name, "--email", "mm@example.mil", "--digest")
    assert result.exit_code == 0, result.output
    assert "daily digest on" in result.output
    db.session.commit()  # end the read snapshot to see what the command committed
    assert preference(db.session, world.materials.user).daily_digest is True
    assert run_cli(app, "notify", "set", name, "--email", "not-an-address").exit_code == 2
    both = run_cli(app, "notify", "set", name, "--email", "x@example.mil", "--no-email")
    assert both.exit_code == 2
    assert "not both" in both.output
    off = run_cli(app, "notify", "set", name, "--no-email")
    assert "no address, daily digest off" in off.output
    db.session.commit()
    # The digest without an address is refused as the API refuses it, not quietly left off.
    refused = run_cli(app, "notify", "set", name, "--digest")
    assert refused.exit_code != 0
    assert "Give an email address" in refused.output
    db.session.commit()  # a stale read snapshot cannot become a writer on SQLite
    stock(world.facility, world.parts["STT2309-5"], 4, 1_000, "SOON-8", expiry=date.today())
    shown = run_cli(app, "notify", "preview", name)
    assert shown.exit_code == 0, shown.output
    assert "SOON-8: 4 eaches expire on" in shown.output
    assert run_cli(app, "notify", "preview", "nobody-here").exit_code == 1
