"""The facility follows the user; users look after themselves; work waiting on landing pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from supply_app.auth.models import AuditEvent, User
from supply_app.extensions import db
from tests.support.factories import (
    TEST_PASSWORD,
    make_actor,
    make_facility,
    make_order,
    price_part,
    sync_parts,
)
from tests.support.web import sign_in, sign_in_as


def test_the_facility_chosen_follows_the_user_across_pages(app):
    """No page falls back to the first facility once another is chosen; the header says it."""
    first, second = make_facility(), make_facility()
    browser = sign_in(app, "materials", [first, second])
    html = browser.get("/stock").get_data(as_text=True)
    assert f"Working in <strong>{first.code}</strong>" in html
    browser.submit("/stock", {"facility_id": second.id, "next": "/stock/alerts"}, "/facility")
    for page in ("/stock", "/stock/alerts", "/stock/movements", "/orders"):
        html = browser.get(page).get_data(as_text=True)
        assert f"Working in <strong>{second.code}</strong>" in html, page
        assert f"at {second.code}" in html or f"for {second.code}" in html, page
    form = browser.get("/stock/count").get_data(as_text=True)
    assert f'<option selected value="{second.id}">' in form


def test_a_page_for_another_facility_switches_to_it(app):
    """Following a link to another of your facilities makes it the one you work in."""
    first, second = make_facility(), make_facility()
    browser = sign_in(app, "viewer", [first, second])
    browser.get(f"/stock?facility={second.id}")
    assert f"Working in <strong>{second.code}</strong>" in browser.get("/orders").get_data(
        as_text=True
    )


def test_the_default_facility_starts_every_sign_in(app):
    """Saved on the account page (audited), it is where the next sign-in starts."""
    first, second = make_facility(), make_facility()
    actor = make_actor(app, "clinician", [first, second])
    browser = sign_in_as(app, actor.user)
    response = browser.submit(
        "/account", {"default_facility_id": second.id}, "/account/default-facility"
    )
    assert response.status_code == 302
    assert db.session.get(User, actor.user.id).default_facility_id == second.id
    later = sign_in_as(app, actor.user)
    html = later.get("/cases/new").get_data(as_text=True)
    assert re.search(rf'<option data-bill-device="false"[^>]* selected value="{second.id}">', html)
    other = make_facility()
    refused = browser.submit(
        "/account", {"default_facility_id": other.id}, "/account/default-facility"
    )
    assert refused.status_code == 422
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.default_facility"))


def test_users_change_their_own_password(app):
    """The current password first; the new one twice; other sign-ins end; audited."""
    facility = make_facility()
    actor = make_actor(app, "viewer", [facility])
    browser = sign_in_as(app, actor.user)
    elsewhere = sign_in_as(app, actor.user)
    wrong = browser.submit(
        "/account",
        {
            "current_password": "not-it-at-all",
            "password": "a-new-pass-1",
            "confirm": "a-new-pass-1",
        },
        "/account/password",
    )
    assert wrong.status_code == 422
    assert "current password is not right" in wrong.get_data(as_text=True)
    differ = browser.submit(
        "/account",
        {"current_password": TEST_PASSWORD, "password": "a-new-pass-1", "confirm": "a-new-pass-2"},
        "/account/password",
    )
    assert "The two new passwords differ" in differ.get_data(as_text=True)
    done = browser.submit(
        "/account",
        {"current_password": TEST_PASSWORD, "password": "a-new-pass-1", "confirm": "a-new-pass-1"},
        "/account/password",
    )
    assert done.status_code == 302
    assert browser.get("/account").status_code == 200  # this browser signed in anew
    assert elsewhere.get("/account").status_code == 302  # the other one was signed out
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.password_change"))
    assert event.actor_id == actor.user.id


def test_the_user_list_names_facilities_and_a_new_user_starts_with_no_role(app):
    """Facility codes per user; the role must be chosen and the confirmation names it."""
    first, second = make_facility(), make_facility()
    make_actor(app, "purchaser", [first, second])
    admin = sign_in(app, "admin", [first, second], all_facilities=True)
    html = admin.get("/users").get_data(as_text=True)
    assert (
        f'<span class="badge info">{first.code}</span> <span class="badge info">{second.code}'
        in html
    )
    role = html[html.index('<select id="role"') : html.index("</select>", html.index('id="role"'))]
    assert 'value="">Choose a role</option>' in role
    assert "selected" not in role.replace('value="">Choose a role', "")
    base = {"username": "newbie", "facility_ids": [first.id], "password": "long-enough-pass"}
    refused = admin.submit("/users", base)
    assert "Choose the role." in refused.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None
    created = admin.submit("/users", {**base, "role": "clinician"}, follow_redirects=True)
    assert "User newbie created as Clinician: records cases." in created.get_data(as_text=True)


def _submitted_order(facility, part, builder):
    """A submitted order of the builder's at a facility; commit."""
    return make_order(facility, builder, [(part, 2)], submit=True)


def test_purchasers_land_on_orders_awaiting_them_across_their_facilities(app):
    """Submitted orders at any of the purchaser's facilities, not their own, are listed."""
    parts = sync_parts(app)
    price_part(parts["CRX2111-10"], 30_000)
    first, second = make_facility(), make_facility()
    builder = make_actor(app, "purchaser", [first, second]).user
    orders = [_submitted_order(f, parts["CRX2111-10"], builder) for f in (first, second)]
    browser = sign_in(app, "purchaser", [first, second])
    html = browser.get("/orders").get_data(as_text=True)
    assert "Orders awaiting your approval (2)" in html
    for order in orders:
        assert f"Order {order.document_number}" in html
        assert f'href="/orders/{order.id}"' in html
    own = sign_in_as(app, builder).get("/orders").get_data(as_text=True)
    assert "Orders awaiting your approval" not in own  # never your own order
    assert "Orders awaiting your approval" not in browser.get("/stock").get_data(as_text=True)


def test_an_order_file_is_not_offered_before_approval(app):
    """The ECAT file is the vendor's copy: a submitted order has none yet (409 at every door)."""
    parts = sync_parts(app)
    price_part(parts["CRX2111-10"], 30_000)
    facility = make_facility()
    builder = make_actor(app, "purchaser", [facility])
    order = _submitted_order(facility, parts["CRX2111-10"], builder.user)
    browser = sign_in_as(app, builder.user)
    html = browser.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Download ECAT CSV" not in html
    assert "once the order is approved" in html
    assert browser.get(f"/orders/{order.id}/ecat.csv").status_code == 409
    assert builder.get(f"/api/v1/orders/{order.id}/ecat.csv").status_code == 409
