"""Plumbing shared by the UI views: role checks, facility scoping, one-commit writes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from flask import g, render_template, request, session
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from supply_app.auth.models import User
from supply_app.auth.service import require_every_facility, require_role
from supply_app.catalog.service import parts_query
from supply_app.clock import local_time, utcnow
from supply_app.db import begin_write
from supply_app.errors import DomainError, NotFound
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_facility, visible_facilities
from supply_app.fields import ID
from supply_app.rules import RuleBroken, WholeNumber
from supply_app.web.plain import plain

T = TypeVar("T")


def me() -> User:
    """The signed-in user as a plain User (not the werkzeug proxy)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def ui_roles(
    *allowed: str, every_facility: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require sign-in and one of the roles; other roles get the friendly 403 page.

    `every_facility` (the reason) marks a change beyond any one facility, as the API's
    guard does: only a user who holds every facility may make it.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            require_role(me(), *allowed)
            if every_facility is not None:
                require_every_facility(me(), every_facility)
            return view(*args, **kwargs)

        return login_required(wrapper)

    return decorate


def has_role(*allowed: str) -> bool:
    """True when the signed-in user holds one of the roles (for showing links and buttons)."""
    return current_user.is_authenticated and current_user.role in allowed


def my_facilities(include_inactive: bool = False) -> list[Facility]:
    """The (active) facilities the signed-in user belongs to, in code order."""
    return list(db.session.scalars(visible_facilities(db.session, me(), include_inactive)))


#: Where the session keeps the facility the user is working in (one per signed-in browser).
CURRENT_FACILITY = "facility_id"


def current_facility() -> Facility | None:
    """The facility the signed-in user is working in, shown in the header on every page.

    The one they last chose in this browser, else their default facility, else the first
    they hold (the header says which, so it is never a silent choice). None: they hold none.
    """
    facilities = my_facilities()
    by_id = {f.id: f for f in facilities}
    wanted = session.get(CURRENT_FACILITY) or me().default_facility_id
    found = by_id.get(wanted) or (facilities[0] if facilities else None)
    if found is not None and session.get(CURRENT_FACILITY) != found.id:
        session[CURRENT_FACILITY] = found.id
    return found


def working_in() -> tuple[Facility | None, list[Facility]]:
    """The header's facility: the current one and all the user may switch to."""
    if not current_user.is_authenticated:
        return None, []
    return current_facility(), my_facilities()


def switch_facility(facility: Facility) -> None:
    """Make facility the one this browser works in (its pages and forms start there)."""
    session[CURRENT_FACILITY] = facility.id


def chosen_facility(arg: str = "facility") -> Facility:
    """The facility named by ?facility=<id> (which becomes the current one), else the current.

    :raises NotFound: the id is not a facility the user belongs to (never 403), or the user
        belongs to none.
    """
    facility_id = query_id(arg)
    if facility_id is not None:
        facility = get_facility(db.session, me(), facility_id)
        if facility.active:
            switch_facility(facility)
        return facility
    facility = current_facility()
    if facility is None:
        raise NotFound("You do not belong to any active facility; ask an administrator.")
    return facility


def query_id(arg: str) -> int | None:
    """A row id from the query string or form (None when absent).

    :raises NotFound: anything but ASCII digits naming a possible id (a look-alike digit
        never names a row).
    """
    raw = request.values.get(arg, "")
    if not raw:
        return None
    try:
        return ID.parse(raw)
    except RuleBroken:
        raise NotFound(f"No such {arg.replace('_', ' ')}.") from None


def query_number(arg: str, rule: WholeNumber, default: int) -> int:
    """A number from the query string by its rule; the default when absent or not one."""
    raw = request.args.get(arg, "")
    try:
        return rule.parse(raw) if raw else default
    except RuleBroken:
        return default


def page(template: str, **context: Any):
    """Render a page; a form shown again after a POST was refused answers 422, or 409 when
    the state of things refused it (a lot on hold, too little stock), as the API does."""
    status = g.get("refused_status", 422) if request.method == "POST" else 200
    return render_template(template, **context), status


def my_today() -> date:
    """Today at the facility the user works in (UTC's date if they hold none)."""
    facility = current_facility()
    return facility.today() if facility else utcnow().date()


def status_filter(statuses: tuple[str, ...]) -> str | None:
    """The ?status= a list is filtered by; None (show all) when absent or not one of statuses."""
    status = request.args.get("status")
    return status if status in statuses else None


def facility_choices(include_inactive: bool = False) -> list[SelectChoice]:
    """Options of the user's facilities for a select field (deactivated ones marked)."""
    return [
        SelectChoice(f.id, f"{f.code} · {f.name}" + ("" if f.active else " (deactivated)"))
        for f in my_facilities(include_inactive)
    ]


def part_choices() -> list[SelectChoice]:
    """Active parts for a select: part number, description and pack size."""
    return [
        SelectChoice(
            p.id, f"{p.part_number} · {p.description} ({p.units_per_pack}/{p.unit_of_issue})"
        )
        for p in db.session.scalars(parts_query())
        if p.active
    ]


def attach_error(
    form: FlaskForm, error: DomainError, aliases: dict[str, str] | None = None
) -> None:
    """Show a domain error next to the field it names, or above the form when none matches.

    aliases maps a service's field name (or its prefix, e.g. "supplies[1]") to a form field.
    """
    name = error.field
    for prefix in sorted(aliases or {}, key=len, reverse=True):
        if name and (name == prefix or name.startswith((f"{prefix}.", f"{prefix}["))):
            name = (aliases or {})[prefix]
            break
    field = _field_named(form, name) if name else None
    if field is not None and name != "csrf_token":
        field.errors = [*field.errors, plain(error.detail)]
    else:
        form.form_errors.append(plain(error.detail))


def _field_named(form: FlaskForm, name: str) -> Any:
    """A form's field by name, rows of a list included ("lines-2-scan")."""
    if name in form._fields:
        return form._fields[name]
    head, _, rest = name.partition("-")
    index, _, sub = rest.partition("-")
    rows = getattr(form._fields.get(head), "entries", None)
    entry = next((e for e in rows or () if e.name == f"{head}-{index}"), None)
    return entry.form._fields.get(sub) if entry is not None else None


def run_write(
    form: FlaskForm, action: Callable[[], T], aliases: dict[str, str] | None = None
) -> T | None:
    """Run one unit of work for a POST and commit once.

    Starts the write transaction first (BEGIN IMMEDIATE on SQLite), so a read-then-write
    service cannot race another request. On a DomainError everything rolls back and the
    message is put next to its field; the caller re-renders the form with the input kept.
    """
    begin_write(db.session)
    try:
        result = action()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        attach_error(form, exc, aliases)
        g.refused_status = 409 if exc.status == 409 else 422
        return None
    return result


def packs_and_eaches(eaches: int, units_per_pack: int) -> str:
    """Eaches shown the way people count them: "3 PK + 2 EA" (or just eaches for singles)."""
    if units_per_pack <= 1:
        return f"{eaches} EA"
    sign = "−" if eaches < 0 else ""
    packs, loose = divmod(abs(eaches), units_per_pack)
    text = f"{sign}{packs} PK" if packs else ""
    if loose or not packs:
        text = f"{text} + {loose} EA" if text else f"{sign}{loose} EA"
    return text


def at(instant: datetime | None, place: Any = None) -> str:
    """A stored UTC instant as wall-clock time where it matters: "2026-06-16 08:30 ChST".

    place is a facility (its time zone) or a zone name; by default the facility the user
    works in (for things no one facility owns, such as a recall). Instants are stored in UTC.
    """
    if instant is None:
        return "—"
    if place is None:
        place = (current_facility() if current_user.is_authenticated else None) or "UTC"
    zone_name = getattr(place, "time_zone", place)
    return local_time(instant, zone_name).strftime("%Y-%m-%d %H:%M %Z")


def days_until(day: date | None, today: date) -> int | None:
    """Whole days from today (a facility's) to a date (negative once past)."""
    if day is None:
        return None
    return (day - today).days
