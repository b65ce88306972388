"""`supply-app users ...` and `supply-app tokens ...`: people and their API tokens."""

from __future__ import annotations

import click

from supply_app.auth.rules import DISPLAY_NAME, PASSWORD, ROLE, TOKEN_DAYS, TOKEN_NAME, USERNAME
from supply_app.cli import RuleParam, unit_of_work
from supply_app.facilities.rules import FACILITY_CODE

users_cli = click.Group("users", help="Users and their facilities.")
tokens_cli = click.Group("tokens", help="API tokens.")


@users_cli.command("create")
@click.argument("username", type=RuleParam(USERNAME))
@click.option("--role", required=True, type=click.Choice(ROLE.values))
@click.option("--name", "display_name", type=RuleParam(DISPLAY_NAME), help="Display name.")
@click.option(
    "--facility",
    "facility_codes",
    multiple=True,
    type=RuleParam(FACILITY_CODE),
    help="Facility code (repeatable).",
)
@click.option("--all-facilities", is_flag=True, help="Admin and finance only.")
@click.password_option(type=RuleParam(PASSWORD), help="At least 10 characters.")
@unit_of_work()
def users_create(
    username: str,
    role: str,
    display_name: str | None,
    facility_codes: tuple[str, ...],
    all_facilities: bool,
    password: str,
) -> list[str]:
    """Create a user with a role and facility memberships."""
    from supply_app.auth.service import create_user
    from supply_app.extensions import db
    from supply_app.facilities.service import facility_ids_by_code

    user = create_user(
        db.session,
        username=username,
        display_name=display_name or username,
        role=role,
        password=password,
        facility_ids=facility_ids_by_code(db.session, facility_codes),
        all_facilities=all_facilities,
    )
    return [f"created user {user.username} ({user.role})"]


@users_cli.command("deactivate")
@click.argument("username", type=RuleParam(USERNAME))
@unit_of_work()
def users_deactivate(username: str) -> list[str]:
    """Deactivate a user: no more sign-in, and every live API token revoked (audited)."""
    from supply_app.auth.admin import update_user
    from supply_app.auth.service import find_user, lock_user
    from supply_app.extensions import db

    user = find_user(db.session, username)
    lock_user(db.session, user.id)
    update_user(db.session, admin=None, user=user, changes={"active": False})
    return [f"deactivated user {username}"]


@tokens_cli.command("issue")
@click.argument("username", type=RuleParam(USERNAME))
@click.option("--name", default="cli", show_default=True, type=RuleParam(TOKEN_NAME))
@click.option("--days", default=90, show_default=True, type=RuleParam(TOKEN_DAYS))
@unit_of_work()
def tokens_issue(username: str, name: str, days: int) -> list[str]:
    """Issue an API token for a user and print it once."""
    from supply_app.auth.service import find_user, issue_token
    from supply_app.extensions import db

    token, secret = issue_token(
        db.session, user=find_user(db.session, username), name=name, days=days
    )
    return [
        f"token {token.prefix}… for {username}, expires {token.expires_at:%Y-%m-%d}:",
        secret,
    ]


@tokens_cli.command("revoke")
@click.argument("prefix")
@unit_of_work()
def tokens_revoke(prefix: str) -> list[str]:
    """Revoke every token whose shown prefix matches."""
    from supply_app.auth.service import revoke_tokens_by_prefix
    from supply_app.extensions import db

    count = revoke_tokens_by_prefix(db.session, prefix)
    return [f"revoked {count} token(s)"]
