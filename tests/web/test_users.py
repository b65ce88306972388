"""User administration pages: add, change and deactivate users within the admin's facilities."""

from __future__ import annotations

from sqlalchemy import select

from supply_app.auth.models import User
from supply_app.auth.service import check_password
from supply_app.extensions import db
from tests.support.factories import make_actor, make_facility
from tests.support.web import sign_in, sign_in_as


def stored(username: str) -> User:
    """The user as the database holds them now."""
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_admin_adds_a_user_who_can_then_sign_in(app):
    """The form creates the user with the facilities ticked and lands on their page."""
    home, other = make_facility(), make_facility()
    boss = sign_in(app, "admin", [home, other])
    page = boss.get("/users").get_data(as_text=True)
    assert "Add a user" in page
    assert other.code in page  # a facility this admin may grant
    response = boss.submit(
        "/users",
        {
            "username": "new.buyer",
            "display_name": "New Buyer",
            "role": "purchaser",
            "facility_ids": [home.id],
            "password": "first-password-1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    created = stored("new.buyer")
    assert created.facility_ids == [home.id]
    assert check_password(db.session, "new.buyer", "first-password-1") is not None
    assert "new.buyer" in boss.get(response.headers["Location"]).get_data(as_text=True)


def test_a_bad_new_user_is_shown_beside_its_field_and_not_saved(app):
    """Short password and no facility: 422, messages on the form, nothing written."""
    home = make_facility()
    boss = sign_in(app, "admin", [home])
    short = boss.submit(
        "/users",
        {"username": "x.y.z", "role": "viewer", "facility_ids": [home.id], "password": "short"},
    )
    assert short.status_code == 422
    assert "10 to 200 characters" in short.get_data(as_text=True)
    nowhere = boss.submit(
        "/users", {"username": "x.y.z", "role": "viewer", "password": "long-enough-pw"}
    )
    assert nowhere.status_code == 422
    assert "at least one facility" in nowhere.get_data(as_text=True)
    assert stored("x.y.z") is None


def test_admin_deactivates_and_changes_a_user(app):
    """Unticking Active switches the user off; role and facilities change in the same save."""
    home, second = make_facility(), make_facility()
    boss = sign_in(app, "admin", [home, second])
    worker = make_actor(app, "viewer", [home])
    page = f"/users/{worker.user.id}"
    response = boss.submit(
        page,
        {
            "display_name": "Moved On",
            "role": "materials",
            "facility_ids": [home.id, second.id],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    changed = stored(worker.user.username)
    assert (changed.active, changed.role, changed.display_name) == (False, "materials", "Moved On")
    assert changed.facility_ids == sorted([home.id, second.id])
    assert worker.get("/api/v1/me").status_code == 401
    assert "deactivated" in boss.get(page).get_data(as_text=True)


def test_users_outside_the_admins_facilities_are_404_and_not_listed(app):
    """A scoped admin neither sees nor opens a user who also belongs elsewhere."""
    home, other = make_facility(), make_facility()
    boss = sign_in(app, "admin", [home])
    local = make_actor(app, "viewer", [home])
    shared = make_actor(app, "viewer", [home, other])
    listing = boss.get("/users").get_data(as_text=True)
    assert local.user.username in listing
    assert shared.user.username not in listing
    assert boss.get(f"/users/{shared.user.id}").status_code == 404
    assert sign_in(app, "purchaser", [home]).get("/users").status_code == 403


def test_an_admin_cannot_deactivate_themself_from_the_page(app):
    """Unticking your own Active box is refused with the reason; you stay active."""
    home = make_facility()
    boss = sign_in(app, "admin", [home])
    response = boss.submit(
        f"/users/{boss.user.id}",
        {"display_name": "Boss", "role": "admin", "facility_ids": [home.id]},
    )
    assert response.status_code == 422
    assert "cannot deactivate yourself" in response.get_data(as_text=True)
    assert stored(boss.user.username).active is True


def test_deactivation_and_a_new_password_end_browser_sessions_for_good(app):
    """A signed-in browser is signed out by deactivation, and reactivation does not revive it;
    a password reset signs browsers out too."""
    home = make_facility()
    admin = make_actor(app, "admin", all_facilities=True)
    worker = sign_in(app, "purchaser", [home])
    path = f"/api/v1/users/{worker.user.id}"
    assert worker.get("/orders").status_code == 200
    assert admin.patch(path, json={"active": False}).status_code == 200
    assert admin.patch(path, json={"active": True}).status_code == 200
    assert "/login" in worker.get("/orders").headers.get("Location", "")
    again = sign_in_as(app, worker.user)
    assert again.get("/orders").status_code == 200
    assert admin.patch(path, json={"password": "brand-new-password"}).status_code == 200
    assert "/login" in again.get("/orders").headers.get("Location", "")


def test_editing_keeps_a_membership_at_a_deactivated_facility(app):
    """The form lists deactivated facilities too, so saving a rename drops no membership."""
    home, closed = make_facility(), make_facility()
    boss = sign_in(app, "admin", [home, closed])
    worker = make_actor(app, "viewer", [home, closed])
    closed.active = False
    db.session.commit()
    page = boss.get(f"/users/{worker.user.id}").get_data(as_text=True)
    assert f"{closed.code} · {closed.name} (deactivated)" in page
    response = boss.submit(
        f"/users/{worker.user.id}",
        {
            "display_name": "Renamed",
            "role": "viewer",
            "facility_ids": [home.id, closed.id],
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    kept = stored(worker.user.username)
    assert kept.display_name == "Renamed"
    assert kept.facility_ids == sorted([home.id, closed.id])


def test_changing_your_own_password_keeps_this_browser_signed_in(app):
    """Your other browsers are signed out; the one you changed it in stays signed in."""
    home = make_facility()
    boss = sign_in(app, "admin", [home])
    elsewhere = sign_in_as(app, boss.user)
    response = boss.submit(
        f"/users/{boss.user.id}",
        {
            "display_name": "Boss",
            "role": "admin",
            "facility_ids": [home.id],
            "active": "y",
            "password": "a-fresh-password-9",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert boss.get("/users").status_code == 200
    assert "/login" in elsewhere.get("/users").headers.get("Location", "")
