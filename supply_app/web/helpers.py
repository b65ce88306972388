"""Plumbing shared by the UI views: role checks, facility scoping, one-commit writes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from flask import request
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from supply_app.auth.models import User
from supply_app.auth.service import require_every_facility, require_role
from supply_app.db import begin_write
from supply_app.errors import DomainError, NotFound
from supply_app.extensions import db
from supply_app.facilities.models import Facility
from supply_app.facilities.service import get_facility, visible_facilities

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


def chosen_facility(arg: str = "facility") -> Facility:
    """The facility named by ?facility=<id>, else the user's first one.

    :raises NotFound: the id is not a facility the user belongs to (never 403), or the user
        belongs to none.
    """
    raw = request.values.get(arg, "")
    if raw:
        if not raw.isdigit() or len(raw) > 10:
            raise NotFound("No such facility.")
        return get_facility(db.session, me(), int(raw))
    facilities = my_facilities()
    if not facilities:
        raise NotFound("You do not belong to any active facility; ask an administrator.")
    return facilities[0]


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
    field = form._fields.get(name) if name else None
    if field is not None and name != "csrf_token":
        field.errors = [*field.errors, error.detail]
    else:
        form.form_errors.append(error.detail)


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
        return None
    return result


def parse_money(text: str) -> int | None:
    """Dollars as typed ("1,234.50") to integer cents; None when it is not an amount."""
    try:
        amount = Decimal(text.replace(",", "").replace("$", "").strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return None
    if not Decimal("0") <= amount <= Decimal("10000000"):
        return None
    return int(amount * 100)


def dollars(cents: int | None) -> str:
    """Integer cents as "$1,234.56" (negative as "−$5.00"); "—" for None."""
    if cents is None:
        return "—"
    sign = "−" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}.{part:02d}"


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


def days_until(day: date | None, today: date | None = None) -> int | None:
    """Whole days from today to a date (negative once past)."""
    if day is None:
        return None
    return (day - (today or date.today())).days
