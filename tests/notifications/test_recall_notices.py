"""A recall reaches the holders' inboxes at once (a real SMTP server), or is owed and sent
by the next `notify send` when mail cannot go now; never twice."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from supply_app.auth.models import AuditEvent
from supply_app.extensions import db
from supply_app.notifications.models import Notice
from supply_app.notifications.service import set_preference
from tests.notifications.conftest import run_cli
from tests.support.factories import make_actor, make_facility
from tests.support.inventory import stock
from tests.support.web import sign_in_as


def recall_body(world, notice: str = "PCR-9") -> dict:
    """A recall on lot HOLD-7 of the 309 tip."""
    return {
        "source": "manufacturer",
        "notice_number": notice,
        "notice_date": (date.today() - timedelta(days=1)).isoformat(),
        "reason": "Cartridge valve may stick",
        "lots": [{"part_id": world.parts["STT2309-5"].id, "lot_number": "HOLD-7"}],
    }


def people(app, world):
    """Addresses for the home clinician and materials manager; a clinician elsewhere; one
    clinician at home with no address."""
    stock(world.facility, world.parts["STT2309-5"], 5, 12_500, "HOLD-7")
    clinician = make_actor(app, "clinician", [world.facility])
    elsewhere = make_actor(app, "clinician", [make_facility()])
    silent = make_actor(app, "clinician", [world.facility])
    for actor, address in (
        (clinician, "clin@example.mil"),
        (world.materials, "mm@example.mil"),
        (elsewhere, "far@example.mil"),
    ):
        set_preference(db.session, user=actor.user, email=address, daily_digest=False)
    db.session.commit()
    return clinician, elsewhere, silent


def post_with(target, actor, path, body):
    """POST through another app (its mail settings) with an actor's token."""
    return target.test_client().post(path, json=body, headers=actor.headers())


def test_recall_notice_goes_at_once_to_the_holders(app, world, smtp, app_with):
    """Placing the recall emails the holder's people before the next digest; a person
    without an address is reported; the rerun sends nothing twice."""
    inbox, settings = smtp
    _, _, silent = people(app, world)
    mailer = app_with(**settings)
    response = post_with(mailer, world.materials, "/api/v1/recalls", recall_body(world))
    assert response.status_code == 201, response.json
    assert "sent as this request ends" in response.json["notices"]
    recall_id = response.json["id"]
    (to_clinician,) = inbox.to("clin@example.mil")
    assert to_clinician["Subject"].startswith("RECALL: Manufacturer (Pacira) notice PCR-9")
    text = to_clinician.get_body(("plain",)).get_content()
    assert "ON HOLD everywhere" in text
    assert f"[{world.facility.code}] STT2309-5 lot HOLD-7: 5 eaches on the shelf" in text
    assert inbox.to("mm@example.mil")
    assert not inbox.to("far@example.mil")  # their facility holds none of it
    db.session.commit()  # end the test's read snapshot: see what the other app committed
    detail = world.viewer.get(f"/api/v1/recalls/{recall_id}")
    assert detail.status_code == 200, detail.json
    assert detail.json["notices"].startswith("2 notices sent, ")  # admins and the silent one
    db.session.commit()
    failed = db.session.scalar(
        select(Notice).where(Notice.user_id == silent.user.id, Notice.kind == "recall")
    )
    assert failed.status == "failed"
    assert failed.error == "no email address on file"
    rerun = run_cli(mailer, "notify", "send")
    assert rerun.exit_code == 1
    assert f"recall to {silent.user.username}: no email address on file" in rerun.output
    assert len(inbox.to("clin@example.mil")) == 1
    # Told to set an address, they do: the notice owed goes to it on the next run.
    assert (
        run_cli(
            mailer, "notify", "set", silent.user.username, "--email", "late@example.mil"
        ).exit_code
        == 0
    )
    db.session.commit()
    later = run_cli(mailer, "notify", "send")  # others still have no address: exit 1
    assert f"sent: recall to {silent.user.username} <late@example.mil>" in later.output
    assert len(inbox.to("late@example.mil")) == 1
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "recall.place"))
    assert audit.after["lots"] == [{"part_number": "STT2309-5", "lot_number": "HOLD-7"}]


def test_without_smtp_the_recall_holds_and_the_notice_is_owed(app, world, smtp, app_with):
    """No mail settings: the hold stands, the answer says the notices are owed, and the next
    `notify send` with a server delivers them once."""
    inbox, settings = smtp
    people(app, world)
    response = world.materials.post("/api/v1/recalls", json=recall_body(world))
    assert response.status_code == 201
    detail = world.viewer.get(f"/api/v1/recalls/{response.json['id']}").json
    assert detail["notices"].startswith("0 notices sent")
    mailer = app_with(**settings)
    first = run_cli(mailer, "notify", "send")
    assert "recall to" in first.output
    assert len(inbox.to("clin@example.mil")) == 1
    run_cli(mailer, "notify", "send")
    assert len(inbox.to("clin@example.mil")) == 1


def test_a_recall_request_spends_at_most_its_budget_on_mail(app, world, smtp, app_with):
    """A request that places a recall mails for RECALL_NOTICE_SECONDS at most (here none at
    all, as if the server were slow): the hold stands, the notices stay owed, and the next
    `notify send` delivers them."""
    inbox, settings = smtp
    people(app, world)
    hurried = app_with(**settings, RECALL_NOTICE_SECONDS=0)
    response = post_with(hurried, world.materials, "/api/v1/recalls", recall_body(world))
    assert response.status_code == 201, response.json
    assert not inbox.to("clin@example.mil")
    db.session.commit()
    detail = world.viewer.get(f"/api/v1/recalls/{response.json['id']}").json
    assert detail["notices"].startswith("0 notices sent")
    run_cli(app_with(**settings), "notify", "send")
    assert len(inbox.to("clin@example.mil")) == 1


def test_recall_placed_in_the_browser_is_mailed_at_once(app, world, smtp, app_with):
    """The UI door announces too, and says how the notices went."""
    inbox, settings = smtp
    people(app, world)
    mailer = app_with(**settings)
    with mailer.app_context():
        browser = sign_in_as(mailer, world.materials.user)
        response = browser.submit(
            "/recalls/new",
            {
                "source": "fda",
                "notice_number": "Z-77",
                "notice_date": date.today().isoformat(),
                "reason": "Label error",
                "lots": "STT2309-5 HOLD-7",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        page = browser.get(response.headers["Location"]).get_data(as_text=True)
        db.session.remove()
    assert "Recall notices: " in page
    assert len(inbox.to("clin@example.mil")) == 1
