"""The daily digest through a real SMTP server: content per role, once per facility day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from supply_app.extensions import db
from supply_app.inventory import service as inventory
from supply_app.notifications import delivery
from supply_app.notifications.models import Notice
from supply_app.notifications.service import set_preference
from tests.notifications.conftest import run_cli
from tests.support.factories import make_actor
from tests.support.inventory import stock
from tests.support.smtp import smtp_server

SETUP = datetime(2026, 6, 1, 12, tzinfo=UTC)
TODAY = datetime(2026, 7, 1, 12, tzinfo=UTC)


def subscribe(actor, address: str) -> None:
    """Give a user an address and turn the digest on; commit."""
    set_preference(db.session, user=actor.user, email=address, daily_digest=True)
    db.session.commit()


def stocked_world(world, clock):
    """Expired, expiring, held and below-minimum stock, one order to approve, one overdue."""
    clock.at(SETUP)
    tips, carts = world.parts["STT2309-5"], world.parts["CRX2111-10"]
    stock(world.facility, tips, 10, 25_000, "OLD-1", expiry=date(2026, 6, 15))
    stock(world.facility, tips, 5, 12_500, "SOON-1", expiry=date(2026, 7, 20))
    held = stock(world.facility, tips, 5, 12_500, "HOLD-1", expiry=date(2027, 6, 1))
    inventory.set_par_levels(
        db.session,
        facility=world.facility,
        levels=[{"part_id": carts.id, "min_eaches": 20, "max_eaches": 40}],
        actor=None,
    )
    recall = inventory.place_recall(
        db.session,
        source="manufacturer",
        notice_number="PCR-2026-07",
        notice_date=date(2026, 5, 30),
        reason="Tip seal may leak",
        lots=[{"part_id": tips.id, "lot_number": held.lot_number}],
        actor=None,
    )
    db.session.commit()
    body = world.header(
        required_delivery_date="2026-06-20", lines=[{"part_number": "CRX2111-10", "packs": 2}]
    )
    late = world.purchaser.post("/api/v1/orders", json=body).json
    for actor, step in ((world.purchaser, "submit"), (world.purchaser2, "approve")):
        assert actor.post(f"/api/v1/orders/{late['id']}/{step}").status_code == 200
    late = world.purchaser.get(f"/api/v1/orders/{late['id']}").json
    clock.at(TODAY)
    waiting = world.draft({"STT2190-5": 1}, world.purchaser)
    assert world.purchaser.post(f"/api/v1/orders/{waiting['id']}/submit").status_code == 200
    return recall, late, waiting


def test_no_smtp_settings_says_so_and_exits_1(world, app_with):
    """Without a server nothing is claimed or dropped: the command names the settings."""
    subscribe(world.materials, "materials@example.mil")
    result = run_cli(app_with(), "notify", "send")
    assert result.exit_code == 1
    assert "SMTP is not configured" in result.output
    assert "SUPPLY_MAIL_SERVER" in result.output
    db.session.commit()
    assert db.session.scalars(select(Notice)).all() == []


def test_digest_per_role_sent_once_a_day(world, clock, smtp, app_with):
    """Materials and the approving purchaser each get their items; a rerun sends nothing."""
    inbox, settings = smtp
    recall, late, _ = stocked_world(world, clock)
    subscribe(world.materials, "materials@example.mil")
    subscribe(world.purchaser2, "buyer2@example.mil")
    make_actor(world.admin.client.application, "clinician", [world.facility])  # no address
    mailer = app_with(**settings, PUBLIC_URL="https://supply.example.mil")

    first = run_cli(mailer, "notify", "send")
    assert first.exit_code == 0, first.output
    assert "2 sent" in first.output

    (materials,) = inbox.to("materials@example.mil")
    assert materials["Subject"].startswith("supply_app digest for 2026-07-01")
    assert materials["From"] == "supply-app@example.mil"
    assert materials.get_content_type() == "multipart/alternative"
    text = materials.get_body(("plain",)).get_content()
    html = materials.get_body(("html",)).get_content()
    assert "OLD-1: 10 eaches expired on 2026-06-15" in text
    assert "SOON-1: 5 eaches expire on 2026-07-20 (in 19 days)" in text
    assert f"HOLD-1: 5 eaches on hold under recall {recall.id}" in text
    assert "CRX2111-10: 0 usable eaches, minimum 20" in text
    assert f"Order {late['document_number']} was required by" in text
    assert "awaiting your approval" not in text  # materials managers do not approve
    assert f'href="https://supply.example.mil/recalls/{recall.id}"' in html
    assert "<h2>Expired lots still on the shelf (1)</h2>" in html

    (buyer,) = inbox.to("buyer2@example.mil")
    text = buyer.get_body(("plain",)).get_content()
    assert "Orders awaiting your approval (1)" in text
    assert "SOON-1" not in text  # expiry is for the people who use and move stock

    again = run_cli(mailer, "notify", "send")
    assert again.exit_code == 0, again.output
    assert "0 sent" in again.output
    assert "already sent" in again.output
    assert len(inbox.received) == 2

    clock.at(TODAY + timedelta(days=1))
    next_day = run_cli(mailer, "notify", "send")
    assert "2 sent" in next_day.output
    assert len(inbox.received) == 4


def test_a_run_that_stops_halfway_sends_nothing_twice(world, clock, smtp, app_with, monkeypatch):
    """A crash after a claim: the rerun neither repeats what went nor resends the claimed one
    (it may have gone) until asked; a refused recipient fails and is retried next run."""
    inbox, settings = smtp
    stocked_world(world, clock)
    subscribe(world.materials, "a-materials@example.mil")
    subscribe(world.purchaser2, "b-buyer@example.mil")
    third = make_actor(world.admin.client.application, "viewer", [world.facility])
    subscribe(third, "c-viewer@example.mil")
    mailer = app_with(**settings)
    real_send = delivery._send
    calls = []

    def crash_on_second(connection, email):
        calls.append(email.to)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies between claim and send
        return real_send(connection, email)

    monkeypatch.setattr(delivery, "_send", crash_on_second)
    crashed = run_cli(mailer, "notify", "send")
    assert crashed.exit_code != 0
    monkeypatch.setattr(delivery, "_send", real_send)
    assert [rcpts for rcpts, _ in inbox.received] == [["a-materials@example.mil"]]

    inbox.refuse.add("c-viewer@example.mil")
    rerun = run_cli(mailer, "notify", "send")
    assert rerun.exit_code == 1  # the refused one failed, and the run says so
    assert "c-viewer@example.mil" in rerun.output
    assert "550" in rerun.output
    assert len(inbox.received) == 1  # nothing twice; the claimed one was not resent
    buyer = world.purchaser2.user.username
    # Named at once as unconfirmed, never as "already sent"; too fresh to resend yet.
    assert f"unconfirmed: digest to {buyer}" in rerun.output
    assert f"{buyer}: digest for" not in rerun.output

    clock.at(TODAY + timedelta(minutes=20))
    inbox.refuse.clear()
    later = run_cli(mailer, "notify", "send")
    assert later.exit_code == 1, later.output  # a claim nobody confirmed needs a person
    assert f"unconfirmed: digest to {buyer}" in later.output
    assert "--resend-unconfirmed" in later.output
    assert [r for r, _ in inbox.received][1:] == [["c-viewer@example.mil"]]

    resent = run_cli(mailer, "notify", "send", "--resend-unconfirmed")
    assert resent.exit_code == 0, resent.output
    assert [r for r, _ in inbox.received][2:] == [["b-buyer@example.mil"]]
    assert len(inbox.received) == 3


def test_server_down_marks_failed_and_the_next_run_sends(world, clock, app_with):
    """An unreachable server: exit 1, nothing marked sent; once it is up the digest goes."""
    stocked_world(world, clock)
    subscribe(world.materials, "materials@example.mil")
    with smtp_server() as (_, settings):
        pass  # stopped: its port now refuses connections
    down = run_cli(app_with(**settings), "notify", "send")
    assert down.exit_code == 1
    assert "the SMTP server failed" in down.output
    with smtp_server() as (inbox, settings):
        up = run_cli(app_with(**settings), "notify", "send")
        assert up.exit_code == 0, up.output
        assert len(inbox.to("materials@example.mil")) == 1


def test_digest_day_is_the_facility_day(world, clock, smtp, app_with):
    """In Guam the digest for the 2nd goes at 23:30 UTC on the 1st; a rerun an hour later
    (still the 2nd in Guam) sends nothing."""
    inbox, settings = smtp
    world.facility.time_zone = "Pacific/Guam"
    db.session.commit()
    stocked_world(world, clock)
    subscribe(world.materials, "materials@example.mil")
    mailer = app_with(**settings)
    clock.at(datetime(2026, 7, 1, 15, 30, tzinfo=UTC))  # 01:30 on the 2nd in Guam
    assert run_cli(mailer, "notify", "send").exit_code == 0
    (message,) = inbox.received
    assert "2026-07-02" in message[1]["Subject"]
    clock.at(datetime(2026, 7, 1, 16, 30, tzinfo=UTC))
    assert "already sent" in run_cli(mailer, "notify", "send").output
    assert len(inbox.received) == 1


def test_a_refused_recipient_does_not_stop_the_others(world, clock, smtp, app_with):
    """The server refusing one mailbox fails that digest only; the next one still goes."""
    inbox, settings = smtp
    stocked_world(world, clock)
    subscribe(world.materials, "a-gone@example.mil")
    viewer = make_actor(world.admin.client.application, "viewer", [world.facility])
    subscribe(viewer, "z-here@example.mil")
    inbox.refuse.add("a-gone@example.mil")
    result = run_cli(app_with(**settings), "notify", "send")
    assert result.exit_code == 1
    assert "1 sent, 0 skipped, 1 failed" in result.output
    assert len(inbox.to("z-here@example.mil")) == 1
