"""The `supply-app` command line: the Flask CLI bound to create_app, plus domain commands."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from supply_app.auth.models import ROLES
from supply_app.errors import DomainError


def main() -> None:
    """Entry point of the `supply-app` console script."""
    from supply_app import create_app

    FlaskGroup(create_app=lambda: create_app(), help="supply_app administration.")(
        prog_name="supply-app"
    )


def fail(message: str) -> None:
    """Print a message to stderr and exit non-zero, rolling back the transaction."""
    from supply_app.extensions import db

    db.session.rollback()
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


catalog_cli = click.Group("catalog", help="The ECAT catalog.")
users_cli = click.Group("users", help="Users and their facilities.")
tokens_cli = click.Group("tokens", help="API tokens.")
prices_cli = click.Group("prices", help="Contract prices.")


@catalog_cli.command("sync")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Catalog JSON (default: catalog/ecat_parts.json).",
)
@with_appcontext
def catalog_sync(path: str | None) -> None:
    """Validate the catalog file, then upsert it in one transaction."""
    from supply_app.catalog.service import load_catalog_file, sync_catalog
    from supply_app.extensions import db

    try:
        report = sync_catalog(
            db.session, load_catalog_file(path or current_app.config["CATALOG_PATH"])
        )
    except DomainError as exc:
        fail(exc.detail)
    db.session.commit()
    if not report.changed:
        click.echo(f"catalog unchanged: {len(report.unchanged)} parts already up to date")
        return
    click.echo(
        f"catalog synced: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.deactivated)} deactivated, {len(report.unchanged)} unchanged"
    )
    for label, numbers in (
        ("created", report.created),
        ("updated", report.updated),
        ("deactivated", report.deactivated),
    ):
        for number in numbers:
            click.echo(f"  {label}: {number}")


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
)
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--facility", "facility_codes", multiple=True, help="Facility code (repeatable).")
@click.option("--all-facilities", is_flag=True, help="Admin and finance only.")
@click.password_option(help="At least 10 characters.")
@with_appcontext
def users_create(
    username: str,
    role: str,
    display_name: str | None,
    facility_codes: tuple[str, ...],
    all_facilities: bool,
    password: str,
) -> None:
    """Create a user with a role and facility memberships."""
    from supply_app.auth.service import create_user
    from supply_app.extensions import db

    try:
        user = create_user(
            db.session,
            username=username,
            display_name=display_name or username,
            role=role,
            password=password,
            facility_ids=_facility_ids(facility_codes),
            all_facilities=all_facilities,
        )
    except DomainError as exc:
        fail(exc.detail)
    db.session.commit()
    click.echo(f"created user {user.username} ({user.role})")


@users_cli.command("deactivate")
@click.argument("username")
@with_appcontext
def users_deactivate(username: str) -> None:
    """Deactivate a user: no more sign-in, and every live API token revoked (audited)."""
    from supply_app.auth.admin import update_user
    from supply_app.auth.service import find_user, lock_user
    from supply_app.extensions import db

    try:
        user = find_user(db.session, username)
        lock_user(db.session, user.id)
        update_user(db.session, admin=None, user=user, changes={"active": False})
    except DomainError as exc:
        fail(exc.detail)
    db.session.commit()
    click.echo(f"deactivated user {username}")


def _facility_ids(codes: tuple[str, ...]) -> list[int]:
    """Resolve facility codes to ids, failing on any unknown code."""
    from sqlalchemy import select

    from supply_app.extensions import db
    from supply_app.facilities.models import Facility

    found = dict(
        db.session.execute(select(Facility.code, Facility.id).where(Facility.code.in_(codes))).all()
    )
    missing = sorted(set(codes) - set(found))
    if missing:
        fail(f"unknown facility code(s): {', '.join(missing)}")
    return [found[code] for code in codes]


@tokens_cli.command("issue")
@click.argument("username")
@click.option("--name", default="cli", show_default=True)
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 366))
@with_appcontext
def tokens_issue(username: str, name: str, days: int) -> None:
    """Issue an API token for a user and print it once."""
    from supply_app.auth.service import find_user, issue_token
    from supply_app.extensions import db

    try:
        token, secret = issue_token(
            db.session, user=find_user(db.session, username), name=name, days=days
        )
    except DomainError as exc:
        fail(exc.detail)
    db.session.commit()
    click.echo(f"token {token.prefix}… for {username}, expires {token.expires_at:%Y-%m-%d}:")
    click.echo(secret)


@tokens_cli.command("revoke")
@click.argument("prefix")
@with_appcontext
def tokens_revoke(prefix: str) -> None:
    """Revoke every token whose shown prefix matches."""
    from sqlalchemy import select

    from supply_app.auth.models import ApiToken
    from supply_app.auth.service import revoke_token
    from supply_app.extensions import db

    tokens = db.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).all()
    if not tokens:
        fail(f"no token with prefix {prefix!r}")
    for token in tokens:
        revoke_token(db.session, token=token, actor=None)
    db.session.commit()
    click.echo(f"revoked {len(tokens)} token(s)")


@prices_cli.command("set")
@click.argument("part_number")
@click.argument("unit_price")
@click.option(
    "--from",
    "effective_from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day (default today).",
)
@click.option("--to", "effective_to", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--note", default=None)
@with_appcontext
def prices_set(
    part_number: str, unit_price: str, effective_from, effective_to, note: str | None
) -> None:
    """Set the contract price of one pack (unit of issue) of a part, e.g. 1234.50."""
    import marshmallow as ma

    from supply_app.catalog.service import get_part_by_number, set_contract_price
    from supply_app.extensions import db
    from supply_app.http import Money

    try:
        cents = Money().deserialize(unit_price)
        price = set_contract_price(
            db.session,
            part=get_part_by_number(db.session, part_number),
            unit_price_cents=cents,
            effective_from=effective_from.date() if effective_from else date.today(),
            effective_to=effective_to.date() if effective_to else None,
            note=note,
            actor=None,
        )
    except ma.ValidationError as exc:
        fail(f"unit_price: {' '.join(exc.messages)}")
    except DomainError as exc:
        fail(exc.detail)
    db.session.commit()
    click.echo(
        f"{part_number}: {unit_price} per {price.part.unit_of_issue} from "
        f"{price.effective_from.isoformat()}"
    )


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load demo facilities, users, tokens and clearly labelled demo prices (idempotent)."""
    from supply_app.demo import load_demo
    from supply_app.extensions import db

    lines = load_demo(db.session)
    db.session.commit()
    for line in lines:
        click.echo(line)


def register_commands(app: Flask) -> None:
    """Attach the command groups to the app's CLI."""
    from supply_app.cases.cli import cases_cli
    from supply_app.inventory.cli import inventory_cli
    from supply_app.ordering.cli import orders_cli

    for command in (
        catalog_cli,
        users_cli,
        tokens_cli,
        prices_cli,
        demo,
        inventory_cli,
        orders_cli,
        cases_cli,
    ):
        app.cli.add_command(command)
